from enum import StrEnum


class CutKind(StrEnum):
    PAIR = "pair"
    SINGLE = "single"

    def __str__(self) -> str:
        return str(self.value)
