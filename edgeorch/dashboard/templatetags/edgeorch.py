"""Template filters shared by the pages."""

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.timesince import timesince

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
