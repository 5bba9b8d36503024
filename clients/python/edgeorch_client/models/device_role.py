from enum import StrEnum


class DeviceRole(StrEnum):
    EDGE = "edge"
    END = "end"

    def __str__(self) -> str:
        return str(self.value)
