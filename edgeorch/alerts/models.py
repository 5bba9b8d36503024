"""Alert rules on the fleet's telemetry, and the alerts they raise."""

from __future__ import annotations

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from .choices import OPEN, AlertState, RuleKind


class Rule(models.Model):
    """An operator's condition on every device (or one), evaluated by the workers every few seconds.

    ``threshold``: °C for ``temperature_above``, a fraction (0..1) for ``deadline_miss_rate_above``.
    ``duration_s``: how long a device must have been throttled or offline; for the miss rate, the window the
    rate is measured over. Delivery (optional): ``emails`` through Django's mail backend and ``webhook_url``
    by a plain HTTP POST of JSON, each when an alert fires and when it resolves.
    """

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=32, choices=RuleKind.choices)
    threshold = models.FloatField(null=True, blank=True)
    duration_s = models.FloatField(null=True, blank=True)
    device = models.ForeignKey(
        "devices.Device",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Only this device; empty: every device",
    )
    enabled = models.BooleanField(default=True)
    emails = models.JSONField(
        default=list, blank=True, help_text="Addresses told when an alert fires/resolves"
    )
    webhook_url = models.URLField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class TransitionRefused(Exception):
    """An alert asked to move to a state its current one does not lead to."""


class Alert(models.Model):
    """One episode of a rule's condition on one device: fired, maybe acknowledged, then resolved.

    At most one alert per (rule, device) is open (fired or acknowledged): the database refuses a second, so
    two evaluations racing cannot raise the same alert twice. ``deliveries`` records each delivery attempt
    (channel, event, ok, error): a receiver that fails is said here, never in the evaluation.
    """

    rule = models.ForeignKey(Rule, on_delete=models.CASCADE, related_name="alerts")
    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=12, choices=AlertState.choices, default=AlertState.FIRED)
    value = models.FloatField(null=True, blank=True, help_text="What was measured when it fired")
    message = models.TextField()
    fired_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    deliveries = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-fired_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "device"],
                condition=Q(state__in=sorted(OPEN)),
                name="alerts_one_open_per_rule_device",
            )
        ]
        indexes = [models.Index(fields=["state", "fired_at"])]

    def __str__(self) -> str:
        return f"{self.rule} on {self.device_id} ({self.state})"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN

    def acknowledge(self, user) -> None:
        """fired -> acknowledged. Locked: an operator's click and the evaluator resolving it may race, and an
        acknowledgement must not reopen a resolved alert."""
        with transaction.atomic():
            current = Alert.objects.select_for_update().get(pk=self.pk)
            if current.state != AlertState.FIRED:
                raise TransitionRefused(f"this alert is {current.state}; only a fired alert is acknowledged")
            self.state, self.acknowledged_at, self.acknowledged_by = (
                AlertState.ACKNOWLEDGED,
                timezone.now(),
                user,
            )
            self.save(update_fields=["state", "acknowledged_at", "acknowledged_by"])

    def resolve(self) -> bool:
        """fired/acknowledged -> resolved; False when it was resolved already (by a racing evaluation)."""
        with transaction.atomic():
            current = Alert.objects.select_for_update().get(pk=self.pk)
            if current.state not in OPEN:
                return False
            self.state, self.resolved_at = AlertState.RESOLVED, timezone.now()
            self.acknowledged_at, self.acknowledged_by_id = (
                current.acknowledged_at,
                current.acknowledged_by_id,
            )
            self.save(update_fields=["state", "resolved_at"])
        return True
