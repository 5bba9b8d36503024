"""What a rule watches and the states an alert goes through."""

from django.db import models


class RuleKind(models.TextChoices):
    """The condition a rule fires on; ``threshold`` and ``duration_s`` mean what each says."""

    TEMPERATURE_ABOVE = "temperature_above", "Temperature above"
    THROTTLED_FOR = "throttled_for", "Throttled for longer than"
    OFFLINE_FOR = "offline_for", "Offline for longer than"
    DEADLINE_MISS_RATE_ABOVE = "deadline_miss_rate_above", "Deadline-miss rate above"


# Which of a rule's numbers each kind needs (the API refuses a rule without them).
NEEDS_THRESHOLD = {RuleKind.TEMPERATURE_ABOVE, RuleKind.DEADLINE_MISS_RATE_ABOVE}
NEEDS_DURATION = {RuleKind.THROTTLED_FOR, RuleKind.OFFLINE_FOR, RuleKind.DEADLINE_MISS_RATE_ABOVE}


class AlertState(models.TextChoices):
    """fired -> acknowledged (an operator saw it) -> resolved (the condition cleared); fired -> resolved."""

    FIRED = "fired", "Fired"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"


OPEN = frozenset({AlertState.FIRED, AlertState.ACKNOWLEDGED})
