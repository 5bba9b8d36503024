"""Jobs and sessions: submit, plan, deploy, run, record what the agents report, and end every run cleanly.

The flow of a one-shot job: ``submit_job`` stores the row and its input and enqueues ``tasks.dispatch_job``,
which plans (``plans.make_plan``), finds or creates a ``Deployment`` and either starts the run at once (the
deployment is ready) or waits in ``deploying`` until every device's ``deploy_status`` has arrived
(``record_deploy_status`` then starts every run waiting on it). The agents pass activations peer to peer;
the last stage's agent reports ``result`` + the output tensor (``record_result``). A stage error, a device
disconnecting or the timeout (``expire_job``) ends the job ``failed`` with the reason and the stage.

Races are settled on the rows. A state change either locks the run row (``select_for_update``, then
``Run.move_to``, which refuses to leave a terminal state) or, on the two hot paths (starting a run on a
ready deployment, storing a result), is one conditional UPDATE (``Run.move_if``) that moves the row only
from the state it expects. Either way a result arriving while the timeout fires finishes the job exactly
once, whichever commits first. Deployment readiness locks the deployment row first, then runs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from contextlib import contextmanager
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Exists, Q
from django.urls import reverse
from django.utils import timezone
from edgeorch_agent import protocol as p
from edgeorch_agent.codecs import CODECS, CodecError
from edgeorch_agent.codecs import decode as decode_tensor
from edgeorch_agent.dataplane import FrameError, parse_activation, parse_frame

from edgeorch import events as dashboard
from edgeorch import planning
from edgeorch.catalog import services as catalog
from edgeorch.catalog.segments import SegmentError
from edgeorch.devices.choices import DeviceStatus
from edgeorch.devices.models import Device
from edgeorch.plans import cache as plan_cache
from edgeorch.plans import services as plans
from edgeorch.plans.overrides import PlanInputError

from . import adaptive, agents, inputs, stats
from .choices import ACTIVE, DeploymentState, InputKind, MeasurementState, RunState
from .models import Deployment, Frame, IllegalTransition, Job, Measurement, SecondsSince, Session, skips_flush

log = logging.getLogger(__name__)


class SubmitError(ValueError):
    """A request that cannot become a job or session; the message says what to change (HTTP 400)."""


# --- submitting ------------------------------------------------------------------------------------


@contextmanager
def run_transaction():
    """A transaction changing a run's rows. On PostgreSQL it commits without waiting for the disk unless
    ``JOB_SYNCHRONOUS_COMMIT``: each durable commit costs a disk flush (4 ms on the benchmark machine in one
    session, 0.4-0.9 ms in a later one), while a crash of the database loses at most its last fraction of a second of run
    states, never corrupts them, and a run it leaves active fails by the overdue sweep."""
    with transaction.atomic():
        if skips_flush():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield


def check_request(model, source, strategy: str, params: dict, candidates: list, codec: str) -> None:
    """Refuse early what can never plan: unknown strategy, parameters or codec, an offline source."""
    info = planning.STRATEGIES.get(strategy)
    if info is None:
        raise SubmitError(f"unknown strategy {strategy!r}; known: {', '.join(planning.STRATEGIES)}")
    unknown = set(params) - set(info.params)
    if unknown:
        raise SubmitError(f"{strategy} takes no parameter {', '.join(sorted(unknown))}")
    if codec not in CODECS:
        raise SubmitError(f"unknown codec {codec!r}; known: {', '.join(CODECS)}")
    if source.status != DeviceStatus.ONLINE:
        raise SubmitError(f"the source device {source.name} is {source.status}")
    known = set(map(str, Device.objects.filter(pk__in=candidates).values_list("pk", flat=True)))
    missing = [str(c) for c in candidates if str(c) not in known]
    if missing:
        raise SubmitError(f"unknown device(s) {', '.join(missing)}")


def make_input(model, *, upload: bytes | None = None, sample: int | None = None, seed: int = 0):
    """The input array and how it was made; ``inputs.InputError`` becomes a ``SubmitError``."""
    try:
        if upload is not None:
            return inputs.parse_upload(model, upload), InputKind.UPLOAD, None
        if sample is not None:
            return inputs.sample(model, sample), InputKind.SAMPLE, sample
        return inputs.random(model, seed), InputKind.RANDOM, None
    except inputs.InputError as exc:
        raise SubmitError(str(exc)) from None


def submit_job(*, model, source, strategy="device-edge", params=None, candidates=(), codec="raw",
               upload=None, sample=None, seed=0, timeout_s=None, user=None, base_url="") -> Job:  # fmt: skip
    """Create a pending job with its input stored, and enqueue its dispatch after commit."""
    from . import tasks

    params, candidates = dict(params or {}), [str(c) for c in candidates]
    check_request(model, source, strategy, params, candidates, codec)
    array, kind, k = make_input(model, upload=upload, sample=sample, seed=seed)
    return _create(
        Job, array, tasks.dispatch_job, tasks.expire_job,
        model=model, source=source, strategy=strategy, params=params, candidates=candidates, codec=codec,
        input_kind=kind, input_sample=k, timeout_s=timeout_s or settings.JOB_TIMEOUT_S,
        base_url=base_url or settings.PUBLIC_URL, created_by=user,
    )  # fmt: skip


def start_session(*, model, source, strategy="pipeline", params=None, candidates=(), codec="raw", rate=10.0,
                  frames=None, duration_s=None, deadline_s=None, max_in_flight=None, sample=None, seed=0,
                  timeout_s=None, user=None, base_url="") -> Session:  # fmt: skip
    """Create a pending stream session (``frames`` or ``duration_s`` x ``rate`` frames) and enqueue it."""
    from . import tasks

    params, candidates = dict(params or {}), [str(c) for c in candidates]
    check_request(model, source, strategy, params, candidates, codec)
    if not rate > 0:
        raise SubmitError("rate must be positive (frames per second)")
    count = frames if frames is not None else round((duration_s or 0) * rate)
    if count < 1:
        raise SubmitError("give a frame count or a duration of at least one frame")
    array, kind, k = make_input(model, sample=sample, seed=seed)
    stream_s = count / rate
    return _create(
        Session, array, tasks.dispatch_session, tasks.expire_session,
        model=model, source=source, strategy=strategy, params=params, candidates=candidates, codec=codec,
        input_kind=kind, input_sample=k, rate=rate, frames=count, deadline_s=deadline_s,
        max_in_flight=max_in_flight or 0, timeout_s=timeout_s or stream_s + settings.JOB_TIMEOUT_S,
        base_url=base_url or settings.PUBLIC_URL, created_by=user,
    )  # fmt: skip


def _create(kind, array, dispatch_task, expire_task, **fields):
    """A pending run with its input stored, its dispatch and its timeout enqueued (after the caller's
    transaction commits, if there is one).

    The row is inserted on its own, in one round trip (no transaction: every statement around it would be
    one more, on every one-shot job's path), then its input written; a run whose input could not be written
    is deleted again. Either way the dispatch is published only once row and input exist, and a run left
    pending by a process dying in between fails at its timeout (the beat's overdue sweep)."""
    run = kind.objects.create(**fields)
    try:
        _write(run.input_path, inputs.to_npy(array))
    except BaseException:
        kind.objects.filter(pk=run.pk).delete()
        raise
    pk = str(run.pk) if kind is Session else run.pk  # the tasks take a session's UUID as text
    dispatch_task.delay_on_commit(pk)
    expire_task.apply_async_on_commit((pk,), countdown=run.timeout_s)
    return run


def _write(path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


# --- planning and deploying -------------------------------------------------------------------------


def _lock(kind, pk):
    """The run row, locked, with its source and model (None when there is none)."""
    return (
        kind.objects.select_for_update(of=("self",)).select_related("source", "model").filter(pk=pk).first()
    )


PLANNING_ERRORS = (planning.PlanningError, PlanInputError, SegmentError, agents.AgentUnavailable)


def dispatch(kind, pk) -> None:
    """Plan a pending job or session, deploy its segments where needed, and start it (idempotent).

    The common case, a plan over a fleet that has not changed and a deployment that is ready, takes no lock
    and no transaction: the run, its devices and the deployment are read, and one UPDATE starts the run if
    it is still pending and the deployment still ready (``_start_on_ready``; each statement is a round trip
    and about a millisecond of Python on the benchmark machine). Otherwise the run moves on under locks,
    with the plan just made; only a run that needs a new deployment (segments cut, agents loading them) is
    seen in ``planning`` meanwhile.

    Lock order: run, then deployment here, where the run is still pending; deployment, then run once it
    has one (here below and in ``record_deploy_status``, which locks only runs already waiting on the
    deployment), so no two transactions wait on each other. On the locked path the deployment is locked
    before its state is read, and on the other the UPDATE reads it: readiness cannot slip between reading it
    and the run choosing to start on it or wait for it (``_start_on_ready`` says what one window costs).
    """
    run = kind.objects.select_related("source", "model").filter(pk=pk).first()
    if run is None or run.state != RunState.PENDING:
        return  # a retried task, or cancelled before it was planned
    try:
        devices = candidate_devices(run)
        plan = plan_run(run, devices)
        deployment = live_deployments(run, plan, devices).first()
    except PLANNING_ERRORS as exc:
        fail(kind, pk, f"planning failed: {exc}")
        return
    ready = deployment is not None and deployment.state == DeploymentState.READY
    if ready and _start_on_ready(kind, run, plan, deployment, devices):
        return
    with run_transaction():
        run = _lock(kind, pk)
        if run is None or run.state != RunState.PENDING:
            return  # cancelled meanwhile
        deployment = live_deployments(run, plan, devices).select_for_update().first()
        fields = run.move_to(RunState.PLANNING)
        if deployment is not None:
            run.save(update_fields=fields + _place(run, plan, deployment, devices))
            return
        run.save(update_fields=fields)
    try:
        deployment = create_deployment(run, plan, devices)
    except PLANNING_ERRORS as exc:
        fail(kind, pk, f"planning failed: {exc}")
        return
    with run_transaction():
        deployment = Deployment.objects.select_for_update().get(pk=deployment.pk)
        run.state = kind.objects.select_for_update().filter(pk=pk).values_list("state", flat=True).first()
        if run.state != RunState.PLANNING:
            return  # cancelled or failed while its deployment was made
        run.save(update_fields=_place(run, plan, deployment, devices))


def _place(run, plan: dict, deployment: Deployment, devices: dict[str, Device]) -> list[str]:
    """Put a planning run on its (locked) deployment: start it when the deployment is ready, else wait for it
    to be; returns the fields to save."""
    # A job's measured latency includes its hops through the control plane, which the plan does not model.
    overhead = deployment.job_overhead_s if isinstance(run, Job) else 0.0
    run.plan, run.deployment, run.predicted_latency_s = plan, deployment, plan["latency"] + overhead
    fields = ["plan", "deployment", "predicted_latency_s"]
    if deployment.state == DeploymentState.READY:
        return fields + _start(run, deployment, devices)
    if deployment.state == DeploymentState.DEPLOYING:
        return fields + run.move_to(RunState.DEPLOYING)
    reason = f"planning failed: its deployment {deployment.state}: {deployment.error or 'a device left'}"
    return fields + run.move_to(RunState.FAILED, reason=reason)  # failed or retired since it was made


def dispatch_job(job_id) -> None:
    """Plan, deploy and start a pending job (the Celery task's body)."""
    dispatch(Job, job_id)


def dispatch_session(session_id) -> None:
    """Plan, deploy and start a pending stream session (the Celery task's body)."""
    dispatch(Session, session_id)


def candidate_devices(run) -> dict[str, Device]:
    """The devices a run may use, read fresh (every device when none were named), and its source."""
    devices = plan_cache.with_fleet_version(Device.objects.exclude(status=DeviceStatus.REVOKED))
    if run.candidates:
        devices = devices.filter(pk__in=run.candidates)
    return {str(run.source.pk): run.source, **{str(d.pk): d for d in devices}}


def plan_run(run, devices: dict[str, Device] | None = None) -> dict:
    """The plan for a run over its candidate devices; the same fleet in the same state gets the plan it got
    a moment ago (``plans.cache``)."""
    devices = candidate_devices(run) if devices is None else devices
    rows = [d for pk, d in devices.items() if not run.candidates or pk in run.candidates]
    if isinstance(run, Session) and run.strategy == "adaptive":
        return adaptive.initial_plan(run, rows)  # from what it has learned: never a cached plan
    deadline = getattr(run, "deadline_s", None)
    return plan_cache.plans.plan(
        plans.make_plan, run.model, rows, run.source, run.strategy, deadline=deadline, params=dict(run.params)
    )


def cuts_of(plan: dict) -> list[int]:
    """Cut indices between the plan's stages: stage k ends at block ``last_block``, i.e. before cut
    ``last_block`` (block i lies between cut i-1 and cut i)."""
    return [stage["last_block"] for stage in plan["stages"][:-1]]


def _placement(run, plan: dict, devices: dict[str, Device]) -> tuple[str, dict[str, Device]]:
    """The deployment key of this placement, and its devices (all of them connected)."""
    used = {s["device"]: devices.get(s["device"]) for s in plan["stages"]}
    offline = [d.name if d else pk for pk, d in used.items() if d is None or d.status != DeviceStatus.ONLINE
               or not d.channel_name]  # fmt: skip
    if offline:
        raise agents.AgentUnavailable(f"{', '.join(offline)} not connected")
    placement = [(s["device"], used[s["device"]].dataplane_port) for s in plan["stages"]]
    key = hashlib.sha256(json.dumps([run.model_id, cuts_of(plan), placement, run.codec]).encode()).hexdigest()
    return key, used


def live_deployments(run, plan: dict, devices: dict[str, Device]):
    """The ready or deploying deployments of this placement, newest first (raises ``AgentUnavailable`` when
    one of its devices is not connected)."""
    key, _ = _placement(run, plan, devices)
    live = (DeploymentState.READY, DeploymentState.DEPLOYING)
    return Deployment.objects.filter(key=key, state__in=live).order_by("-created_at")


def find_deployment(run, plan: dict, devices: dict[str, Device]) -> Deployment | None:
    """A ready or deploying deployment of this placement whose devices are all online, if there is one."""
    return live_deployments(run, plan, devices).first()


def ensure_deployment(run, plan: dict, devices: dict[str, Device] | None = None) -> Deployment:
    """``find_deployment``, else a new deployment (whose ``deploy`` messages go out after commit)."""
    devices = candidate_devices(run) if devices is None else devices
    return find_deployment(run, plan, devices) or create_deployment(run, plan, devices)


def create_deployment(run, plan: dict, devices: dict[str, Device]) -> Deployment:
    """A new deployment of the plan's segments; each device is sent its stages after commit."""
    key, used = _placement(run, plan, devices)
    cuts = cuts_of(plan)
    segments = catalog.get_segments(run.model, cuts)
    stages = _stage_messages(run, plan, segments, used)
    order = list(dict.fromkeys(s["device"] for s in stages))
    with run_transaction():
        deployment = Deployment.objects.create(
            key=key, model=run.model, cuts=",".join(map(str, cuts)), stages=stages, devices=order
        )
        for device_id in order:
            mine = [{k: v for k, v in s.items() if k != "device"} for s in stages if s["device"] == device_id]
            deploy = p.Deploy(str(deployment.pk), deployment.secret, mine, settings.JOB_AGENT_THREADS or None)
            agents.send_on_commit(used[device_id], deploy)
    return deployment


def _stage_messages(run, plan, segments, devices) -> list[dict]:
    stages = []
    for k, (stage, segment) in enumerate(zip(plan["stages"], segments, strict=True)):
        following = plan["stages"][k + 1]["device"] if k + 1 < len(plan["stages"]) else None
        hop = None
        if following is not None:
            peer = devices[following]
            hop = {"device_id": following, "host": peer.dataplane_host or "127.0.0.1",
                   "port": peer.dataplane_port or 0, "codec": run.codec}  # fmt: skip
        url = run.base_url.rstrip("/") + reverse("catalog-segment-file", args=[segment.sha256])
        stages.append({"stage": k, "device": stage["device"], "url": url, "sha256": segment.sha256,
                       "inputs": segment.inputs, "outputs": segment.outputs, "next": hop})  # fmt: skip
    return stages


def record_deploy_status(device_id, message: p.DeployStatus) -> None:
    """A device loaded (or failed to load) its stages; when every device is ready, start the waiting runs."""
    with run_transaction():
        deployment = (
            Deployment.objects.select_for_update(of=("self",)).filter(pk=message.deployment_id).first()
        )
        if deployment is None or deployment.state != DeploymentState.DEPLOYING:
            return
        device_id = str(device_id)
        if not message.ok:
            deployment.state, deployment.error = DeploymentState.FAILED, message.error or "deploy failed"
            deployment.save(update_fields=["state", "error"])
            stage = deployment.stage_of(device_id)
            for kind, pk in _waiting(deployment):
                fail(kind, pk, f"deploy failed on stage {stage}: {deployment.error}", stage=stage)
            return
        deployment.ready_devices = sorted({*deployment.ready_devices, device_id})
        deployment.load_s = {**deployment.load_s, device_id: message.load_s}
        fields = ["ready_devices", "load_s"]
        if set(deployment.ready_devices) >= set(deployment.devices):
            deployment.state, deployment.ready_at = DeploymentState.READY, timezone.now()
            fields += ["state", "ready_at"]
        deployment.save(update_fields=fields)
        if deployment.state == DeploymentState.READY:
            for kind, pk in _waiting(deployment):
                run = _lock(kind, pk)
                if run is not None and run.state == RunState.DEPLOYING:
                    run.save(update_fields=_start(run, deployment))


def _waiting(deployment):
    for kind in (Job, Session):
        for pk in kind.objects.filter(deployment=deployment, state=RunState.DEPLOYING).values_list(
            "pk", flat=True
        ):
            yield kind, pk


def _start(run, deployment, devices: dict[str, Device] | None = None) -> list[str]:
    """Move a run to ``running`` and tell the agent that starts it (``source_route``) to start, after commit
    (``devices``: rows read in this dispatch, saving queries)."""
    fields = run.move_to(RunState.RUNNING, started_at=timezone.now())
    agents.send_on_commit(*_start_message(run, deployment, devices))
    return fields


def _start_message(run, deployment, devices: dict[str, Device] | None = None):
    """The agent that starts a run, the message telling it to, and the binary frame going with it."""
    first = deployment.first_stage
    device, entry = source_route(run, deployment, devices)
    data = None
    if isinstance(run, Job):
        url = run.base_url.rstrip("/") + reverse("job-input", args=[run.pk])
        # A small input rides along as a binary frame, saving the agent an HTTP round trip to fetch it.
        inline = run.input_path.stat().st_size <= settings.JOB_INLINE_INPUT_MAX_BYTES
        data = run.input_path.read_bytes() if inline else None
        message = p.Run(str(deployment.pk), run.pk, first["stage"], url, inline=inline, entry=entry)
    else:
        url = run.base_url.rstrip("/") + reverse("session-input", args=[run.pk])
        in_flight = run.max_in_flight or max(1, len(deployment.stages))
        report_every = max(1, min(50, round(run.rate / 2)))  # about two reports a second
        if run.strategy == "adaptive":  # re-planning reads the reports: about eight a second
            report_every = max(1, min(50, round(run.rate / 8)))
        message = p.Stream(str(deployment.pk), str(run.pk), first["stage"], url, run.rate, run.frames,
                           in_flight, report_every, entry)  # fmt: skip
    return device, message, data


def _start_on_ready(kind, run, plan: dict, deployment: Deployment, devices: dict[str, Device]) -> bool:
    """The common case in one statement: a pending run whose plan has a ready deployment moves straight to
    ``running`` if, when the UPDATE runs, it is still pending and that deployment still ready (False when
    either changed: the caller takes the locked path). Then its source is told to start.

    No lock is held: the one UPDATE checks both rows. A cancel or a timeout that commits first leaves the
    run no longer pending; a device leaving retires its deployments first, then fails the runs on them.
    One window is left: a retirement committing while this very UPDATE runs (it read the deployment as
    ready), whose list of runs to fail was read before this commit. Such a run ends failed when its agent
    or peer cannot be reached, at the latest at its timeout, never hangs.
    """
    device, message, data = _start_message(run, deployment, devices)
    overhead = deployment.job_overhead_s if isinstance(run, Job) else 0.0
    values = {"plan": plan, "deployment": deployment, "predicted_latency_s": plan["latency"] + overhead,
              "started_at": timezone.now()}  # fmt: skip
    ready = Exists(Deployment.objects.filter(pk=deployment.pk, state=DeploymentState.READY))
    if not kind.move_if(run.pk, RunState.PENDING, RunState.RUNNING, ready, **values):
        return False
    for name, value in values.items():
        setattr(run, name, value)
    run.state = RunState.RUNNING
    try:
        agents.send(device, message, data)
    except Exception as exc:  # the run is running: it must fail now, not at its timeout
        fail(kind, run.pk, f"could not tell {device.name} to start: {exc}")
        return True
    dashboard.publish(f"{kind._meta.model_name}.{RunState.RUNNING}", run.progress())
    return True


# --- results and failures ---------------------------------------------------------------------------


def decode_output(data: bytes) -> np.ndarray:
    """The tensor in a ``result``'s binary frame (the agent's EOD1 activation frame)."""
    act = parse_activation(parse_frame(data))
    return decode_tensor(act.codec, act.payload, act.params, act.dtype, act.shape)


def record_result(device_id, message: p.Result, data: bytes | None) -> bool:
    """The last stage's output for a one-shot job: store it and complete the job (False when the job had
    already ended: cancelled, timed out, failed)."""
    try:
        array = decode_output(data) if data is not None else None
    except (FrameError, CodecError) as exc:
        return fail(Job, message.request_id, f"the result could not be decoded: {exc}")
    # Race: the result can arrive while the timeout task or a cancel ends the job. The one UPDATE moves the
    # job only if it is still running on this deployment, so whichever commits first wins and the loser
    # changes nothing (``Run.move_if``). The output is written aside first and put in place only by the
    # winner: a late or repeated result never replaces a stored output.
    output_path, pending = Job(pk=message.request_id).output_path, None
    if not output_path.parent.is_dir() or not _is_uuid(message.deployment_id):
        log.info("dropping a result for job %s: no such job or deployment", message.request_id)
        return False  # every job's directory holds its input from submission on
    if array is not None:
        pending = output_path.with_suffix(f".{uuid.uuid4().hex}.part")
        pending.parent.mkdir(parents=True, exist_ok=True)
        pending.write_bytes(inputs.to_npy(array))
    now = timezone.now()
    moved = Job.move_if(
        message.request_id, RunState.RUNNING, RunState.COMPLETED, where={"deployment_id": message.deployment_id},
        finished_at=now, trace=message.trace, output=message.output,
        measured_latency_s=SecondsSince("started_at", now),
    )  # fmt: skip
    if not moved:
        if pending is not None:
            pending.unlink(missing_ok=True)
        log.info("dropping a result for job %s: not running (any more)", message.request_id)
        return False
    if pending is not None:
        pending.replace(output_path)
    # Off the job's path from here: its result is stored.
    job = (
        Job.objects.only(*Job.PROGRESS_FIELDS, "plan", "deployment_id", "measured_latency_s")
        .filter(pk=message.request_id)
        .first()
    )
    if job is None:
        return True  # deleted as soon as it completed
    dashboard.publish(f"job.{job.state}", job.progress())
    if job.plan and "latency" in job.plan:
        _remember_overhead(job.deployment_id, job.measured_latency_s - float(job.plan["latency"]))
    return True


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except (TypeError, ValueError):
        return False
    return True


def _remember_overhead(deployment_id, seconds: float) -> None:
    """Keep a finished job's time beyond its plan on its deployment (after the result is stored: off the
    job's own path)."""
    with run_transaction():
        deployment = (
            Deployment.objects.select_for_update().filter(pk=deployment_id).only("job_overheads").first()
        )
        if deployment is not None:
            samples = [*(deployment.job_overheads or []), round(seconds, 6)]
            deployment.job_overheads = samples[-Deployment.OVERHEAD_SAMPLES :]
            deployment.save(update_fields=["job_overheads"])


def fail(kind, pk, reason: str, stage: int | None = None) -> bool:
    """End an active job or session as ``failed`` with the reason and stage; False when it had already ended."""
    with run_transaction():
        run = kind.objects.select_for_update(of=("self",)).filter(pk=pk).first()
        if run is None or run.terminal:
            return False
        fields = run.move_to(RunState.FAILED, reason=reason[:2000], failed_stage=stage)
        run.save(update_fields=fields + (_tally(run) if kind is Session else []))
    log.warning("%s failed: %s", run, reason)
    if kind is Session:
        _stop_stream(run)
    return True


def _tally(session: Session) -> list[str]:
    """A session that ends before its source's ``stream_done`` (failed, stopped, timed out): its counters and
    summary from the frames stored so far (the source's own count, if it still comes, replaces them)."""
    stored = session.frame_records.aggregate(sent=Count("pk"), ok=Count("pk", filter=Q(ok=True)))
    session.frames_sent = max(session.frames_sent, stored["sent"])
    session.frames_ok = max(session.frames_ok, stored["ok"])
    session.summary = stats.summarise(session)
    return ["frames_sent", "frames_ok", "summary"]


def fail_job(job_id, reason: str, stage: int | None = None) -> bool:
    """``fail`` for a job."""
    return fail(Job, job_id, reason, stage)


def record_stage_error(device_id, message: p.StageFailed) -> None:
    """A stage raised: a one-shot job fails there; a stream frame's failure arrives in its report, and only
    a stream that could not start (request -1) fails the session."""
    device = Device.objects.filter(pk=device_id).first()
    where = f"stage {message.stage} on {device.name if device else message.device_id}"
    reason = f"{where} failed: {message.error}"
    if message.session_id is None:
        fail(Job, message.request_id, reason, stage=message.stage)
    elif message.request_id < 0:
        fail(Session, message.session_id, reason, stage=message.stage)


def cancel(kind, pk, user=None):
    """Cancel an active job or session; raises ``IllegalTransition`` when it has already ended."""
    with run_transaction():
        run = kind.objects.select_for_update(of=("self",)).get(pk=pk)
        who = f" by {user.get_username()}" if user is not None else ""
        fields = run.move_to(RunState.CANCELLED, reason=f"cancelled{who}")
        run.save(update_fields=fields + (_tally(run) if kind is Session else []))
    if kind is Session:
        _stop_stream(run)
    return run


def cancel_job(job_id, user=None) -> Job:
    return cancel(Job, job_id, user)


def stop_session(session_id, user=None) -> Session:
    """Stop a stream: the source stops emitting; frames in flight still finish and are recorded."""
    return cancel(Session, session_id, user)


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
    entry = {"device_id": str(peer.pk), "host": peer.dataplane_host or "127.0.0.1", "port": peer.dataplane_port or 0,
             "codec": run.codec, "tensor": first["inputs"][0]["name"], "secret": deployment.secret,
             "name": peer.name}  # fmt: skip
    return source, entry


def _stop_stream(session) -> None:
    if session.started_at is None:
        return
    source = source_route(session, session.deployment)[0] if session.deployment else None
    if source is not None and source.channel_name:
        try:
            agents.send(source, p.StreamStop(str(session.pk)))
        except Exception:  # the stream ends on its own at its frame count; a lost stop is not worth a crash
            log.warning("could not tell %s to stop session %s", source, session.pk, exc_info=True)


def expire(kind, pk) -> bool:
    """The run's deadline passed: fail it, saying where it was stuck (no-op once it has ended)."""
    with run_transaction():
        run = kind.objects.select_for_update(of=("self",)).select_related("deployment").filter(pk=pk).first()
        if run is None or run.terminal:
            return False
        reason, stage = _stuck_at(run)
        # Race: a result may be committing right now; whichever takes the row lock first wins, the other
        # sees a terminal state and leaves it alone.
        fields = run.move_to(RunState.FAILED, reason=reason, failed_stage=stage)
        run.save(update_fields=fields + (_tally(run) if kind is Session else []))
    if run.state == RunState.FAILED and run.deployment_id and reason.endswith("load its segments"):
        # Nobody answered the deploy: later runs must not wait on this deployment again.
        Deployment.objects.filter(pk=run.deployment_id, state=DeploymentState.DEPLOYING).update(
            state=DeploymentState.FAILED, error=reason
        )
    if kind is Session:
        _stop_stream(run)
    return True


def _stuck_at(run) -> tuple[str, int | None]:
    after = f"timed out after {run.timeout_s:g} s"
    deployment = run.deployment
    if run.state in (RunState.PENDING, RunState.PLANNING) or deployment is None:
        return f"{after} while {run.state}", None
    names = dict(Device.objects.filter(pk__in=deployment.devices).values_list("pk", "name"))
    names = {str(k): v for k, v in names.items()}
    if run.state == RunState.DEPLOYING:
        waiting = [d for d in deployment.devices if d not in deployment.ready_devices]
        stage = deployment.stage_of(waiting[0]) if waiting else None
        who = ", ".join(names.get(d, d) for d in waiting)
        return f"{after} at stage {stage} waiting for {who} to load its segments", stage
    last = deployment.stages[-1]
    what = "the result" if isinstance(run, Job) else "the stream to finish"
    return f"{after} at stage {last['stage']} ({names.get(last['device'])}) waiting for {what}", last["stage"]


def device_gone(device_id) -> int:
    """A device's agent disconnected: retire its deployments and fail the runs using them, naming the stage."""
    device_id = str(device_id)
    name = Device.objects.filter(pk=device_id).values_list("name", flat=True).first() or device_id
    live = (DeploymentState.READY, DeploymentState.DEPLOYING)
    failed = 0
    # The live deployments are few (one per placement in use): their device lists are read in Python, the
    # same on SQLite and PostgreSQL (a JSON containment lookup is PostgreSQL's alone).
    placing = [d for d in Deployment.objects.filter(state__in=live) if device_id in d.devices]
    for deployment in placing:
        Deployment.objects.filter(pk=deployment.pk).update(state=DeploymentState.RETIRED)
        stage = deployment.stage_of(device_id)
        for kind in (Job, Session):
            for pk in kind.objects.filter(deployment=deployment, state__in=ACTIVE).values_list(
                "pk", flat=True
            ):
                failed += fail(kind, pk, f"device {name} disconnected during stage {stage}", stage=stage)
    return failed


def expire_overdue(now=None) -> int:
    """Fail every active run past its timeout (a safety net behind the per-run countdown tasks), and every
    measurement no answer came for within ``MEASUREMENT_TIMEOUT_S`` (an agent that went away, or whose answer
    was refused as malformed)."""
    now = now or timezone.now()
    count = 0
    for kind in (Job, Session):
        for run in kind.objects.filter(state__in=ACTIVE).only("pk", "created_at", "timeout_s"):
            if run.created_at + timedelta(seconds=run.timeout_s) <= now:
                count += expire(kind, run.pk)
    waited = timedelta(seconds=settings.MEASUREMENT_TIMEOUT_S)
    count += Measurement.objects.filter(state=MeasurementState.PENDING, created_at__lte=now - waited).update(
        state=MeasurementState.FAILED, finished_at=now,
        error=f"no answer from the agent within {settings.MEASUREMENT_TIMEOUT_S:g} s",
    )  # fmt: skip
    return count


# --- streams ----------------------------------------------------------------------------------------


def record_frames(session_id, frames: list[dict]) -> int:
    """Store a batch of per-frame records from the stream's source (duplicates are ignored)."""
    session = Session.objects.filter(pk=session_id).only("pk", "deadline_s").first()
    if session is None:
        return 0
    rows = [
        _frame_row(session, f) for f in frames if isinstance(f, dict) and isinstance(f.get("request_id"), int)
    ]
    with run_transaction():
        Frame.objects.bulk_create(rows, ignore_conflicts=True)
    frames = [
        {k: getattr(r, k) for k in ("request_id", "ok", "error", "latency_s", "deadline_met", "trace")}
        for r in rows
    ]
    dashboard.publish("session.frames", {"session": str(session_id), "frames": frames})
    adaptive.on_report(session_id)
    return len(rows)


def _frame_row(session, f: dict) -> Frame:
    latency = float(f.get("latency_s") or 0.0)
    ok = bool(f.get("ok"))
    met = None if session.deadline_s is None else ok and latency <= session.deadline_s
    return Frame(session=session, request_id=f["request_id"], ok=ok, error=str(f.get("error") or "")[:2000],
                 latency_s=latency, trace=f.get("trace") or [], deadline_met=met)  # fmt: skip


def finish_session(session_id, message: p.StreamDone) -> None:
    """The source has emitted every frame (or was stopped) and every frame has ended: summarise and complete."""
    with run_transaction():
        session = Session.objects.select_for_update(of=("self",)).filter(pk=session_id).first()
        if session is None:
            return
        session.frames_sent, session.frames_ok = message.frames_sent, message.frames_ok
        session.summary = stats.summarise(session)
        fields = ["frames_sent", "frames_ok", "summary"]
        if session.state == RunState.RUNNING:
            fields += session.move_to(RunState.COMPLETED)
        session.save(update_fields=fields)


# --- profiling and probing ---------------------------------------------------------------------------


def request_profile(device, model, *, warmup: int = 2, repeats: int = 10, base_url: str = "") -> Measurement:
    """Ask the device's agent to time every block of ``model``; the answer is stored by ``record_profile``."""
    if device.status != DeviceStatus.ONLINE or not device.channel_name:
        raise SubmitError(f"{device.name} is not connected")
    n = model.cut_points.count()
    segments = catalog.get_segments(model, list(range(n)))
    base = (base_url or settings.PUBLIC_URL).rstrip("/")
    blocks = [{"block": s.index, "url": base + reverse("catalog-segment-file", args=[s.sha256]), "sha256": s.sha256,
               "inputs": s.inputs, "outputs": s.outputs} for s in segments]  # fmt: skip
    with transaction.atomic():
        measurement = Measurement.objects.create(kind=Measurement.PROFILE, device=device, model=model)
        threads = settings.JOB_AGENT_THREADS or None  # as the deployments' stages will run
        agents.send_on_commit(device, p.Profile(str(measurement.pk), blocks, warmup, repeats, threads))
    return measurement


def record_profile(device_id, message: p.ProfileResult) -> Measurement | None:
    """Store a profile the planner reads (``plans.BlockProfile``), with the thermal state of the time."""
    with transaction.atomic():
        m = (
            Measurement.objects.select_for_update(of=("self",))
            .select_related("device", "model")
            .filter(pk=message.profile_id, kind=Measurement.PROFILE)
            .first()
        )
        if m is None or m.state != MeasurementState.PENDING or str(m.device_id) != str(device_id):
            return None
        if message.error:
            m.state, m.error = MeasurementState.FAILED, message.error
        else:
            profile = plans.record_profile(m.device, m.model, message.blocks, message.thermal)
            m.state, m.result = MeasurementState.DONE, {"profile": profile.pk, "blocks": message.blocks,
                                                         "thermal": message.thermal}  # fmt: skip
        m.finished_at = timezone.now()
        m.save(update_fields=["state", "error", "result", "finished_at"])
    return m


def probe_links(device, *, payload_bytes: int = 256 * 1024, control_plane: bool = True) -> Measurement:
    """Ask the device's agent to measure RTT and bandwidth to every other online agent's data plane and,
    with ``control_plane``, to the control plane (see ``control_plane_url``)."""
    if device.status != DeviceStatus.ONLINE or not device.channel_name:
        raise SubmitError(f"{device.name} is not connected")
    peers = [{"device_id": str(d.pk), "host": d.dataplane_host, "port": d.dataplane_port}
             for d in Device.objects.filter(status=DeviceStatus.ONLINE, dataplane_port__isnull=False)
             .exclude(pk=device.pk)]  # fmt: skip
    url = control_plane_url() if control_plane else None
    with transaction.atomic():
        measurement = Measurement.objects.create(kind=Measurement.PROBE, device=device)
        agents.send_on_commit(device, p.Probe(str(measurement.pk), peers, payload_bytes, url))
    return measurement


def control_plane_url() -> str:
    """The link-probe endpoint as agents should reach it: under ``PUBLIC_URL`` when one is set, else a path
    the agent resolves against the server it enrolled with (the address it already reaches us at)."""
    return settings.PUBLIC_URL.rstrip("/") + reverse("agent-link-probe")


def probe_fleet(payload_bytes: int = 256 * 1024) -> int:
    """Ask every connected agent to probe its peers and the control plane (a lone agent still has that
    link); returns how many were asked."""
    online = Device.objects.filter(status=DeviceStatus.ONLINE).exclude(channel_name="")
    count = 0
    for device in online:
        probe_links(device, payload_bytes=payload_bytes)
        count += 1
    return count


def record_probe(device_id, message: p.ProbeResult) -> Measurement | None:
    """Store each measured link as a ``plans.LinkSample`` (the planner reads the latest per pair); the
    control-plane link as one with ``device_to`` null. The message was validated when it was decoded."""
    with transaction.atomic():
        m = (
            Measurement.objects.select_for_update(of=("self",))
            .select_related("device")
            .filter(pk=message.probe_id, kind=Measurement.PROBE)
            .first()
        )
        if m is None or m.state != MeasurementState.PENDING or str(m.device_id) != str(device_id):
            return None
        peers = {
            str(d.pk): d
            for d in Device.objects.filter(pk__in=[link.get("device_id") for link in message.links])
        }
        for link in message.links:
            peer = peers.get(str(link.get("device_id")))
            if peer is not None and _measured(link):
                plans.record_link(m.device, peer, float(link["bandwidth_bps"]), float(link["rtt_s"]))
        control = message.control_plane
        if control is not None and _measured(control):
            plans.record_link(m.device, None, float(control["bandwidth_bps"]), float(control["rtt_s"]))
        m.state, m.finished_at = MeasurementState.DONE, timezone.now()
        m.result = {"links": message.links, "control_plane": control}
        m.save(update_fields=["state", "result", "finished_at"])
    return m


def _measured(link: dict) -> bool:
    return not link.get("error") and bool(link.get("bandwidth_bps")) and link.get("rtt_s") is not None


# --- relaying ----------------------------------------------------------------------------------------


def _uuid(value: str) -> uuid.UUID | None:
    """An id from an agent's message as the key it must be (None: not one, so no row has it)."""
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def relay_channel(message: p.Relay) -> str | None:
    """The channel of the agent an unreachable peer's activation must be forwarded to (None: not connected)."""
    pk = _uuid(message.deployment_id)
    deployment = Deployment.objects.filter(pk=pk).only("devices").first() if pk else None
    if deployment is None or message.to_device_id not in deployment.devices:
        return None
    return (
        Device.objects.filter(pk=message.to_device_id).values_list("channel_name", flat=True).first() or None
    )


def relay_failed(message: p.Relay, data: bytes) -> bool:
    """A relay whose target is not connected either: a one-shot job fails at the stage that activation was
    for, at once rather than at its timeout (a stream's frame is counted lost by its source)."""
    try:
        act = parse_activation(parse_frame(data))
    except FrameError:
        return False
    deployment_id, device_id = _uuid(message.deployment_id), _uuid(message.to_device_id)
    job = Job.objects.filter(pk=message.request_id, deployment_id=deployment_id).exists()
    if act.session_id is not None or not job or device_id is None:
        return False
    name = Device.objects.filter(pk=device_id).values_list("name", flat=True).first() or message.to_device_id
    reason = (f"stage {act.stage} on {name} is unreachable: its data plane refused the previous stage and "
              "its agent is not connected to relay through")  # fmt: skip
    return fail(Job, message.request_id, reason, stage=act.stage)


__all__ = [
    "IllegalTransition",
    "SubmitError",
    "cancel_job",
    "device_gone",
    "dispatch",
    "expire",
    "fail_job",
    "finish_session",
    "probe_links",
    "record_deploy_status",
    "record_frames",
    "record_profile",
    "record_probe",
    "record_result",
    "record_stage_error",
    "request_profile",
    "start_session",
    "stop_session",
    "submit_job",
]
