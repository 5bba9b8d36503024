"""Devices, their credentials, and the enrollment tokens that create them."""

from __future__ import annotations

import hashlib
import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from .choices import DeviceRole, DeviceStatus


def hash_secret(secret: str) -> str:
    """Credentials and tokens are 256-bit random strings, so a plain SHA-256 is a sufficient one-way hash."""
    return hashlib.sha256(secret.encode()).hexdigest()


# A device tag: letters, digits and ``.-_:``, 1 to 32 of them; a device has at most ``MAX_TAGS``.
TAG_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,31}$"
MAX_TAGS = 16


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class EnrollmentToken(models.Model):
    """A token an operator hands to a device so that it can enroll once (or ``max_uses`` times).

    Only the hash is stored; the plain token is shown once, when it is created.
    """

    name = models.CharField(max_length=100, blank=True)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(
        max_length=8, editable=False, help_text="First characters, to tell tokens apart"
    )
    max_uses = models.PositiveIntegerField(default=1)
    uses = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField()
    revoked = models.BooleanField(default=False)
    profile = models.CharField(
        max_length=64, blank=True, help_text="Device profile given to devices it enrolls"
    )
    role = models.CharField(max_length=8, choices=DeviceRole.choices, default=DeviceRole.END_DEVICE)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name or 'token'} ({self.prefix}…)"

    @property
    def expired(self) -> bool:
        return timezone.now() >= self.expires_at

    @property
    def used_up(self) -> bool:
        return self.uses >= self.max_uses

    @property
    def usable(self) -> bool:
        return not (self.revoked or self.expired or self.used_up)

    def refusal(self) -> str | None:
        """Why this token cannot enroll a device now, or None if it can."""
        if self.revoked:
            return "This enrollment token has been revoked."
        if self.expired:
            return f"This enrollment token expired at {self.expires_at:%Y-%m-%d %H:%M} UTC."
        if self.used_up:
            return f"This enrollment token has been used up ({self.uses} of {self.max_uses} uses)."
        return None


class Device(models.Model):
    """One device in the fleet, running one agent.

    ``status`` is ONLINE while the agent sends; the liveness task marks it OFFLINE after
    ``LIVENESS_TIMEOUT_S`` of silence, keeping ``last_seen``. A revoked device keeps its history but can never
    connect again.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100)
    role = models.CharField(max_length=8, choices=DeviceRole.choices, default=DeviceRole.END_DEVICE)
    profile = models.CharField(max_length=64, blank=True)
    tags = models.JSONField(
        default=list, blank=True, help_text='Operator\'s labels, e.g. ["lab", "floor-2"] (``TAG_PATTERN``)'
    )
    status = models.CharField(max_length=8, choices=DeviceStatus.choices, default=DeviceStatus.PENDING)
    credential_hash = models.CharField(max_length=64, editable=False)
    enrolled_with = models.ForeignKey(EnrollmentToken, null=True, blank=True, on_delete=models.SET_NULL)
    enrolled_at = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(null=True, blank=True)
    connected_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # What the agent said about itself in its last hello.
    hostname = models.CharField(max_length=255, blank=True)
    agent_version = models.CharField(max_length=32, blank=True)
    inventory = models.JSONField(default=dict, blank=True)
    dataplane_host = models.CharField(max_length=255, blank=True)
    dataplane_port = models.PositiveIntegerField(null=True, blank=True)
    # Its inference endpoint (docs/serving.md), where open: the control plane's /v2 proxy forwards there.
    serve_host = models.CharField(max_length=255, blank=True)
    serve_port = models.PositiveIntegerField(null=True, blank=True)
    # The Channels channel of the live agent connection, so the control plane can talk to the agent.
    channel_name = models.CharField(max_length=200, blank=True, editable=False)
    # Highest telemetry seq stored, and how many records the agent reported dropping (buffer overflow).
    last_seq = models.BigIntegerField(default=-1)
    dropped_records = models.BigIntegerField(default=0)

    # Not stored: set by ``services.record_hello`` to the channel of the connection a new one replaces.
    replaced_channel = ""

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["status", "last_seen"])]

    def __str__(self) -> str:
        return self.name

    @property
    def is_revoked(self) -> bool:
        return self.status == DeviceStatus.REVOKED

    def check_credential(self, secret: str) -> bool:
        return secrets.compare_digest(self.credential_hash, hash_secret(secret))
