from enum import StrEnum


class InputKind(StrEnum):
    RANDOM = "random"
    SAMPLE = "sample"
    UPLOAD = "upload"

    def __str__(self) -> str:
        return str(self.value)
