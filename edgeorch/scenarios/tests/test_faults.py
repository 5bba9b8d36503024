"""Fault injection's pure parts: a cut link's spec, a link's spec as from a time, what a run's faults cost."""

from __future__ import annotations

from pathlib import Path

import pytest
from edgeorch_wire.links import parse_trace

from edgeorch.scenarios.report import fault_row
from edgeorch.scenarios.runner import StrategyRun, _from, cut_spec
from edgeorch.scenarios.spec import load, parse

from .test_spec import minimal

ROOT = Path(__file__).resolve().parents[3]


def test_the_three_fault_scenarios_are_shipped_each_with_a_fault_and_two_policies():
    for name, action in (("edge-dies", "kill"), ("pipeline-middle-dies", "kill"), ("link-flapping", "cut")):
        scenario = load(ROOT / "scenarios" / "faults" / f"{name}.yaml")
        assert any(f.action == action for f in scenario.faults), name
        assert scenario.failover == ("none", "cold")
    flapping = load(ROOT / "scenarios" / "faults" / "link-flapping.yaml")
    assert [f.action for f in flapping.faults] == ["cut", "restore"] * 3
    chain = load(ROOT / "scenarios" / "faults" / "pipeline-middle-dies.yaml").params["pipeline"]["devices"]
    assert chain == ["cam", "jetson", "server"]


def test_a_cut_link_delivers_what_is_sent_during_the_outage_when_it_ends():
    spec = cut_spec({"bandwidth_bps": 5e7, "rtt_s": 0.004}, 2.0)
    rtt = parse_trace(spec["rtt_s"], "rtt_s")
    assert spec["bandwidth_bps"] == 5e7
    for t in (0.0, 0.5, 1.9):  # one way (half the RTT) reaches to about the end of the outage
        assert rtt.value(t) / 2 + t == pytest.approx(2.0 + 0.002, abs=0.03)
    assert rtt.value(2.0) == rtt.value(30.0) == 0.004


def test_a_link_spec_as_from_a_time_goes_on_with_its_steps():
    steps = {"steps": [[0, 1e8], [8, 4e6], [16, 1e8]]}
    assert _from(steps, 10) == {"steps": [[0.0, 4e6], [6.0, 1e8]]}
    assert _from(steps, 0) == {"steps": [[0.0, 1e8], [8.0, 4e6], [16.0, 1e8]]}
    assert _from(0.004, 10) == 0.004


def frame(i, ok=True, latency=0.01, t=None, resent=False, top=3, error=None):
    return {
        "request_id": i,
        "ok": ok,
        "latency_s": latency,
        "t": i / 10 if t is None else t,
        "resent": resent,
        "top": top,
        "error": error,
    }


def test_a_run_s_fault_row_counts_lost_failed_unreported_and_re_sent_frames():
    scenario = parse(
        minimal(session={"source": "cam", "rate": 10, "frames": 10}, faults=[{"at": 0.3, "kill": "edge"}])
    )
    frames = [frame(i) for i in range(3)] + [frame(3, ok=False, error="unreachable")]
    frames += [frame(4, resent=True, latency=0.5), frame(5, top=7)]
    run = StrategyRun(
        "offload",
        "s",
        "failed",
        "edge lost",
        frames,
        [],
        [],
        policy="cold",
        faults=[{"at": 0.3, "t": 0.31, "fault": "0.3s kill edge", "action": "kill"}],
        failures=[
            {"outcome": "recovered", "mttr_s": 0.2, "detection_s": 0.05, "replanned_s": 0.1, "t": 0.35}
        ],
    )
    row = fault_row(scenario, run, label=3)
    assert row["frames_lost"] == 1 + 4  # one failed, four never reported
    assert (row["frames_failed"], row["frames_unreported"], row["frames_resent"]) == (1, 4, 1)
    assert row["errors"] == {"unreachable": 1}
    assert row["failures"] == row["recovered"] == 1 and row["mttr_s"] == 0.2
    assert 0.45 < row["p99_around_s"] <= 0.5  # over the answered frames emitted from the fault on
    assert row["accuracy"] == pytest.approx(4 / 5)
    assert fault_row(scenario, run, label=None)["accuracy"] is None
