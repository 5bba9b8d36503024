from enum import StrEnum


class MeasurementKind(StrEnum):
    PROBE = "probe"
    PROFILE = "profile"

    def __str__(self) -> str:
        return str(self.value)
