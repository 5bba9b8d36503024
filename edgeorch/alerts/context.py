"""The navigation's alert badge: how many alerts are open, on every page a logged-in user sees."""

from .choices import OPEN
from .models import Alert


def open_alerts(request) -> dict:
    user = getattr(request, "user", None)
    if not (user and user.is_authenticated):
        return {}
    return {"open_alerts": Alert.objects.filter(state__in=OPEN).count()}
