"""Early exits as catalog variants (``catalog.exits``, docs/qos.md "Dynamic inference"): the truncated model
answers exactly what the branchy model's exit answers, and the catalog registers each early exit as a variant
of the branchy model at its accuracy measured on the digits test split."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest

from edgeorch.catalog import exits, services, variants, zoo
from edgeorch.catalog.models import MLModel


def run(data: bytes, x: np.ndarray, output: str | None = None) -> np.ndarray:
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    return session.run([output] if output else None, {session.get_inputs()[0].name: x})[0]


@pytest.mark.parametrize("output", ["exit1", "exit2"])
def test_an_exit_model_answers_what_the_branchy_models_exit_answers(zoo_models, output):
    data = zoo_models["digits-branchy"][0].read_bytes()
    truncated = exits.exit_model(data, output)
    x = np.random.default_rng(3).standard_normal((1, 1, 8, 8)).astype(np.float32)
    session = ort.InferenceSession(truncated, providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == [output]
    np.testing.assert_array_equal(run(truncated, x), run(data, x, output))
    assert len(truncated) < len(data)  # the later stages and heads are gone


def test_an_exit_that_is_not_an_output_is_refused(zoo_models):
    with pytest.raises(ValueError, match="not an output"):
        exits.exit_model(zoo_models["digits-branchy"][0].read_bytes(), "exit9")


@pytest.mark.django_db
def test_registering_the_zoo_registers_each_early_exit_as_a_variant_at_its_measured_accuracy(
    media, zoo_models
):
    registered = {m.name: m for m in services.register_zoo()}
    branchy = registered["digits-branchy"]
    made = list(MLModel.objects.filter(variant_of=branchy).order_by("name"))
    assert [(m.name, m.variant) for m in made] == [
        ("digits-branchy-exit1", "early exit exit1"),
        ("digits-branchy-exit2", "early exit exit2"),
    ]
    _, x_test, _, y_test = zoo._digits_data()
    for index, model in enumerate(made):
        assert exits.exit_of(model) == index
        assert model.accuracy == variants.measured_accuracy(model.artifact_path.read_bytes(), x_test, y_test)
        assert model.accuracy == pytest.approx(branchy.exits[index]["accuracy"], abs=1e-3)  # the zoo's own
        assert model.macs < branchy.macs and model.cut_points.count() > 0
        assert model.labels == branchy.labels and model.preprocess == branchy.preprocess
    assert exits.exit_of(branchy) is None and exits.exit_of(registered["digits-cnn-narrow"]) is None
    again = {m.name: m.pk for m in services.register_zoo()}  # once only
    assert again["digits-branchy-exit1"] == made[0].pk
