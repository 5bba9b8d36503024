"""REST authentication for agents: ``Authorization: Device <device id>.<secret>``.

Agents use it to download model segments and report results; users keep token and session auth.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.settings import api_settings

from . import services


class DevicePrincipal:
    """Stands in for ``request.user`` when a device, not a person, is calling."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False
    is_device = True

    def __init__(self, device):
        self.device = device
        self.pk = None

    def __str__(self) -> str:
        return f"device {self.device.name}"


class DeviceCredentialAuthentication(authentication.BaseAuthentication):
    keyword = "device"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        scheme, _, credential = header.partition(" ")
        if scheme.lower() != self.keyword:
            return None
        try:
            device = services.authenticate_device(credential.strip())
        except services.AuthenticationFailed as exc:
            raise exceptions.AuthenticationFailed(f"Device credential refused: {exc}.") from None
        return DevicePrincipal(device), credential

    def authenticate_header(self, request) -> str:
        return "Device"


class DeviceCredentialScheme(OpenApiAuthenticationExtension):
    """Documents the device credential in the OpenAPI schema."""

    target_class = "edgeorch.devices.auth.DeviceCredentialAuthentication"
    name = "deviceCredential"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Agents: `Device <device id>.<secret>`, the credential returned by enrollment.",
        }


# Endpoints that agents (device credential) and people (token or session) both call: segment downloads, a
# job's input.
AGENT_OR_PERSON: list[type[BaseAuthentication]] = [
    DeviceCredentialAuthentication,
    *api_settings.DEFAULT_AUTHENTICATION_CLASSES,  # type: ignore[list-item]  # classes once DRF imports them
]
