"""Fixtures of the jobs unit tests: the digits CNN from the cached zoo and two online devices (no agents)."""

import pytest


@pytest.fixture
def digits(db, settings, tmp_path):
    from edgeorch.catalog import services, zoo
    from edgeorch.catalog.choices import ModelSource

    settings.MEDIA_ROOT = tmp_path / "media"
    directory = zoo.default_zoo_dir()
    built = next(m for m in zoo.build_zoo(directory) if m.name == "digits-cnn")
    return services.register_model(
        (directory / built.file).read_bytes(), name=built.name, version=built.version, task=built.task,
        source=ModelSource.BUILTIN,
    )  # fmt: skip


@pytest.fixture
def devices(db):
    """phone and edge, online, with fake channel names and data-plane addresses."""
    from edgeorch.devices import services

    made = []
    for name in ("phone", "edge"):
        _, token = services.create_enrollment_token()
        device = services.enroll_device(token, name=name).device
        device.status, device.channel_name = "online", f"fake.{name}"
        device.dataplane_host, device.dataplane_port = "127.0.0.1", 9000 + len(made)
        device.save()
        made.append(device)
    return made
