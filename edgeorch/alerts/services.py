"""Alerts: evaluating the operators' rules on the fleet, acknowledging alerts, and telling people.

``evaluate_rules`` runs on the workers every ``ALERT_EVALUATION_INTERVAL_S`` (``alerts.evaluate``): each
enabled rule finds the devices its condition holds on now; a device without an open alert of the rule gets one
(``alert.fired``), an open alert whose device no longer matches is resolved (``alert.resolved``). A device
whose state is unknown for the rule (a temperature rule and a device that is not online: its last reading is
stale) keeps its open alert as it is, and so does a device whose temperature is back below the threshold by
less than ``TEMPERATURE_HYSTERESIS_C`` (a reading hovering at the threshold would fire and resolve, and email
people, at every evaluation). Each change is pushed to the dashboards and, when the rule says so,
delivered by email and webhook from its own task (``alerts.deliver``): a receiver that is down is recorded on
the alert and never holds up or fails the evaluation of another rule.

Reads stay small whatever the history stored: a device's latest record is found by its ``last_seq`` (the
unique (device, seq) index), windows are read through the (device, ts) index, and frames of sessions that
finished before the window are never read.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from edgeorch import events
from edgeorch.celery import app
from edgeorch.devices.choices import DeviceStatus
from edgeorch.devices.models import Device
from edgeorch.jobs.choices import ACTIVE
from edgeorch.jobs.models import Frame, Session
from edgeorch.telemetry.models import TelemetryRecord

from .choices import OPEN, AlertState, RuleKind
from .models import Alert, Rule, TransitionRefused

log = logging.getLogger(__name__)

THROTTLED = 1.05  # cpu.throttle_factor above this: the clock runs visibly below its maximum (as the pages)
THROTTLE = "cpu.throttle_factor"
TEMPERATURE_HYSTERESIS_C = 2.0  # an open temperature alert resolves this far below its threshold
DELIVERED = ("fired", "resolved")
MIN_FRAMES = 5  # a miss rate over fewer frames than this is noise, not a condition


@dataclass
class Finding:
    """What a rule found on one device: the value measured and the sentence an operator reads."""

    value: float
    message: str


@dataclass
class Check:
    """One rule's answer now: the devices it holds on, and those whose open alert stays as it is (``keep``:
    their state is unknown, or not clearly over)."""

    firing: dict[str, Finding] = field(default_factory=dict)
    keep: set[str] = field(default_factory=set)


# --- evaluating ---------------------------------------------------------------------------------------


def evaluate_rules(now: datetime | None = None) -> dict[str, int]:
    """Evaluate every enabled rule once; resolve the open alerts of disabled rules. Idempotent."""
    now = now or timezone.now()
    latest = _Latest()
    fired = resolved = failed = 0
    for rule in Rule.objects.filter(enabled=True).select_related("device"):
        try:
            check = _CHECKS[rule.kind](rule, now, latest)
            f, r = _apply(rule, check)
        except Exception:  # one broken rule must not keep the others from being evaluated
            log.exception("evaluating alert rule %s (%s) failed", rule.pk, rule.name)
            failed += 1
            continue
        fired, resolved = fired + f, resolved + r
    for alert in Alert.objects.filter(state__in=OPEN, rule__enabled=False).select_related("rule", "device"):
        resolved += _resolve(alert)
    return {"fired": fired, "resolved": resolved, "failed": failed}


def _apply(rule: Rule, check: Check) -> tuple[int, int]:
    open_alerts = {str(a.device_id): a for a in rule.alerts.filter(state__in=OPEN).select_related("device")}
    fired = sum(_fire(rule, d, f) for d, f in check.firing.items() if d not in open_alerts)
    resolved = sum(
        _resolve(a) for d, a in open_alerts.items() if d not in check.firing and d not in check.keep
    )
    return fired, resolved


def _fire(rule: Rule, device_id: str, finding: Finding) -> int:
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                rule=rule, device_id=device_id, value=finding.value, message=finding.message
            )
    except IntegrityError:  # another evaluation raised it a moment ago (one open alert per rule and device)
        return 0
    _announce(Alert.objects.select_related("rule", "device").get(pk=alert.pk), "fired")
    return 1


def _resolve(alert: Alert) -> int:
    if not alert.resolve():
        return 0
    _announce(alert, "resolved")
    return 1


def _announce(alert: Alert, event: str) -> None:
    events.publish(f"alert.{event}", {**alert_row(alert), "open": open_count()})
    # People are told when an alert fires and when it resolves; an acknowledgement is shown, not sent.
    if event in DELIVERED and (alert.rule.emails or alert.rule.webhook_url):
        app.tasks["alerts.deliver"].apply_async_on_commit((alert.pk, event))


# --- conditions ---------------------------------------------------------------------------------------


class _Latest:
    """Each watched device's newest record, read once per evaluation for all the rules that need it."""

    def __init__(self) -> None:
        self._rows: dict[str, dict] | None = None

    def metrics(self) -> dict[str, dict]:
        if self._rows is None:
            # Each online device's row through the unique (device, seq) index: one probe per device.
            records = (
                TelemetryRecord.objects.filter(seq=F("device__last_seq"), device__status=DeviceStatus.ONLINE)
                .order_by()
                .values_list("device_id", "metrics")
            )
            self._rows = {str(device_id): metrics for device_id, metrics in records}
        return self._rows


