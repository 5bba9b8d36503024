from enum import StrEnum


class FailoverPolicy(StrEnum):
    COLD = "cold"
    NONE = "none"
    WARM = "warm"

    def __str__(self) -> str:
        return str(self.value)
