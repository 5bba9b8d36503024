"""A scenario's ``users:`` (docs/scenarios.md, "Users"): parsed into sessions' segments, mistakes refused
naming the field; the per-user report's counts."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import pytest
from edgeorch_wire.qos import PRIORITIES

from edgeorch.scenarios.report import user_row
from edgeorch.scenarios.spec import PriorityName, ScenarioError, load, parse

from .test_spec import minimal

ROOT = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.demo  # no database: they run on the demo tier too


def with_users(*users, **session) -> dict:
    return minimal(users=list(users), session={"source": "cam", "rate": 4, "duration_s": 10, **session})


def test_the_priority_classes_are_the_wire_contracts():
    assert get_args(PriorityName) == PRIORITIES


def test_a_user_defaults_to_the_scenarios_model_and_the_whole_run_at_normal_priority():
    sc = parse(with_users({"name": "u", "source": "cam", "edge": "edge", "rate": 5}))
    (u,) = sc.users
    assert (u.model, u.priority, u.arrive_s, u.depart_s) == ("mobilenetv2", "normal", 0.0, 10.0)
    assert u.edge == "edge"
    assert u.segments() == [(0.0, 10.0, 5.0)]
    assert sc.session.priority == "normal"


def test_a_stepped_rate_is_one_session_per_step_within_arrival_and_departure():
    sc = parse(
        with_users(
            {
                "name": "u",
                "source": "cam",
                "rate": {"steps": [[0, 2], [3, 0], [5, 8]]},
                "arrive_s": 1,
                "depart_s": 7,
                "priority": "high",
                "deadline_s": 0.2,
            },
            priority="low",
        )
    )
    (u,) = sc.users
    # 1-3 s at 2/s, 3-5 s at 0 (no session), 5-7 s at 8/s; served on its source (no edge).
    assert u.segments() == [(1.0, 2.0, 2.0), (5.0, 2.0, 8.0)]
    assert (u.edge, u.priority, u.deadline_s, sc.session.priority) == (None, "high", 0.2, "low")


def test_a_random_walk_rate_is_sampled_per_step():
    walk = {"random_walk": {"start": 10, "min": 5, "max": 20, "sigma": 4, "seed": 1, "step_s": 1}}
    (u,) = parse(with_users({"name": "u", "source": "cam", "rate": walk, "step_s": 2.5})).users
    segments = u.segments()
    assert [s[0] for s in segments] == [0.0, 2.5, 5.0, 7.5] and all(5 <= s[2] <= 20 for s in segments)


def test_every_shipped_multiuser_scenario_has_users_of_several_classes():
    files = sorted((ROOT / "scenarios" / "multiuser").glob("*.yaml"))
    assert {p.stem for p in files} >= {"steady-mix", "flash-crowd", "priority-arrival"}
    for path in files:
        sc = load(path)
        classes = {u.priority for u in sc.users} | {sc.session.priority}
        assert len(sc.users) >= 3 and len(classes) >= 2, path.stem


@pytest.mark.parametrize(
    ("user", "message"),
    [
        ({"name": "u", "source": "nope", "rate": 1}, r"users\[0\].source: unknown device 'nope'"),
        ({"name": "u", "source": "cam", "edge": "gpu", "rate": 1}, r"users\[0\].edge: unknown device 'gpu'"),
        ({"name": "u", "source": "cam", "edge": "cam", "rate": 1}, r"users\[0\].edge: the source itself"),
        ({"name": "u", "source": "cam", "rate": 0}, r"users\[0\].rate: frames per second must be above 0"),
        ({"name": "u", "source": "cam", "rate": "fast"}, r"users\[0\].rate: a number"),
        ({"name": "u", "source": "cam", "rate": {"steps": [[0, 0]]}}, r"users\[0\].rate: gives no frame"),
        ({"name": "u", "source": "cam", "rate": {"steps": [[0, -1]]}}, r"users\[0\].rate: frames per second"),
        (
            {"name": "u", "source": "cam", "rate": 1, "priority": "urgent"},
            r"users\[0\]: priority must be one of",
        ),
        ({"name": "u", "source": "cam", "rate": 1, "arrive_s": 10}, r"users\[0\].arrive_s: 10 s"),
        ({"name": "u", "source": "cam", "rate": 1, "arrive_s": 5, "depart_s": 4}, r"users\[0\].depart_s"),
        (
            {"name": "u", "source": "cam", "rate": 1, "deadline_s": 0},
            r"users\[0\]: deadline_s must be positive",
        ),
        ({"name": "u", "source": "cam", "rate": 1, "colour": "red"}, r"colour"),
        ({"source": "cam", "rate": 1}, r"users\[0\].*name"),
        ({"name": "session", "source": "cam", "rate": 1}, r"users: names must be unique and not 'session'"),
        (
            {"name": "u", "source": "cam", "rate": 1, "dynamic": True},
            r"users\[0\].dynamic: .* give deadline_s",
        ),
        ({"name": "u", "source": "cam", "rate": 1, "dynamic": "yes"}, r"dynamic"),
    ],
)
def test_a_bad_user_is_refused_naming_the_field(user, message):
    with pytest.raises(ScenarioError, match=message):
        parse(with_users(user))


def test_two_users_of_one_name_are_refused():
    u = {"name": "u", "source": "cam", "rate": 1}
    with pytest.raises(ScenarioError, match="names must be unique"):
        parse(with_users(u, dict(u)))


def test_dynamic_inference_is_asked_per_user_and_for_the_session():
    user = {"name": "u", "source": "cam", "edge": "edge", "rate": 2, "deadline_s": 0.2, "dynamic": True}
    given = with_users(user, {"name": "v", "source": "cam", "rate": 2}, deadline_s=0.5, dynamic=True)
    sc = parse({**given, "strategies": ["offload", "device-edge"]})
    assert [u.dynamic for u in sc.users] == [True, False] and sc.session.dynamic
    assert not parse(with_users()).session.dynamic


@pytest.mark.parametrize(
    ("session", "strategies", "message"),
    [
        ({"dynamic": True}, ["offload"], r"session.dynamic: .* give deadline_s"),
        (
            {"dynamic": True, "deadline_s": 0.5},
            ["offload", "ans"],
            r"session.dynamic: ans chooses for itself",
        ),
    ],
)
def test_a_dynamic_session_needs_a_deadline_and_a_strategy_that_does_not_choose_for_itself(
    session, strategies, message
):
    with pytest.raises(ScenarioError, match=message):
        parse({**with_users(**session), "strategies": strategies})


def test_a_bad_session_priority_is_refused():
    with pytest.raises(ScenarioError, match=r"session: priority must be one of .* not 'urgent'"):
        parse(with_users(priority="urgent"))


def test_a_users_row_counts_misses_and_drops_apart_and_accuracy_against_the_label():
    def frame(ok, latency, met, dropped=False, top=3):
        return {"ok": ok, "latency_s": latency, "deadline_met": met, "dropped": dropped, "top": top}

    frames = [frame(True, 0.1, True), frame(True, 0.5, False, top=4), frame(False, 0.0, False, True)]
    frames += [frame(False, 1.0, False)]
    row = user_row(frames, label=3, expected=5)
    assert (row["frames"], row["expected"], row["ok"]) == (4, 5, 2)
    assert (row["deadline_misses"], row["dropped"], row["miss_rate"]) == (2, 1, 0.75)
    assert row["accuracy"] == 0.5 and row["p50_s"] == pytest.approx(0.3)
    assert user_row([])["miss_rate"] is None and user_row(frames)["accuracy"] is None


def test_a_users_row_averages_the_accuracy_of_the_configurations_that_answered():
    def frame(ok, config, accuracy):
        return {"ok": ok, "latency_s": 0.1, "deadline_met": ok, "dropped": False, "config": config} | {
            "accuracy": accuracy
        }

    frames = [frame(True, "full", 0.98), frame(True, "narrow", 0.90), frame(True, "narrow", 0.90)]
    frames += [frame(False, None, None), frame(True, "unknown", None)]
    row = user_row(frames)
    assert row["served_accuracy"] == pytest.approx((0.98 + 0.9 + 0.9) / 3)
    assert row["configs"] == {"full": 1, "narrow": 2, "unknown": 1}
    assert user_row(frames[3:])["served_accuracy"] is None
