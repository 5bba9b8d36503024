"""Commands to the agent that starts a run: ``start`` (a job's ``run`` or a session's ``stream``, sent after
commit; ``start_message`` builds it), ``stop_stream``, and ``source_route``: which agent that is, and where it
sends the run's requests.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from edgeorch_wire import protocol as p
from edgeorch_wire import qos

from edgeorch.devices.models import Device
from edgeorch.planning.strategies import ans

from .. import agents
from ..choices import Failover, RunState
from ..models import Job

log = logging.getLogger(__name__)


def start(run, deployment, devices: dict[str, Device] | None = None) -> list[str]:
    """Move a run to ``running`` and tell the agent that starts it (``source_route``) to start, after commit
    (``devices``: rows read in this dispatch, saving queries)."""
    fields = run.move_to(RunState.RUNNING, started_at=timezone.now())
    agents.send_on_commit(*start_message(run, deployment, devices))
    return fields


def start_message(run, deployment, devices: dict[str, Device] | None = None, first_request: int = 0):
    """The agent that starts a run, the message telling it to, and the binary frame going with it (a stream
    from frame ``first_request`` on: a backup source taking over goes on from there)."""
    first = deployment.first_stage
    device, entry = source_route(run, deployment, devices)
    data = None
    message: p.Run | p.Stream
    if isinstance(run, Job):
        url = run.base_url.rstrip("/") + reverse("job-input", args=[run.pk])
        # A small input rides along as a binary frame, saving the agent an HTTP round trip to fetch it.
        inline = run.input_path.stat().st_size <= settings.JOB_INLINE_INPUT_MAX_BYTES
        data = run.input_path.read_bytes() if inline else None
        message = p.Run(str(deployment.pk), run.pk, first["stage"], url, inline=inline, entry=entry)
    else:
        url = run.base_url.rstrip("/") + reverse("session-input", args=[run.pk])
        # As many frames in flight as stages (an ans deployment's chains have at most two each).
        in_flight = run.max_in_flight or (2 if deployment.arms else max(1, len(deployment.stages)))
        report_every = max(1, min(50, round(run.rate / 2)))  # about two reports a second
        if run.strategy == "adaptive":  # re-planning reads the reports: about eight a second
            report_every = max(1, min(50, round(run.rate / 8)))
        source, spec = None, None
        if run.input_source is not None:
            # The source checks each preprocessed frame against the first stage's input, wherever it runs.
            tensor = first["inputs"][0]
            source = {**run.input_source, "input": {k: tensor[k] for k in ("name", "shape", "dtype")}}
            spec = run.model.preprocess
        message = p.Stream(
            str(deployment.pk),
            str(run.pk),
            first["stage"],
            url,
            run.rate,
            max(1, run.frames - first_request),
            in_flight,
            report_every,
            entry,
            serve=run.serve,
            source=source,
            preprocess=spec,
            failover=run.failover != Failover.NONE,
            first_request=first_request,
            deadline_s=run.deadline_s,  # every frame's deadline (docs/qos.md), and a failover frame's
            priority=qos.priority_rank(run.priority),
            stall_s=stall_budget(run),
            ans=ans_spec(run, deployment, devices) if deployment.arms and device == run.source else None,
        )
    return device, message, data


def ans_spec(run, deployment, devices: dict[str, Device] | None = None) -> dict:
    """An ``ans`` stream's arms (``Stream.ans``): each arm's first stage, its entry when that stage is on
    the edge, its context (``planning.strategies.ans.contexts``) and the plan's predicted front-end time;
    the learned state is the source's, kept under the model and the edge; ``beside``: the session's ``beside``
    parameter (looks beside local frames, docs/learning.md; default on)."""
    model = deployment.model
    n, predicted = len(model.blocks), {a["cut"]: a for a in (run.plan or {}).get("arms") or ()}
    contexts = ans.contexts(model.blocks, [a["cut"] for a in deployment.arms])
    arms = []
    for arm, context in zip(deployment.arms, contexts, strict=True):
        stage = deployment.stages[arm["first_stage"]]
        out = {
            "cut": arm["cut"],
            "first_stage": arm["first_stage"],
            "context": context,
            "front_s": (predicted.get(arm["cut"]) or {}).get("front_s") or 0.0,
        }
        if stage["device"] != str(run.source_id):
            peer = (devices or {}).get(stage["device"]) or Device.objects.get(pk=stage["device"])
            out["entry"] = _entry(run, deployment, stage, peer)
        arms.append(out)
    edge = deployment.arms[0]["edge"]
    beside = (run.params or {}).get("beside") is not False
    return {"key": f"model {model.pk} edge {edge}", "blocks": n, "arms": arms, "beside": beside}


def stall_budget(run) -> float | None:
    """A failover session's per-frame budget (``Stream.stall_s``): ``FAILOVER_STALL_FACTOR`` times its
    predicted latency, at least ``FAILOVER_STALL_MIN_S``; None for a session that does not fail over."""
    if run.failover == Failover.NONE:
        return None
    predicted = run.predicted_latency_s or 0.0
    return round(max(settings.FAILOVER_STALL_FACTOR * predicted, settings.FAILOVER_STALL_MIN_S), 6)


def source_route(run, deployment, devices: dict[str, Device] | None = None) -> tuple[Device, dict | None]:
    """Which agent starts a run's requests (a job's one, a session's frames), and where it sends them: the
    run's source sends each input to the first stage over the data plane (its emulated link included), unless
    it has no data plane, in which case the first stage's agent starts them itself. ``devices``: rows read in
    this dispatch, saving queries."""
    first = deployment.first_stage
    source = run.source
    peer = (devices or {}).get(first["device"]) or Device.objects.get(pk=first["device"])
    if first["device"] == str(source.pk) or not source.dataplane_port:
        return peer, None
    return source, _entry(run, deployment, first, peer)


def _entry(run, deployment, stage: dict, peer: Device) -> dict:
    """Where the source sends a request's input to ``stage`` on ``peer`` over the data plane."""
    return {
        "device_id": str(peer.pk),
        "host": peer.dataplane_host or "127.0.0.1",
        "port": peer.dataplane_port or 0,
        "codec": run.codec,
        "tensor": stage["inputs"][0]["name"],
        "secret": deployment.secret,
        "name": peer.name,
    }


def stop_stream(session) -> None:
    """Tell a session's source to stop emitting (a stream that never started has nothing to stop); a
    serving session's source is told why its model is not served (``serve_status``), started or not."""
    if session.serve is not None:
        _serving_ended(session)
        return
    if session.started_at is None:
        return
    source = source_route(session, session.deployment)[0] if session.deployment else None
    if source is not None and source.channel_name:
        try:
            agents.send(source, p.StreamStop(str(session.pk)))
        except Exception:  # the stream ends on its own at its frame count; a lost stop is not worth a crash
            log.warning("could not tell %s to stop session %s", source, session.pk, exc_info=True)


def _serving_ended(session) -> None:
    """The source's endpoint stops serving the session's model and says why until it asks again."""
    source = session.source
    if not source.channel_name:
        return
    serve = session.serve
    status = p.ServeStatus(
        serve["model"],
        "failed",
        session.reason or f"its serving session {session.state}",
        serve.get("version"),
        str(session.pk),
        serve.get("inputs") or [],
        serve.get("outputs") or [],
    )
    try:
        agents.send(source, status)
    except Exception:  # its endpoint then finds out from its next request's failure
        log.warning("could not tell %s that session %s ended", source, session.pk, exc_info=True)
