"""Business operations on devices: tokens, enrollment, authentication, connection state, revocation."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from edgeorch_wire.protocol import CLOSE_AUTH_FAILED, CLOSE_REVOKED

from edgeorch import events as dashboard
from edgeorch import layer

from .choices import DeviceRole, DeviceStatus
from .models import Device, EnrollmentToken, hash_secret, new_secret

log = logging.getLogger(__name__)

TOKEN_PREFIX = "eet_"


class EnrollmentRefused(Exception):
    """The token cannot enroll a device; the message says why, for the person at the device."""


class AuthenticationFailed(Exception):
    """A device credential was refused; ``code`` is the websocket close code to use."""

    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


@dataclass
class Enrollment:
    device: Device
    credential: str


def device_group(device_id) -> str:
    """The channel-layer group that reaches a device's live agent connection."""
    return f"device.{device_id}"


def create_enrollment_token(
    *,
    created_by=None,
    name: str = "",
    max_uses: int = 1,
    ttl: timedelta = timedelta(hours=24),
    profile: str = "",
    role: str = DeviceRole.END_DEVICE,
) -> tuple[EnrollmentToken, str]:
    """Create a token; returns the row and the plain token, which is never stored and shown only now."""
    if max_uses < 1:
        raise ValueError("max_uses must be at least 1")
    plain = TOKEN_PREFIX + new_secret()
    token = EnrollmentToken.objects.create(
        name=name,
        token_hash=hash_secret(plain),
        prefix=plain[len(TOKEN_PREFIX) : len(TOKEN_PREFIX) + 6],
        max_uses=max_uses,
        expires_at=timezone.now() + ttl,
        profile=profile,
        role=role,
        created_by=created_by,
    )
    return token, plain


def install_command(base_url: str, plain_token: str, name: str | None = None) -> str:
    """The one line an operator pastes on a Linux device to install, enroll and start the agent."""
    base = base_url.rstrip("/")
    suffix = f" --name {name}" if name else ""
    return f"curl -fsSL {base}/agent/install.sh | sh -s -- --server {base} --token {plain_token}{suffix}"


def enroll_device(
    plain_token: str, *, name: str, profile: str = "", inventory: dict | None = None
) -> Enrollment:
    """Exchange an enrollment token for a new device and its credential (returned once, stored hashed)."""
    name = (name or "").strip()
    if not name:
        raise EnrollmentRefused("A device name is required.")
    if len(name) > 100:
        raise EnrollmentRefused("The device name is longer than 100 characters.")
    with transaction.atomic():
        # Lock the token row: two devices racing for the last use of a token must not both get it.
        token = (
            EnrollmentToken.objects.select_for_update()
            .filter(token_hash=hash_secret(plain_token or ""))
            .first()
        )
        if token is None:
            raise EnrollmentRefused("This enrollment token is not known to this server.")
        refusal = token.refusal()
        if refusal:
            raise EnrollmentRefused(refusal)
        token.uses += 1
        token.save(update_fields=["uses"])
        secret = new_secret()
        inventory = inventory if isinstance(inventory, dict) else {}
        device = Device.objects.create(
            name=name,
            role=token.role,
            profile=profile or token.profile,
            credential_hash=hash_secret(secret),
            enrolled_with=token,
            hostname=str(inventory.get("hostname", ""))[:255],
            inventory=inventory,
        )
    transaction.on_commit(lambda: dashboard.publish("device.status", dashboard.device_row(device)))
    log.info("device %s (%s) enrolled with token %s", device.name, device.pk, token.prefix)
    return Enrollment(device=device, credential=f"{device.pk}.{secret}")


