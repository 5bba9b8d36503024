"""An upload's test run happens in a child process with memory and time limits (``sandbox``): a tiny file
that asks for gigabytes is refused with a clear 400, and the web process does not pay for it."""

import resource

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgeorch.catalog.models import MLModel

from .test_api import stored_files, upload
from .test_validation import tiny_model

pytestmark = pytest.mark.django_db


def memory_bomb() -> bytes:
    """A few hundred bytes: ConstantOfShape to 16384 x 16384 floats (1 GiB), added to the input."""
    shape = numpy_helper.from_array(np.array([16384, 16384], np.int64), "s")
    graph = helper.make_graph(
        [helper.make_node("ConstantOfShape", ["s"], ["c"]), helper.make_node("Add", ["c", "x"], ["y"])],
        "bomb",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [16384, 16384])],
        initializer=[shape],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_a_memory_bomb_is_refused_with_400_and_the_web_process_does_not_grow(client, alice, media):
    data = memory_bomb()
    assert len(data) < 300
    before = peak_rss_mb()
    response = upload(client, alice, data, name="bomb")
    assert response.status_code == 400, response.content
    message = response.json()["file"][0]
    assert "exceeded its limits" in message and "MB of memory" in message, message
    assert peak_rss_mb() - before < 300
    assert MLModel.objects.count() == 0 and stored_files(media) == []


def test_a_test_run_past_its_time_limit_is_refused(client, alice, media, settings):
    settings.MODEL_TEST_TIMEOUT_S = 0.01  # not even the child's start-up fits
    response = upload(client, alice, tiny_model().SerializeToString())
    assert response.status_code == 400
    assert "took longer than 0.01 s" in response.json()["file"][0]


def test_an_ordinary_upload_passes_its_sandboxed_test_run(client, alice, media):
    response = upload(client, alice, tiny_model().SerializeToString())
    assert response.status_code == 201, response.content
