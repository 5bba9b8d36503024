"""Template filters shared by the pages."""

import uuid
from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

from edgeorch.devices.models import Device

register = template.Library()


@register.filter
def ago(when: datetime | None) -> str:
    """'12 s ago' under a minute (liveness is measured in seconds), else Django's 'N minutes ago'."""
    if when is None:
        return "never"
    seconds = (timezone.now() - when).total_seconds()
    if seconds < 60:
        return f"{max(0, int(seconds))} s ago"
    return f"{timesince(when)} ago"


@register.filter
def ms(seconds: float | None, bare: str = "") -> str:
    """Seconds as people read them: milliseconds, '42.1 ms' ('—' for none); ``ms:"bare"`` leaves the unit to
    the column's header. Two decimals under 10 ms, none from a second up."""
    if seconds is None or seconds == "":
        return "—"
    value = float(seconds) * 1000.0
    digits = 2 if abs(value) < 10 else 1 if abs(value) < 1000 else 0
    text = f"{value:.{digits}f}"
    return text if bare else f"{text} ms"


@register.filter
def class_label(index, model) -> str:
    """A classifier's output index as its class name where the model has names (``MLModel.labels``: the
    file's metadata, the upload's, the zoo's digits: 'digit 3'), else 'class 3'."""
    i = int(index)
    labels = model.labels or ()
    return labels[i] if 0 <= i < len(labels) else f"class {i}"


@register.filter
def params_named(params: dict | None) -> str:
    """A run's strategy parameters for people: 'cut 3, device edge-1' (device ids by name)."""
    if not params:
        return ""
    flat = [v for value in params.values() for v in (value if isinstance(value, list) else [value])]
    devices = Device.objects.filter(pk__in=_uuids(flat)).values_list("pk", "name")
    names = {str(pk): name for pk, name in devices}

    def word(value) -> str:
        if isinstance(value, list):
            return "[" + ", ".join(word(v) for v in value) + "]"
        return names.get(str(value), str(value))

    return ", ".join(f"{key} {word(value)}" for key, value in params.items())


def _uuids(values: list) -> list[uuid.UUID]:
    found = []
    for value in values:
        try:
            found.append(uuid.UUID(str(value)))
        except ValueError:
            pass
    return found
