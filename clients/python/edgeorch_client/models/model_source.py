from enum import StrEnum


class ModelSource(StrEnum):
    BUILTIN = "builtin"
    UPLOAD = "upload"

    def __str__(self) -> str:
        return str(self.value)
