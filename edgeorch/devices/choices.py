"""Status values of devices and enrollment tokens."""

from django.db import models


class DeviceStatus(models.TextChoices):
    PENDING = "pending", "Enrolled, never connected"
    ONLINE = "online", "Online"
    OFFLINE = "offline", "Offline"
    REVOKED = "revoked", "Revoked"


class DeviceRole(models.TextChoices):
    END_DEVICE = "end", "End device"
    EDGE = "edge", "Edge server"
