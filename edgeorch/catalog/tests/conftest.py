"""Fixtures: the built zoo (built once into a cache that outlives the test run) and prepared models."""

import functools

import onnx
import pytest

from edgeorch.catalog import graph, zoo


@pytest.fixture(scope="session")
def zoo_models():
    """The zoo's manifest entries, built into ``$EDGEORCH_ZOO_DIR`` (default ``var/zoo``) if not current."""
    directory = zoo.default_zoo_dir()
    return {m.name: (directory / m.file, m) for m in zoo.build_zoo(directory)}


@functools.cache
def prepared(path):
    """A prepared model and its analysis, once per path for the whole run."""
    model = graph.prepare_model(onnx.load(str(path)))
    return model, graph.analyse(model)


@pytest.fixture(scope="session")
def detector_path(tmp_path_factory):
    from .graphs import detector_onnx

    path = tmp_path_factory.mktemp("detector") / "detector.onnx"
    detector_onnx(path)
    return path
