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
from . import adaptive, failover, selection
from .transactions import run_transaction


def record_frames(session_id, frames: list[dict], source_id, arms: list[dict] | None = None) -> int:
    """Store a batch of per-frame records from the stream's source (duplicates are ignored), and an ``ans``
    source's learned ``arms`` (``learned``); a batch from any other device is ignored (a device speaks only
    about its own work)."""
    mine = Session.objects.filter(pk=session_id, source_id=source_id)
    session = mine.only("pk", "deadline_s", "failover", "model_id", "strategy", "deployment").first()
    if session is None:
        return 0
    frames = [f for f in frames if isinstance(f, dict) and isinstance(f.get("request_id"), int)]
    answered_by = _models_of(session, frames)
    held = _arms_of(session)
    rows = [
        _frame_row(session, f, answered_by.get(f.get("deployment"), session.model_id), held) for f in frames
    ]
    with run_transaction():
        Frame.objects.bulk_create(rows, ignore_conflicts=True)
        if arms and held:
            learned(session, arms, held)
    frames = [
        {
            k: getattr(r, k)
            for k in ("request_id", "ok", "error", "latency_s", "deadline_met", "dropped", "trace", "arm")
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


def _models_of(session, frames: list[dict]) -> dict:
    """Deployment id -> the model it ran, for the deployments the frames name that run the session's model
    or one of its variants (a failover's fallback); others are not believed."""
    ids = set()
    for f in frames:
        try:
            ids.add(str(uuid.UUID(str(f.get("deployment")))))
        except ValueError:
            pass
    if not ids:
        return {}
    allowed = Q(model_id=session.model_id) | Q(model__variant_of_id=session.model_id)
    rows = Deployment.objects.filter(allowed, pk__in=ids).values_list("pk", "model_id")
    return {str(pk): model for pk, model in rows}


def _arms_of(session) -> dict[int, str]:
    """An ``ans`` session's arms, cut -> edge, as its deployment holds them ({} for other strategies)."""
    if session.strategy != "ans" or session.deployment_id is None:
        return {}
    rows = Deployment.objects.filter(pk=session.deployment_id).values_list("arms", flat=True).first()
    return {a["cut"]: a["edge"] for a in rows or ()}


def learned(session, arms: list[dict], held: dict[int, str]) -> None:
    """Keep what an ``ans`` source reports it has learned (``Session.learning``): only the arms its
    deployment holds (``held``), each once."""
    kept = {}
    for arm in arms:
        cut = arm.get("cut")
        if isinstance(cut, int) and cut in held and cut not in kept:
            kept[cut] = {k: arm.get(k) for k in ("cut", "estimate_s", "bound_s", "pulls")}
    if not kept:
        return
    edges = set(held.values())
    session.learning = {
        "strategy": "ans",
        "edge": edges.pop() if len(edges) == 1 else None,
        "arms": [kept[c] for c in sorted(kept)],
        "reported_at": timezone.now().isoformat(),
    }
    session.save(update_fields=["learning"])


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
        session.save(update_fields=fields)
