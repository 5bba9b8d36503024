"""Helpers the catalog tests share (their fixtures are in ``conftest.py``)."""

import functools

import onnx

from edgeorch.catalog import graph


@functools.cache
def prepared(path):
    """A prepared model and its analysis, once per path for the whole run."""
    model = graph.prepare_model(onnx.load(str(path)))
    return model, graph.analyse(model)


def token_header(user) -> dict:
    from edgeorch.api.keys import create_key

    return {"HTTP_AUTHORIZATION": f"Token {create_key(user)}"}
