"""Many users, one edge, end to end (docs/qos.md "Isolation", docs/scenarios.md "Users"): ``run_scenario``
with a high-priority session and a low-priority user flooding the same slow edge past its capacity, on a live
Daphne, a real Celery worker and real agent processes. The flood pays (its frames are dropped or late) and the
high-priority session keeps its deadline; the report has a row per user and per priority class."""

from __future__ import annotations

import json

import pytest

from edgeorch.jobs.models import Frame, Session

from .support import run_scenario

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]

# A thousand times this host's time: the digits CNN (tens of us warm) becomes tens of ms a frame at the edge,
# so the flood (40 frames/s, not waiting for answers) is more than it can compute. A deployment's first (cold)
# compute can take a hundred times a warm one, and the drop rule's expected compute is the least of the last
# few: the session's deadline (2 s) outlasts a cold start, so that what is measured is the flood's effect.
SLOW_EDGE = {
    "name": "flooded-edge",
    "description": "a slow edge box, for the isolation test only",
    "class": "edge",
    "speed": 1000.0,
    "units": [{"name": "cpu", "speed": 1.0, "shm_bandwidth_bps": 3.2e10}],
}
# The isolation test's edge: twice as slow again. What the edge computes a second follows this host's own
# time for the model, which differs between machines of one kind: at 1000x a CI run answered all of the
# flood's 140 frames in time (the test failed), where this machine answered 112 of 200 and dropped 88. At
# 2000x this machine answers 14-27 of 200, and the session's p99 stays at 0.47-0.56 s, under its 2 s deadline.
FLOODED_SPEED = 2000.0

FLOOD = {
    "name": "tiny-flood",
    "description": "A high-priority camera and a low-priority flood share one slow edge.",
    "model": "digits-cnn",
    "window_s": 3,
    "strategies": ["offload"],
    "devices": [
        {"name": "cam", "role": "end", "profile": "rpi4"},
        {"name": "flood", "role": "end", "profile": "rpi4"},
        {"name": "edge", "role": "edge", "profile": "edge.json"},
    ],
    "links": [
        {"between": ["cam", "edge"], "bandwidth_bps": 1.0e8, "rtt_s": 0.002},
        {"between": ["flood", "edge"], "bandwidth_bps": 1.0e8, "rtt_s": 0.002},
    ],
    "users": [
        {
            "name": "flood",
            "source": "flood",
            "edge": "edge",
            "rate": 40,
            "deadline_s": 0.25,
            "priority": "low",
        }
    ],
    "session": {
        "source": "cam",
        "rate": 4,
        "duration_s": 5,
        "deadline_s": 2.0,
        "priority": "high",
        "sample": 2,
        "candidates": ["cam", "edge"],
    },
}


@pytest.mark.usefixtures("worker")
def test_a_low_priority_flood_does_not_raise_a_high_priority_users_deadline_misses(
    live_server_proc, server_env, tmp_path
):
    (tmp_path / "edge.json").write_text(json.dumps(dict(SLOW_EDGE, speed=FLOODED_SPEED)))
    report, report_path = run_scenario(FLOOD, server_env, live_server_proc, tmp_path, "flood")
    users = report["strategies"]["offload"]["users"]
    high, flood = users["users"]["session"], users["users"]["flood"]
    assert high["priority"] == "high" and flood["priority"] == "low"
    # Both really ran on the edge, together: the flood's frames are recorded, and overlap the session's.
    assert flood["frames"] >= 60 and high["frames"] >= 20, (high, flood)
    # The flood pays: many of its frames dropped or late; the high-priority session keeps its deadline.
    assert high["deadline_misses"] + high["dropped"] <= 1, high
    assert flood["dropped"] + flood["deadline_misses"] > max(10, high["deadline_misses"] + high["dropped"])
    assert high["accuracy"] == 1.0  # sample 2, answered right: the answers are the model's
    # Per class and overall, as the summary counts them.
    assert set(users["by_priority"]) == {"high", "low"}
    assert users["by_priority"]["low"]["dropped"] == flood["dropped"]
    assert users["overall"]["frames"] == high["frames"] + flood["frames"]
    # The flood's frames are real frames of a real session, at low priority.
    low = Session.objects.filter(priority="low")
    assert (
        low.count() == 1 and Frame.objects.filter(session__in=low, dropped=True).count() == flood["dropped"]
    )
    assert "| offload | flood | low |" in report_path.with_suffix(".md").read_text()


@pytest.mark.usefixtures("worker")
def test_a_dynamic_user_is_served_by_its_models_variants_and_reports_their_accuracy(
    live_server_proc, server_env, tmp_path
):
    """A scenario user with ``dynamic``: the runner registers the digits CNN with its zoo variants, the
    user's session gets its configuration table (the model and its variants, each deployed), and the report
    gives the mean accuracy of the configurations that answered, as the frames recorded them."""
    from edgeorch.catalog.models import MLModel

    (tmp_path / "edge.json").write_text(json.dumps(SLOW_EDGE))
    spec = dict(FLOOD, name="tiny-dynamic")
    spec["users"] = [dict(FLOOD["users"][0], name="dyn", rate=8, deadline_s=0.5, dynamic=True)]
    report, _ = run_scenario(spec, server_env, live_server_proc, tmp_path, "dynamic")
    model = MLModel.objects.get(name="digits-cnn")
    variants = set(MLModel.objects.filter(variant_of=model).values_list("name", flat=True))
    assert {"digits-cnn-narrow", "digits-cnn-quarter", "digits-cnn-int8"} <= variants
    (session,) = Session.objects.filter(priority="low")
    assert (session.adaptation or {}).get("dynamic") is True
    table = {c["name"]: c["accuracy"] for c in session.dynamic or []}
    assert len(table) >= 2, session.dynamic  # the model and at least one variant, deployed and sent
    row = report["strategies"]["offload"]["users"]["users"]["dyn"]
    answered = Frame.objects.filter(session=session, ok=True)
    assert row["ok"] == answered.count() > 0
    # Each answer's configuration is the model's own route or one the table names, at the table's accuracy.
    expected = [
        table[f.config] if f.config else model.accuracy for f in answered if f.config in table or not f.config
    ]
    assert len(expected) == row["ok"] and row["served_accuracy"] == pytest.approx(
        sum(expected) / len(expected)
    )
    assert sum(row["configs"].values()) == row["ok"]
    # The planned session is not dynamic: its answers are the full model's, at its catalog accuracy.
    assert report["strategies"]["offload"]["users"]["users"]["session"]["served_accuracy"] == pytest.approx(
        model.accuracy
    )
