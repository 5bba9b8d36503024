"""Submitting: a job or a stream session becomes a pending row with its input stored, its dispatch and its
timeout enqueued. Verbs: ``submit_job``, ``start_session``; ``check_request`` and ``make_input`` refuse early
what can never run (``SubmitError``)."""

from __future__ import annotations

from typing import Any

import msgspec
from django.conf import settings
from edgeorch_wire.checks import explain
from edgeorch_wire.codecs import CODECS
from edgeorch_wire.shapes import SOURCE_KINDS, StreamSource

from edgeorch import planning
from edgeorch.devices.choices import DeviceStatus
from edgeorch.devices.models import Device
from edgeorch.plans.assembly import device_power

from .. import inputs
from ..choices import SELF_PLANNING, Failover, InputKind, Priority
from ..models import Job, Session
from . import enqueue
from .admission import admit

# A serving session ends when its source leaves, not at a timeout (the beat's overdue sweep skips it), and
# takes as many requests as the frame count holds.
SERVING_TIMEOUT_S = 10 * 365 * 24 * 3600.0
SERVING_FRAMES = 2**31 - 1
MAX_DEADLINE_S = 3600.0  # a session's per-frame deadline, at most


def serve_spec(model) -> dict:
    """What a source's inference endpoint needs of a model it serves: name, version, tensor specs."""
    inputs = [{k: t[k] for k in ("name", "dtype", "shape")} for t in model.inputs]
    outputs = [{k: t[k] for k in ("name", "dtype", "shape")} for t in model.outputs]
    return {"model": model.name, "version": model.version, "inputs": inputs, "outputs": outputs}


class SubmitError(ValueError):
    """A request that cannot become a job or session; the message says what to change (HTTP 400)."""


def check_request(model, source, strategy: str, params: dict, candidates: list, codec: str) -> None:
    """Refuse early what can never plan: unknown strategy, parameters (or a combination the strategy's
    ``check`` refuses: ``StrategyInfo.check``), objective or codec, an offline source, an energy objective for
    a source without a power model."""
    info = planning.STRATEGIES.get(strategy)
    if info is None:
        raise SubmitError(f"unknown strategy {strategy!r}; known: {', '.join(planning.STRATEGIES)}")
    try:
        info.check(params)  # names it does not take, and combinations it can never plan with
    except planning.PlanningError as exc:
        raise SubmitError(str(exc)) from None
    objective = params.get("objective", info.objective)
    if objective not in planning.OBJECTIVES:
        raise SubmitError(f"objective must be one of {', '.join(planning.OBJECTIVES)}, not {objective!r}")
    if info.objectives is not None and objective not in info.objectives:
        raise SubmitError(
            f"{strategy} takes objective {' or '.join(info.objectives)} only, not {objective!r}"
        )
    if objective != "latency":
        needs_power(source, f"objective {objective}")
    if codec not in CODECS:
        raise SubmitError(f"unknown codec {codec!r}; known: {', '.join(CODECS)}")
    if source.status != DeviceStatus.ONLINE:
        raise SubmitError(f"the source device {source.name} is {source.status}")
    known = set(map(str, Device.objects.filter(pk__in=candidates).values_list("pk", flat=True)))
    missing = [str(c) for c in candidates if str(c) not in known]
    if missing:
        raise SubmitError(f"unknown device(s) {', '.join(missing)}")


def needs_power(source, what: str) -> None:
    """``SubmitError`` unless the source's profile has a power model (energy is priced by it)."""
    if device_power(source) is None:
        profile = f"profile {source.profile!r}" if source.profile else "no profile"
        raise SubmitError(
            f"{what} needs the source's power model, and {source.name} has none ({profile}): docs/energy.md"
        )


SOURCE_FIELDS = ("kind", "path", "loop", "index")