def _watched(rule: Rule, ids):
    """The ids a rule looks at: its own device's, or all."""
    return [i for i in ids if rule.device_id is None or i == str(rule.device_id)]


def _unknown(rule: Rule) -> set[str]:
    """Devices not online: their telemetry is stale, so a telemetry rule neither fires nor resolves there."""
    devices = Device.objects.exclude(status__in=[DeviceStatus.ONLINE, DeviceStatus.REVOKED])
    if rule.device_id is not None:
        devices = devices.filter(pk=rule.device_id)
    return {str(pk) for pk in devices.values_list("pk", flat=True)}


def check_temperature(rule: Rule, now: datetime, latest: _Latest) -> Check:
    check = Check(keep=_unknown(rule))
    rows = latest.metrics()
    for device_id in _watched(rule, rows):
        temp = events.compact_metrics(rows[device_id]).get(events.TEMP_MAX)
        if temp is None or rule.threshold is None:
            continue
        if temp > rule.threshold:
            check.firing[device_id] = Finding(temp, f"{temp:.1f} °C, above {rule.threshold:g} °C")
        elif temp > rule.threshold - TEMPERATURE_HYSTERESIS_C:
            check.keep.add(device_id)
    return check


def check_throttled(rule: Rule, now: datetime, latest: _Latest) -> Check:
    """Throttled now, at every record of the last ``duration_s``, and reporting since before then."""
    check = Check(keep=_unknown(rule))
    rows = latest.metrics()
    hot = {d: float(rows[d][THROTTLE]) for d in _watched(rule, rows) if rows[d].get(THROTTLE, 0) > THROTTLED}
    if not hot:
        return check
    since = now - timedelta(seconds=rule.duration_s or 0)
    cooler = (
        TelemetryRecord.objects.filter(device_id__in=list(hot), ts__gt=since)
        .filter(Q(**{f"metrics__{THROTTLE}__lte": THROTTLED}) | ~Q(metrics__has_key=THROTTLE))
        .order_by()
        .values_list("device_id", flat=True)
        .distinct()
    )
    cooled = {str(d) for d in cooler}
    for device_id, factor in hot.items():
        if (
            device_id in cooled
            or not TelemetryRecord.objects.filter(device_id=device_id, ts__lte=since).exists()
        ):
            continue
        check.firing[device_id] = Finding(
            factor, f"throttled (running {factor:.2f}x slower) for over {rule.duration_s:g} s"
        )
    return check


def check_offline(rule: Rule, now: datetime, latest: _Latest) -> Check:
    """Marked offline by the liveness check and silent for longer than ``duration_s``."""
    since = now - timedelta(seconds=rule.duration_s or 0)
    devices = Device.objects.filter(status=DeviceStatus.OFFLINE, last_seen__lt=since)
    if rule.device_id is not None:
        devices = devices.filter(pk=rule.device_id)
    check = Check()
    for pk, last_seen in devices.values_list("pk", "last_seen"):
        assert last_seen is not None  # last_seen__lt excludes null
        silent = (now - last_seen).total_seconds()
        check.firing[str(pk)] = Finding(silent, f"offline, silent for {silent:.0f} s")
    return check


def check_deadline_misses(rule: Rule, now: datetime, latest: _Latest) -> Check:
    """Of the frames its sessions' sources reported over the last ``duration_s``, the share that missed."""
    since = now - timedelta(seconds=rule.duration_s or 0)
    # The sessions that can have frames in the window first (active, or ended inside it), then their frames
    # through the (session, request_id) index: frames of older sessions are never read.
    sessions = Session.objects.filter(Q(state__in=ACTIVE) | Q(finished_at__gte=since))
    if rule.device_id is not None:
        sessions = sessions.filter(source_id=rule.device_id)
    session_ids = list(sessions.order_by().values_list("pk", flat=True))
    if not session_ids:
        return Check()
    frames = Frame.objects.filter(
        session_id__in=session_ids, received_at__gte=since, deadline_met__isnull=False
    )
    counts = (
        frames.order_by()
        .values("session__source_id")
        .annotate(total=Count("id"), missed=Count("id", filter=Q(deadline_met=False)))
    )
    check = Check()
    for row in counts:
        rate = row["missed"] / row["total"]
        if row["total"] >= MIN_FRAMES and rule.threshold is not None and rate > rule.threshold:
            message = (
                f"{rate:.0%} of {row['total']} frames missed their deadline in the last "
                f"{rule.duration_s:g} s (above {rule.threshold:.0%})"
            )
            check.firing[str(row["session__source_id"])] = Finding(rate, message)
    return check


