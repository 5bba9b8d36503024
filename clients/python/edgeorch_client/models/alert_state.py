from enum import StrEnum


class AlertState(StrEnum):
    ACKNOWLEDGED = "acknowledged"
    FIRED = "fired"
    RESOLVED = "resolved"

    def __str__(self) -> str:
        return str(self.value)
