"""Who may do what through the API: operators change things, viewers only read."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

OPERATORS_GROUP = "operators"
VIEWERS_GROUP = "viewers"


def is_operator(user) -> bool:
    """Superusers, staff and members of the ``operators`` group may change the fleet."""
    if not (user and user.is_authenticated):
        return False
    if user.is_superuser or user.is_staff:
        return True
    return user.groups.filter(name=OPERATORS_GROUP).exists()


class IsOperatorOrReadOnly(BasePermission):
    """Any logged-in user may read; only operators may write."""

    message = "Only operators may change this; your account is read-only."

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        return request.method in SAFE_METHODS or is_operator(request.user)