def authenticate_device(credential: str) -> Device:
    """The device a credential (``<device id>.<secret>``) belongs to, or ``AuthenticationFailed``."""
    device_id, _, secret = (credential or "").partition(".")
    device = None
    if secret and _is_uuid(device_id):
        device = Device.objects.filter(pk=device_id).first()
    if device is None or not device.check_credential(secret):
        raise AuthenticationFailed("unknown device or wrong credential", CLOSE_AUTH_FAILED)
    if device.is_revoked:
        raise AuthenticationFailed("this device has been revoked", CLOSE_REVOKED)
    return device


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def record_hello(device: Device, hello, channel_name: str) -> Device:
    """The agent said hello on a new connection: store its inventory and mark it online.

    ``device.replaced_channel`` is set to the channel of the connection this one replaces (or "").
    """
    now = timezone.now()
    device.hostname = str(hello.inventory.get("hostname", ""))[:255]
    device.agent_version = hello.agent_version[:32]
    device.inventory = hello.inventory
    if hello.dataplane:
        device.dataplane_host = hello.dataplane["host"][:255]
        device.dataplane_port = hello.dataplane["port"]
    if hello.profile:
        device.profile = hello.profile[:64]
    serve = hello.serve or {}
    device.serve_host, device.serve_port = str(serve.get("host", ""))[:255], serve.get("port")
    device.connected_at = now
    device.last_seen = now
    fields = ["hostname", "agent_version", "inventory", "dataplane_host", "dataplane_port", "profile"]
    fields += ["serve_host", "serve_port"]
    fields += ["channel_name", "connected_at", "last_seen", "status"]
    with transaction.atomic():
        # Lock the row: revocation, or another connection of the same device saying hello, may race this.
        current = (
            Device.objects.select_for_update().only("status", "channel_name", "last_seq").get(pk=device.pk)
        )
        if current.status == DeviceStatus.REVOKED:
            raise AuthenticationFailed("this device has been revoked", 4003)
        device.replaced_channel = current.channel_name if current.channel_name != channel_name else ""
        device.last_seq = current.last_seq
        device.channel_name = channel_name
        device.status = DeviceStatus.ONLINE
        device.save(update_fields=fields)
    transaction.on_commit(lambda: dashboard.publish("device.status", dashboard.device_row(device)))
    return device


def record_disconnect(device_id, channel_name: str) -> bool:
    """The agent's connection closed. Only the device's current connection marks it offline."""
    updated = Device.objects.filter(
        pk=device_id, channel_name=channel_name, status=DeviceStatus.ONLINE
    ).update(status=DeviceStatus.OFFLINE, channel_name="")
    if updated:
        dashboard.publish("device.status", {"id": str(device_id), "status": DeviceStatus.OFFLINE.value})
    return bool(updated)


def revoke_device(device: Device) -> Device:
    """Revoke a device: its credential stops working and its live connection is closed at once."""
    with transaction.atomic():
        device = Device.objects.select_for_update().get(pk=device.pk)
        device.status = DeviceStatus.REVOKED
        device.revoked_at = timezone.now()
        device.channel_name = ""
        device.save(update_fields=["status", "revoked_at", "channel_name"])
    group = device_group(device.pk)
    transaction.on_commit(
        lambda: layer.call(get_channel_layer().group_send, group, {"type": "device.revoked"})
    )
    transaction.on_commit(lambda: dashboard.publish("device.status", dashboard.device_row(device)))
    log.warning("device %s (%s) revoked", device.name, device.pk)
    return device


def mark_stale_offline(now=None) -> int:
    """Mark offline every online device silent for longer than the liveness timeout; returns how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.LIVENESS_TIMEOUT_S)
    stale = Device.objects.filter(status=DeviceStatus.ONLINE, last_seen__lt=cutoff)
    count = stale.update(status=DeviceStatus.OFFLINE)
    if count:
        dashboard.publish(
            "device.status", {"status": DeviceStatus.OFFLINE.value, "seen_before": cutoff.isoformat()}
        )
        log.info("marked %d silent device(s) offline", count)
    return count


def device_changed(device: Device) -> None:
    """Tell the dashboards that an operator changed a device (its name, role, profile or tags)."""
    transaction.on_commit(lambda: dashboard.publish("device.status", dashboard.device_row(device)))
