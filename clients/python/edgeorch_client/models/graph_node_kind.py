from enum import StrEnum


class GraphNodeKind(StrEnum):
    INPUT = "input"
    OP = "op"
    OUTPUT = "output"

    def __str__(self) -> str:
        return str(self.value)
