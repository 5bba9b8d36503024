"""People's API keys (``Authorization: Token KEY``): django-rest-knox stores a SHA-512 digest of each key and
its first characters, never the key, so a key is shown once, when it is created.

A user may hold several keys (one per script or machine); each is revoked on its own on the API key page.
Keys do not expire (``REST_KNOX["TOKEN_TTL"]`` is None): a key stops working when it is revoked or its user
is deactivated.
"""

from __future__ import annotations

from knox import auth
from knox.models import AuthToken
from rest_framework.exceptions import AuthenticationFailed


class TokenAuthentication(auth.TokenAuthentication):
    """knox's, with a key that is not UTF-8 refused as any wrong key is (knox decodes it unguarded: a 500)."""

    def authenticate_credentials(self, token: bytes):
        try:
            token.decode("utf-8")
        except UnicodeDecodeError:
            raise AuthenticationFailed("Invalid token.") from None
        return super().authenticate_credentials(token)


def create_key(user) -> str:
    """A new key for ``user``; the plain key is returned here and stored nowhere."""
    return AuthToken.objects.create(user, expiry=None)[1]


def keys_of(user):
    """The user's keys, newest first (their ``token_key``: the first characters, to tell them apart)."""
    return AuthToken.objects.filter(user=user).order_by("-created")


def revoke_key(user, token_key: str) -> int:
    """Revoke the user's key starting with ``token_key`` (how many were: 0 or 1)."""
    return AuthToken.objects.filter(user=user, token_key=token_key).delete()[0]


def user_of(key: str):
    """The active user ``key`` belongs to, or None (unknown, revoked, or its user deactivated)."""
    try:
        return TokenAuthentication().authenticate_credentials(key.encode())[0]
    except (AuthenticationFailed, UnicodeEncodeError):
        return None
