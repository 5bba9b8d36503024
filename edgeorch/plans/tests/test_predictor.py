"""The latency regression trained on stored profiles, and its accuracy on pairs it never saw."""

from __future__ import annotations

import numpy as np
import pytest

from edgeorch.plans import measurements, timing
from edgeorch.plans.overrides import PlanInputError

from .support import auth, make_device

pytestmark = pytest.mark.django_db


def synthetic_profile(device, model, gmacs: float, bytes_per_s: float, rng):
    """Block time = MACs / rate + bytes moved / memory bandwidth + 20 us, with 3% noise."""
    blocks = []
    for i, b in enumerate(model.blocks):
        moved = (b["input_bytes"] or 0) + (b["output_bytes"] or 0)
        seconds = (b["macs"] / (gmacs * 1e9) + moved / bytes_per_s + 20e-6) * rng.normal(1.0, 0.03)
        blocks.append({"block": i, "median_s": seconds, "p90_s": seconds * 1.1})
    return measurements.record_profile(device, model, blocks, {})


def test_the_predictor_reports_its_error_on_held_out_pairs(client, bob, register, phone, edge):
    rng = np.random.default_rng(0)
    models = [
        register(f"net{c}x{s}", channels=c, size=s)
        for c, s in ((8, 32), (16, 32), (16, 48), (24, 32), (8, 64))
    ]
    phone2 = make_device("phone2", phone.role, profile="phone")
    for model in models:
        for device, gmacs, bw in ((phone, 0.5, 2e9), (phone2, 0.5, 2e9), (edge, 40, 20e9)):
            synthetic_profile(device, model, gmacs, bw, rng)

    response = client.get("/api/plans/predictor/", **auth(bob))
    assert response.status_code == 200
    report = response.json()
    assert report["profiles"] == 15 and report["pairs"] == 15 and report["held_out_pairs"] == 3
    assert report["test_samples"] > 0 and set(report["device_classes"]) == {"phone", "server"}
    assert 0 <= report["mape"] < 0.15, report
    assert "MAPE" in report["detail"]


def test_the_predictor_says_clearly_when_there_are_too_few_profiles(client, bob, convnet, phone):
    synthetic_profile(phone, convnet, 0.5, 2e9, np.random.default_rng(1))
    report = client.get("/api/plans/predictor/", **auth(bob)).json()
    assert report["mape"] is None and report["detail"].startswith("Too few profiles")


def test_a_never_profiled_device_class_gets_no_prediction_but_an_estimate(register, phone, edge):
    rng = np.random.default_rng(2)
    models = [register(f"m{c}", channels=c, size=32) for c in (8, 16, 24)]
    for model in models[:2]:
        synthetic_profile(phone, model, 0.5, 2e9, rng)
    newcomer = make_device("drone", phone.role, profile="drone")
    assert timing.block_times(phone, models[2], timing.stored_predictor).source == "predicted"
    assert timing.block_times(newcomer, models[2], timing.stored_predictor).source == "estimated"


def test_a_profile_names_only_blocks_the_model_has(convnet, phone):
    with pytest.raises(PlanInputError, match="names block 99"):
        measurements.record_profile(phone, convnet, [{"block": 99, "median_s": 0.1}])
    profile = measurements.record_profile(
        phone, convnet, [{"block": 0, "median_s": 0.1, "p90_s": 0.2, "runs": 5}]
    )
    assert measurements.latest_profile(phone, convnet) == profile and not profile.complete
    assert timing.latest_complete(phone, convnet) is None  # an incomplete profile is not used for planning
