"""Fixtures: small conv nets registered in the catalog, a phone and two edge servers, and named people."""

from __future__ import annotations

import pytest

from edgeorch.devices.choices import DeviceRole, DeviceStatus

from .support import conv_net, make_device


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def register(db, media):
    """Register a conv net in the catalog: ``register(name, channels=, size=)``."""
    from edgeorch.catalog import services

    def make(name: str = "convnet", **shape):
        return services.register_model(conv_net(name=name, **shape), name=name)

    return make


@pytest.fixture
def convnet(register):
    return register()


@pytest.fixture
def phone(db):
    """An end device, slow at compute."""
    return make_device("phone", DeviceRole.END_DEVICE, profile="phone")


@pytest.fixture
def edge(db):
    """An edge server, fast at compute."""
    return make_device("edge1", DeviceRole.EDGE, profile="server")


@pytest.fixture
def dead_edge(db):
    """An edge server that is offline (and would be the fastest of all)."""
    return make_device("edge2", DeviceRole.EDGE, status=DeviceStatus.OFFLINE, profile="server")
