from enum import StrEnum


class AlertStateEnum(StrEnum):
    ACKNOWLEDGED = "acknowledged"
    FIRED = "fired"
    RESOLVED = "resolved"

    def __str__(self) -> str:
        return str(self.value)
