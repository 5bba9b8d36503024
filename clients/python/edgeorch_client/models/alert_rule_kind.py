from enum import StrEnum


class AlertRuleKind(StrEnum):
    DEADLINE_MISS_RATE_ABOVE = "deadline_miss_rate_above"
    OFFLINE_FOR = "offline_for"
    TEMPERATURE_ABOVE = "temperature_above"
    THROTTLED_FOR = "throttled_for"

    def __str__(self) -> str:
        return str(self.value)
