"""Results: a one-shot job's last stage output completes it (``record_result``, ``decode_output``)."""

from __future__ import annotations

import logging
import uuid

import numpy as np
from django.utils import timezone
from edgeorch_wire import protocol as p
from edgeorch_wire.codecs import CodecError
from edgeorch_wire.codecs import decode as decode_tensor
from edgeorch_wire.frames import FrameError, parse_activation, parse_frame

from edgeorch import events as dashboard

from .. import inputs
from ..choices import RunState
from ..models import Deployment, Job, SecondsSince
from .lifecycle import fail
from .transactions import run_transaction

log = logging.getLogger(__name__)


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
        message.request_id,
        RunState.RUNNING,
        RunState.COMPLETED,
        where={"deployment_id": message.deployment_id},
        finished_at=now,
        trace=message.trace,
        output=message.output,
        measured_latency_s=SecondsSince("started_at", now),
    )
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
    if job.plan and "latency" in job.plan and job.measured_latency_s is not None:
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
