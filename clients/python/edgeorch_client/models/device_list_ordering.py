from enum import StrEnum


class DeviceListOrdering(StrEnum):
    ENROLLED_AT = "enrolled_at"
    LAST_SEEN = "last_seen"
    NAME = "name"
    PROFILE = "profile"
    ROLE = "role"
    STATUS = "status"
    VALUE_1 = "-name"
    VALUE_6 = "-last_seen"
    VALUE_8 = "-enrolled_at"

    def __str__(self) -> str:
        return str(self.value)
