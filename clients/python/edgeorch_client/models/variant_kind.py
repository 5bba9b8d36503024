from enum import StrEnum


class VariantKind(StrEnum):
    INT8 = "int8"
    INT8_DYNAMIC = "int8-dynamic"

    def __str__(self) -> str:
        return str(self.value)
