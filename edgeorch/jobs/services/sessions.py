"""Streams: what a session's source reports while it runs. Verbs: ``record_frames`` (per-frame records, then a
look by the adaptive re-planner), ``finish_session`` (the source's ``stream_done``).
"""

from __future__ import annotations

import uuid

from django.db.models import Q
from django.utils import timezone
from edgeorch_wire import protocol as p
from edgeorch_wire import qos

from edgeorch import events as dashboard

from .. import stats
from ..choices import Failover, RunState
from ..models import Deployment, Frame, Session
from . import adaptive, coordinator, failover, selection
from .transactions import run_transaction


def record_frames(
    session_id, frames: list[dict], source_id, arms: list[dict] | None = None, arms_deployment=None
) -> int:
    """Store a batch of per-frame records from the stream's source (duplicates are ignored), and an ``ans``
    source's learned ``arms`` (of ``arms_deployment``'s arms, else the session's deployment's: ``learned``);
    a batch from any other device is ignored (a device speaks only about its own work)."""
    mine = Session.objects.filter(pk=session_id, source_id=source_id)
    session = mine.only(
        "pk", "deadline_s", "failover", "model_id", "strategy", "deployment", "dynamic"
    ).first()
    if session is None:
        return 0
    frames = [f for f in frames if isinstance(f, dict) and isinstance(f.get("request_id"), int)]
    routes = _routes_of(session, [*(f.get("deployment") for f in frames), arms_deployment])
    now = routes.get(str(session.deployment_id), (session.model_id, {}))
    rows = [_frame_row(session, f, *routes.get(str(f.get("deployment")), now)) for f in frames]
    with run_transaction():
        Frame.objects.bulk_create(rows, ignore_conflicts=True)
        if arms:
            learned(session, arms, *routes.get(str(arms_deployment), now) if arms_deployment else now)
    frames = [
        {
            k: getattr(r, k)
            for k in (
                "request_id",
                "ok",
                "error",
                "latency_s",
                "deadline_met",
                "dropped",
                "trace",
                "arm",
                "config",
            )
        }
        for r in rows
    ]
    dashboard.publish("session.frames", {"session": str(session_id), "frames": frames})
    if session.failover != Failover.NONE:
        failover.note_recovery(session_id, rows)
    adaptive.on_report(session_id)
    if session.strategy == selection.STRATEGY:  # others pay no look on their report path
        selection.on_report(session_id)
    return len(rows)


def _routes_of(session, named: list) -> dict[str, tuple[int, dict[int, str]]]:
    """Deployment id -> (the model it ran, its ``ans`` arms: cut -> edge) for the session's deployment and the
    deployments ``named`` (the frames', the learned arms') that run the session's model or one of its
    variants (a failover's fallback, the QoE bandit's choice); others are not believed."""
    ids = {str(session.deployment_id)} if session.deployment_id else set()
    for value in named:
        try:
            ids.add(str(uuid.UUID(str(value))))
        except ValueError:
            pass
    if not ids:
        return {}
    allowed = Q(model_id=session.model_id) | Q(model__variant_of_id=session.model_id)
    rows = Deployment.objects.filter(allowed, pk__in=ids).values_list("pk", "model_id", "arms")
    return {str(pk): (model, {a["cut"]: a["edge"] for a in arms or ()}) for pk, model, arms in rows}


def learned(session, arms: list[dict], model_id, held: dict[int, str]) -> None:
    """Keep what an ``ans`` source reports it has learned on the arms of one deployment (``held``: cut ->
    edge; it runs ``model_id``) in ``Session.learning``: only the arms that deployment holds, each once. An
    ``ans`` session's learning is that; a ``qoe-bandit`` session split by ``ans`` keeps one entry per variant
    under ``ans`` (``selection`` writes the rest)."""
    kept = {}
    for arm in arms:
        cut = arm.get("cut")
        if isinstance(cut, int) and cut in held and cut not in kept:
            kept[cut] = {k: arm.get(k) for k in ("cut", "estimate_s", "bound_s", "pulls", "beside")}
    if not kept:
        return
    edges = set(held.values())
    entry = {
        "edge": edges.pop() if len(edges) == 1 else None,
        "arms": [kept[c] for c in sorted(kept)],
        "reported_at": timezone.now().isoformat(),
    }
    if session.strategy != selection.STRATEGY:
        session.learning = {"strategy": "ans", **entry}
        session.save(update_fields=["learning"])
        return
    row = Session.objects.select_for_update(of=("self",)).filter(pk=session.pk).only("learning").first()
    if row is None:
        return
    state = dict(row.learning or {})
    variants = [v for v in state.get("ans", []) if v.get("model") != model_id]
    state["ans"] = sorted([*variants, {"model": model_id, **entry}], key=lambda v: v["model"])
    row.learning = state
    row.save(update_fields=["learning"])


def _frame_row(session, f: dict, model_id, arms: dict[int, str]) -> Frame:
    """A reported frame as a row. Its deadline is its own (a served request's) or the session's; ``dropped``:
    a stage dropped it before computing it (docs/qos.md), which ``deadline_met`` counts as not met."""
    latency = float(f.get("latency_s") or 0.0)
    ok = bool(f.get("ok"))
    own = f.get("deadline_s")
    deadline = (
        float(own) if isinstance(own, int | float) and not isinstance(own, bool) else session.deadline_s
    )
    met = None if deadline is None else ok and latency <= deadline
    rank = f.get("priority")
    # dynamic: a configuration the session's table names (a device says which; the table says its accuracy)
    config = next((c for c in session.dynamic or () if c.get("name") == f.get("config")), None)
    return Frame(
        session=session,
        request_id=f["request_id"],
        ok=ok,
        error=str(f.get("error") or "")[:2000],
        latency_s=latency,
        trace=f.get("trace") or [],
        deadline_met=met,
        output=f.get("output") if isinstance(f.get("output"), dict) else None,
        resent=f.get("resent") is True,
        failover_s=float(f["failover_s"]) if isinstance(f.get("failover_s"), int | float) else None,
        arm=f["arm"] if type(f.get("arm")) is int and f["arm"] in arms else None,
        model_id=model_id,
        dropped=f.get("dropped") is True,
        priority=qos.priority_name(rank) if type(rank) is int and 0 <= rank <= qos.MAX_PRIORITY else "",
        deadline_s=deadline,
        config=config["name"] if config else "",
        accuracy=float(config["accuracy"]) if config and ok else None,
    )


def finish_session(session_id, message: p.StreamDone, source_id) -> None:
    """The source has emitted every frame (or was stopped) and every frame has ended: summarise and complete
    (only the session's own source may say so)."""
    with run_transaction():
        rows = Session.objects.select_for_update(of=("self",))
        session = rows.filter(pk=session_id, source_id=source_id).first()
        if session is None:
            return
        session.frames_sent, session.frames_ok = message.frames_sent, message.frames_ok
        if session.failures.filter(stage=p.SOURCE_STAGE, takeover="source").exists():
            # A backup source took the stream over: its count is of its own frames; the stored ones are all.
            session.frames_sent = session.frame_records.count()
            session.frames_ok = session.frame_records.filter(ok=True).count()
        session.summary = stats.summarise(session)
        fields = ["frames_sent", "frames_ok", "summary"]
        if session.state == RunState.RUNNING:
            fields += session.move_to(RunState.COMPLETED)
            coordinator.request_pass()  # a user left: the coordinator looks at the fleet again
        session.save(update_fields=fields)
