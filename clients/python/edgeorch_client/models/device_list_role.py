from enum import StrEnum


class DeviceListRole(StrEnum):
    EDGE = "edge"
    END = "end"

    def __str__(self) -> str:
        return str(self.value)
