"""An adaptive session's first plan: calibrated from recent sessions of the same model (no agents)."""

from __future__ import annotations

import time

import pytest

from edgeorch.jobs import services
from edgeorch.jobs.conditions import planned_conditions, problem_under, remembered_calibrations
from edgeorch.jobs.models import Frame, Session
from edgeorch.jobs.services import adaptive, dispatch


def past_session(digits, devices, edge_factor: float) -> Session:
    """A finished split session whose frames computed ``edge_factor`` times the profiled time on the edge."""
    phone, edge = devices
    session = services.start_session(
        model=digits,
        source=phone,
        strategy="split",
        frames=10,
        params={"cut": 2, "device": str(edge.pk)},
        base_url="http://cp",
    )
    plan = dispatch.plan_run(session)
    Session.objects.filter(pk=session.pk).update(plan=plan, state="completed")
    profiled = {s["device"]: s["compute"] for s in plan["stages"]}
    frames = []
    for k in range(10):
        trace = [
            {
                "stage": i,
                "device": s["device"],
                "compute_s": profiled[s["device"]] * (edge_factor if s["device"] == str(edge.pk) else 1.0),
                "end": 1000.0 + k,
            }
            for i, s in enumerate(plan["stages"])
        ]
        frames.append(Frame(session=session, request_id=k, ok=True, latency_s=0.01, trace=trace))
    Frame.objects.bulk_create(frames)
    session.refresh_from_db()
    return session


def adaptive_session(digits, devices) -> Session:
    return services.start_session(
        model=digits, source=devices[0], strategy="adaptive", frames=10, base_url="http://cp"
    )


def test_with_no_history_it_starts_on_the_planners_adaptive_plan(digits, devices):
    from edgeorch.plans import services as plans

    session = adaptive_session(digits, devices)
    first = adaptive.initial_plan(session, devices)
    planner = plans.make_plan(digits, devices, devices[0], "adaptive")
    # The same stages; the adaptive plan also says each one's profiled compute (later sessions read it).
    assert [{k: v for k, v in s.items() if k != "profiled"} for s in first["stages"]] == planner["stages"]
    assert first["latency"] == planner["latency"]


def test_an_edge_recent_sessions_measured_slow_is_calibrated_before_the_first_frame(digits, devices):
    phone, edge = devices
    past = past_session(digits, devices, edge_factor=4.0)
    (head, tail), n = past.plan["stages"], len(digits.blocks)
    session = adaptive_session(digits, devices)
    remembered = {device: span for device, *span in remembered_calibrations(session, devices)}
    assert remembered == {
        str(phone.pk): [head["unit"], 0, 1, pytest.approx(1.0)],
        str(edge.pk): [tail["unit"], 2, n - 1, pytest.approx(4.0)],
    }
    plan = adaptive.initial_plan(session, devices)
    assert any("calibrated from recent sessions" in n for n in plan["notes"])
    # The edge's blocks 2.. are calibrated in its block times (4x their profile), its blocks 0-1 (never
    # measured) stay as profiled: not a factor of the whole device, whose throttle stays as measured.
    assert {d["id"]: d["throttle"] for d in plan["devices"]} == {str(phone.pk): 1.0, str(edge.pk): 1.0}
    assembly, problem = problem_under(
        session, devices, planned_conditions(plan), remembered_calibrations(session, devices)
    )
    raw = next(d for d in assembly.problem.devices if d.id == str(edge.pk))
    calibrated = next(d for d in problem.devices if d.id == str(edge.pk))
    unit = [u.name for u in raw.units].index(tail["unit"])
    before, after = raw.units[unit].times, calibrated.units[unit].times
    assert after[:2] == before[:2] and after[2:] == pytest.approx([4.0 * t for t in before[2:]])
    services.dispatch_session(session.pk)  # dispatch starts it on that plan, not a cached one
    session.refresh_from_db()
    assert session.plan["stages"] == plan["stages"] and session.plan["latency"] == plan["latency"]


def test_a_device_heating_towards_its_throttle_makes_the_session_look_again(digits, devices):
    """Its throttle has not shown yet (no drift of its factor), but the foresight's verdict moves with its
    temperature: 1.5 C is a drift of its own."""
    from datetime import timedelta

    from django.utils import timezone
    from edgeorch_wire import protocol as p

    from edgeorch.telemetry.services import store_batches

    phone, _ = devices
    phone.profile = "rpi4"  # throttles from 80 C; fully busy it settles at 82.6 C
    phone.save()
    session = adaptive_session(digits, devices)
    plan = dispatch.plan_run(session)
    Session.objects.filter(pk=session.pk).update(
        plan=plan, state="running", started_at=timezone.now() - timedelta(seconds=5)
    )

    def temperature(seq: int, temp: float) -> None:
        record = p.Record(seq=seq, ts=time.time(), metrics={"temp.emulated": temp})
        store_batches([(str(phone.pk), p.Telemetry(records=[record]))])

    def look() -> list[dict]:
        adaptive.adapt(session.pk)
        return Session.objects.get(pk=session.pk).adaptation.get("log", [])

    temperature(0, 79.6)
    assert look() == []  # the temperature the plan in force was made at
    temperature(1, 80.3)
    assert look() == []
    temperature(2, 81.5)
    (entry,) = look()
    assert "79.6 -> 81.5 C" in entry["reason"]
