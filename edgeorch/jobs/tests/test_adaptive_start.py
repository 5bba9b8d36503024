"""An adaptive session's first plan: calibrated from recent sessions of the same model (no agents)."""

from __future__ import annotations

from edgeorch.jobs import adaptive, services
from edgeorch.jobs.models import Frame, Session


def past_session(digits, devices, edge_factor: float) -> Session:
    """A finished split session whose frames computed ``edge_factor`` times the profiled time on the edge."""
    phone, edge = devices
    session = services.start_session(model=digits, source=phone, strategy="split", frames=10,
                                     params={"cut": 2, "device": str(edge.pk)}, base_url="http://cp")  # fmt: skip
    plan = services.plan_run(session)
    Session.objects.filter(pk=session.pk).update(plan=plan, state="completed")
    profiled = {s["device"]: s["compute"] for s in plan["stages"]}
    frames = []
    for k in range(10):
        trace = [{"stage": i, "device": s["device"], "compute_s": profiled[s["device"]] * (edge_factor if s["device"] == str(edge.pk) else 1.0),
                  "end": 1000.0 + k} for i, s in enumerate(plan["stages"])]  # fmt: skip
        frames.append(Frame(session=session, request_id=k, ok=True, latency_s=0.01, trace=trace))
    Frame.objects.bulk_create(frames)
    return session


def adaptive_session(digits, devices) -> Session:
    return services.start_session(model=digits, source=devices[0], strategy="adaptive", frames=10,
                                  base_url="http://cp")  # fmt: skip


def test_with_no_history_it_starts_on_the_planners_adaptive_plan(digits, devices):
    from edgeorch.plans import services as plans

    session = adaptive_session(digits, devices)
    first = adaptive.initial_plan(session, devices)
    planner = plans.make_plan(digits, devices, devices[0], "adaptive")
    assert first["stages"] == planner["stages"]
    assert first["latency"] == planner["latency"]


def test_an_edge_recent_sessions_measured_slow_is_calibrated_before_the_first_frame(digits, devices):
    phone, edge = devices
    past_session(digits, devices, edge_factor=4.0)
    session = adaptive_session(digits, devices)
    plan = adaptive.initial_plan(session, devices)
    factors = {d["id"]: d["throttle"] for d in plan["devices"]}
    assert abs(factors[str(edge.pk)] - 4.0) < 1e-6 and abs(factors[str(phone.pk)] - 1.0) < 1e-6
    assert any("calibrated from recent sessions" in n for n in plan["notes"])
    services.dispatch_session(session.pk)  # dispatch starts it on that plan, not a cached one
    session.refresh_from_db()
    assert {d["id"]: d["throttle"] for d in session.plan["devices"]}[str(edge.pk)] == factors[str(edge.pk)]
