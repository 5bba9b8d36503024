from enum import StrEnum


class DeviceListStatus(StrEnum):
    OFFLINE = "offline"
    ONLINE = "online"
    PENDING = "pending"
    REVOKED = "revoked"

    def __str__(self) -> str:
        return str(self.value)