def check_source(value) -> dict | None:
    """A session's ``input`` ({kind: video|images|camera|pushed, path?, loop?, index?}) checked and
    normalised, or ``SubmitError`` saying what is wrong. The path is the source device's: only it can say
    whether the file is there (a missing one fails the session, naming it)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise SubmitError("input must be an object: {kind, path?, loop?, index?}")
    unknown = sorted(set(value) - set(SOURCE_FIELDS))
    if unknown:
        raise SubmitError(f"input: unknown field {unknown[0]!r} (known: {', '.join(SOURCE_FIELDS)})")
    if value.get("kind") not in SOURCE_KINDS:
        raise SubmitError(f"input.kind must be one of {', '.join(SOURCE_KINDS)}, not {value.get('kind')!r}")
    try:
        source = msgspec.convert(value, StreamSource)
    except msgspec.ValidationError as exc:
        raise SubmitError(str(explain(exc, StreamSource, value, "input"))) from None
    checked: dict[str, Any] = {"kind": source.kind, "loop": source.loop}
    if source.path:
        checked["path"] = source.path
    if source.kind == "camera" and not source.path:
        checked["index"] = source.index
    return checked


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


def submit_job(
    *,
    model,
    source,
    strategy="device-edge",
    params=None,
    candidates=(),
    codec="raw",
    upload=None,
    sample=None,
    seed=0,
    timeout_s=None,
    user=None,
    base_url="",
) -> Job:
    """Create a pending job with its input stored, and enqueue its dispatch after commit."""
    params, candidates = dict(params or {}), [str(c) for c in candidates]
    check_request(model, source, strategy, params, candidates, codec)
    array, kind, k = make_input(model, upload=upload, sample=sample, seed=seed)
    return _create(
        Job,
        array,
        "jobs.dispatch_job",
        "jobs.expire_job",
        model=model,
        source=source,
        strategy=strategy,
        params=params,
        candidates=candidates,
        codec=codec,
        input_kind=kind,
        input_sample=k,
        timeout_s=timeout_s or settings.JOB_TIMEOUT_S,
        base_url=base_url or settings.PUBLIC_URL,
        created_by=user,
    )


def start_session(
    *,
    model,
    source,
    strategy="pipeline",
    params=None,
    candidates=(),
    codec="raw",
    rate=10.0,
    frames=None,
    duration_s=None,
    deadline_s=None,
    max_in_flight=None,
    sample=None,
    seed=0,
    timeout_s=None,
    user=None,
    base_url="",
    serve=None,
    input_source=None,
    failover="none",
    backup_sources=(),
    battery_below=None,
    priority=Priority.NORMAL,
    admission=False,
    fallback_variants=(),
    dynamic=False,
) -> Session:
    """Create a pending stream session (``frames`` or ``duration_s`` x ``rate`` frames) and enqueue it.

    ``serve`` ({model, version, inputs, outputs}) makes it a serving session: its frames are the requests
    the source's inference endpoint takes, for as long as the source stays connected (no timeout).
    ``input_source`` ({kind, path?, loop?, index?}: ``check_source``) takes the frames from a video, images,
    a camera or a local application on the source device, made the model's input by its preprocess spec;
    the stream then ends when the source does, if before ``frames``. ``failover`` (none, cold): what losing
    a stage's device does to it (``failover.py``); ``backup_sources`` (device ids) may take over from a lost
    source. ``battery_below`` (%, adaptive only): the re-planner plans by objective ``energy`` while the
    source's ``battery.percent`` is below it (``jobs.conditions.objective_of``). ``priority`` (a
    ``Priority``) and ``deadline_s`` travel with every frame: stage queues serve a higher class first, then
    the earliest deadline, and drop a frame that can no longer meet its deadline (docs/qos.md).
    ``admission``: refuse the session (``AdmissionRefused``) unless its deadline is within reach at its
    priority given the fleet's load now, or admit it on the most accurate of ``fallback_variants`` (variants
    of ``model`` the operator allows) that is (``admission.admit``; the decision in ``Session.admission``).
    ``dynamic``: its source chooses per frame among the model and its variants (``dynamic.prepare``)."""
    params, candidates = dict(params or {}), [str(c) for c in candidates]
    check_request(model, source, strategy, params, candidates, codec)
    if priority not in Priority.values:
        raise SubmitError(f"priority {priority!r} is not one of {', '.join(Priority.values)}")
    if deadline_s is not None and not 0 < deadline_s <= MAX_DEADLINE_S:
        raise SubmitError(
            f"deadline_s must be above 0 and at most {MAX_DEADLINE_S:g} seconds, not {deadline_s!r}"
        )
    adaptation = {}
    if battery_below is not None:
        if strategy != "adaptive":
            raise SubmitError("battery_below needs strategy adaptive: its re-planner switches the objective")
        needs_power(source, "battery_below (a switch to objective energy)")
        adaptation["battery_below"] = float(battery_below)
    if strategy in ("ans", "qoe-bandit") and (serve is not None or failover != Failover.NONE):
        raise SubmitError(
            f"{strategy} learns on a stream's frames: it takes no serve and no failover policy "
            "(docs/learning.md)"
        )
    decision = {}
    fallback_variants = list(fallback_variants)
    if fallback_variants and not admission:
        raise SubmitError("fallback_variants are what admission control may admit it on: set admission")
    strange = [str(m) for m in fallback_variants if m.variant_of_id != model.pk]
    if strange:
        raise SubmitError(
            f"fallback_variants must be variants of {model}; these are not: {', '.join(strange)}"
        )
    if admission:
        if deadline_s is None:
            raise SubmitError("admission control needs a deadline_s to admit the session against")
        asked = Session(
            model=model,
            source=source,
            strategy=strategy,
            params=params,
            candidates=candidates,
            codec=codec,
            deadline_s=deadline_s,
            priority=priority,
        )
        decision = admit(asked, fallback_variants)  # AdmissionRefused: the caller answers 409
        model = asked.model
    if dynamic:
        if strategy in SELF_PLANNING:
            raise SubmitError(f"dynamic inference chooses per frame; strategy {strategy} chooses for itself")
        adaptation["dynamic"] = True
    input_source = check_source(input_source)
    if input_source is not None and serve is not None:
        raise SubmitError("a serving session's frames are its endpoint's requests: it takes no input")
    if input_source is not None and model.preprocess is None:
        raise SubmitError(
            f"{model} has no preprocess spec, so frames from a {input_source['kind']} source cannot become "
            f"its input: set one (PUT /api/models/{model.pk}/preprocess/)"
        )
    if not rate > 0:
        raise SubmitError("rate must be positive (frames per second)")
    count = frames if frames is not None else round((duration_s or 0) * rate)
    if count < 1:
        raise SubmitError("give a frame count or a duration of at least one frame")
    array, kind, k = make_input(model, sample=sample, seed=seed)
    stream_s = count / rate
    if serve is not None:
        timeout_s = SERVING_TIMEOUT_S
    return _create(
        Session,
        array,
        "jobs.dispatch_session",
        None if serve is not None else "jobs.expire_session",
        model=model,
        source=source,
        strategy=strategy,
        params=params,
        candidates=candidates,
        codec=codec,
        input_kind=kind,
        input_sample=k,
        rate=rate,
        frames=count,
        deadline_s=deadline_s,
        max_in_flight=max_in_flight or 0,
        timeout_s=timeout_s or stream_s + settings.JOB_TIMEOUT_S,
        base_url=base_url or settings.PUBLIC_URL,
        created_by=user,
        serve=serve,
        input_source=input_source,
        failover=failover,
        backup_sources=list(backup_sources),
        adaptation=adaptation,
        priority=priority,
        admission=decision,
    )


def _create(kind, array, dispatch_task: str, expire_task: str | None, **fields):
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
    enqueue.after_commit(dispatch_task, pk)
    if expire_task is not None:
        enqueue.after_commit(expire_task, pk, countdown=run.timeout_s)
    return run


def _write(path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
