"""Choice values of the plans app."""

from django.db import models


class ProfileSource(models.TextChoices):
    MEASURED = "measured", "Measured on the device"
    EMULATED = "emulated", "Emulated (a device profile slowing a faster host)"


class TimeSource(models.TextChoices):
    """Where a device's block times in a plan came from, best first."""

    MEASURED = "measured", "Its own profile of this model"
    PREDICTED = "predicted", "The latency regression over stored profiles"
    ESTIMATED = "estimated", "MACs over an effective MAC rate"
