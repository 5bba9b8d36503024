"""Fixtures: the built zoo (built once into a cache that outlives the test run) and prepared models."""

import pytest

from edgeorch.catalog import zoo


@pytest.fixture(scope="session")
def zoo_models():
    """The zoo's manifest entries, built into ``$EDGEORCH_ZOO_DIR`` (default ``var/zoo``) if not current."""
    directory = zoo.default_zoo_dir()
    return {m.name: (directory / m.file, m) for m in zoo.build_zoo(directory)}


@pytest.fixture(scope="session")
def detector_path(tmp_path_factory):
    from .graphs import detector_onnx

    path = tmp_path_factory.mktemp("detector") / "detector.onnx"
    detector_onnx(path)
    return path


@pytest.fixture
def media(settings, tmp_path):
    """A fresh MEDIA_ROOT per test, so "no file is left behind" can be checked."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def digits(db, media, zoo_models):
    """The digits models of the zoo, registered (charlie, with no credentials at all, needs no fixture)."""
    from edgeorch.catalog import services
    from edgeorch.catalog.choices import ModelSource

    registered = {}
    for name in ("digits-cnn", "digits-branchy"):
        path, built = zoo_models[name]
        registered[name] = services.register_model(
            path.read_bytes(),
            name=name,
            version=built.version,
            task=built.task,
            source=ModelSource.BUILTIN,
            accuracy=built.accuracy,
            exits=built.exits,
            labels=zoo.labels_of(name),
        )
    return registered