_CHECKS: dict[str, Callable[[Rule, datetime, _Latest], Check]] = {
    RuleKind.TEMPERATURE_ABOVE: check_temperature,
    RuleKind.THROTTLED_FOR: check_throttled,
    RuleKind.OFFLINE_FOR: check_offline,
    RuleKind.DEADLINE_MISS_RATE_ABOVE: check_deadline_misses,
}


# --- people -------------------------------------------------------------------------------------------


def acknowledge_alert(alert: Alert, user) -> Alert:
    """An operator has seen it: fired -> acknowledged (TransitionRefused otherwise), pushed live."""
    alert.acknowledge(user)
    _announce(alert, "acknowledged")
    return alert


def open_count() -> int:
    return Alert.objects.filter(state__in=OPEN).count()


def alert_row(alert: Alert) -> dict:
    """An alert as the API, the events and the webhook say it."""
    return {
        "id": alert.pk,
        "rule": alert.rule_id,
        "rule_name": alert.rule.name,
        "kind": alert.rule.kind,
        "device": str(alert.device_id),
        "device_name": alert.device.name,
        "state": alert.state,
        "value": alert.value,
        "message": alert.message,
        "fired_at": alert.fired_at.isoformat(),
        "acknowledged_at": alert.acknowledged_at.isoformat() if alert.acknowledged_at else None,
        "acknowledged_by": alert.acknowledged_by.get_username() if alert.acknowledged_by else None,
        "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None,
    }


# --- delivery -----------------------------------------------------------------------------------------


def deliver(alert: Alert, event: str) -> list[dict]:
    """Tell the rule's email recipients and webhook that ``alert`` was ``event`` (fired, resolved...).

    Never raises for a receiver's failure: each attempt (ok or the reason it failed) is appended to
    ``alert.deliveries`` and returned."""
    rule = alert.rule
    attempts = []
    if rule.emails:
        attempts.append(_attempt("email", event, lambda: _email(alert, event)))
    if rule.webhook_url:
        attempts.append(_attempt("webhook", event, lambda: _webhook(alert, event)))
    if attempts:
        with transaction.atomic():  # the fired and resolved deliveries of one alert may run at once
            current = Alert.objects.select_for_update().get(pk=alert.pk)
            current.deliveries = [*current.deliveries, *attempts]
            current.save(update_fields=["deliveries"])
        alert.deliveries = current.deliveries
        # Only the deliveries are news here: the state read under the lock may be overtaken by an
        # evaluation committing after it, so pages take the state (and the badge its count) from the others.
        events.publish("alert.delivered", {**alert_row(current), "deliveries": current.deliveries})
    return attempts


def _attempt(channel: str, event: str, send) -> dict:
    record = {"channel": channel, "event": event, "at": timezone.now().isoformat(), "ok": True, "error": ""}
    try:
        send()
    except Exception as exc:  # any failure of a receiver is recorded, whatever its kind
        log.warning("alert %s delivery by %s failed: %s", event, channel, exc)
        record.update(ok=False, error=f"{type(exc).__name__}: {exc}"[:500])
    return record


def _subject(alert: Alert, event: str) -> str:
    return f"[edgeorch] {event}: {alert.rule.name} on {alert.device.name}"


def _email(alert: Alert, event: str) -> None:
    row = alert_row(alert)
    body = "\n".join(
        [
            f"{alert.rule.name} {event} on {alert.device.name}: {alert.message}",
            f"Fired at {row['fired_at']}"
            + (f", resolved at {row['resolved_at']}" if row["resolved_at"] else ""),
            f"Alerts: {settings.PUBLIC_URL or ''}/alerts/",
        ]
    )
    send_mail(_subject(alert, event), body, settings.DEFAULT_FROM_EMAIL, alert.rule.emails)


def _webhook(alert: Alert, event: str) -> None:
    body = json.dumps({"event": event, "alert": alert_row(alert)}).encode()
    request = urllib.request.Request(
        alert.rule.webhook_url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "edgeorch-alerts"},
    )
    with urllib.request.urlopen(request, timeout=settings.ALERT_WEBHOOK_TIMEOUT_S) as response:
        response.read(1024)  # urlopen raises HTTPError for an answer of 400 and above


__all__ = ["TransitionRefused", "AlertState", "acknowledge_alert", "deliver", "evaluate_rules"]
