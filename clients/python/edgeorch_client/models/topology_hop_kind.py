from enum import StrEnum


class TopologyHopKind(StrEnum):
    ACTIVATION = "activation"
    INPUT = "input"
    RESULT = "result"

    def __str__(self) -> str:
        return str(self.value)
