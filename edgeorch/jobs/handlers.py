"""The execution messages an agent sends over its websocket (docs/protocol.md, "Execution"), registered
with the gateway when the app is ready: each is one call into a verb module of ``services``, once
``authorise`` has found the message addressed to the sending device (else it is refused, changing nothing).
"""

from __future__ import annotations

import logging

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from edgeorch_wire import protocol as p

from edgeorch.gateway.registry import handles, on_disconnect

from .models import Measurement
from .services import authorise, deployments, enqueue, lifecycle, liveness, measurements, results, sessions
from .services import relay as relaying

log = logging.getLogger(__name__)

on_disconnect(lifecycle.device_gone)


@handles(p.DeployStatus)
def deploy_status(device_pk, message: p.DeployStatus) -> None:
    authorise.check_deployment(device_pk, message.deployment_id)
    deployments.record_deploy_status(device_pk, message)


@handles(p.StreamReport)
def stream_report(device_pk, message: p.StreamReport) -> p.ReportAck | None:
    """A batch of frames; a serving session's (``batch`` set) is acknowledged once stored, so its agent can
    forget it (frames are stored once per request: a batch resent after a lost ack stores nothing twice)."""
    authorise.check_session_source(device_pk, message.session_id)
    stored = sessions.record_frames(
        message.session_id, message.frames, device_pk, message.arms, message.arms_deployment
    )
    if message.batch is None:
        return None
    return p.ReportAck(message.session_id, message.batch, stored)


@handles(p.StreamDone)
def stream_done(device_pk, message: p.StreamDone) -> None:
    authorise.check_session_source(device_pk, message.session_id)
    sessions.finish_session(message.session_id, message, device_pk)


@handles(p.Stalled)
def stalled(device_pk, message: p.Stalled) -> None:
    """A frame of the session outlived its budget: check the route's devices (``liveness.check_stalled``)."""
    authorise.check_session_source(device_pk, message.session_id)
    enqueue.after_commit("jobs.check_stalled", message.session_id, message.deployment_id, message.waited_s)


@handles(p.Pong)
def pong(device_pk, message: p.Pong) -> None:
    liveness.pong(device_pk)


@handles(p.StageFailed)
def stage_failed(device_pk, message: p.StageFailed) -> None:
    authorise.check_run(device_pk, message.request_id, message.session_id)
    lifecycle.record_stage_error(device_pk, message)


@handles(p.ProfileProgress)
def profile_progress(device_pk, message: p.ProfileProgress) -> None:
    authorise.check_measurement(device_pk, message.profile_id, Measurement.PROFILE)
    measurements.record_profile_progress(device_pk, message)


@handles(p.ProfileResult)
def profile_result(device_pk, message: p.ProfileResult) -> None:
    authorise.check_measurement(device_pk, message.profile_id, Measurement.PROFILE)
    measurements.record_profile(device_pk, message)


@handles(p.ProbeResult)
def probe_result(device_pk, message: p.ProbeResult) -> None:
    authorise.check_measurement(device_pk, message.probe_id, Measurement.PROBE)
    measurements.record_probe(device_pk, message)


@handles(p.Result, binary=lambda message: message.session_id is None)
def result(device_pk, message: p.Result, data: bytes | None = None) -> None:
    """A one-shot job's output: the message, then its tensor as one binary frame (a stream's frames are
    reported in ``stream_report``s, not here)."""
    if data is not None:
        authorise.check_result(device_pk, message.deployment_id, message.request_id)
        results.record_result(device_pk, message, data)


@handles(p.Relay, binary=lambda message: True)
async def relay(device_pk, message: p.Relay, data: bytes) -> None:
    """An activation for a peer this agent cannot reach: forwarded to that peer's socket as ``relayed``
    (only from a device of that deployment, or the source of a run on it)."""
    await database_sync_to_async(authorise.check_relay, thread_sensitive=False)(
        device_pk, message.deployment_id
    )
    channel = await database_sync_to_async(relaying.relay_channel, thread_sensitive=False)(message)
    if channel is None:
        log.warning("cannot relay request %s to %s: not connected", message.request_id, message.to_device_id)
        await database_sync_to_async(relaying.relay_failed, thread_sensitive=False)(message, data)
        return
    relayed = p.Relayed(message.deployment_id, message.request_id, str(device_pk))
    await get_channel_layer().send(
        channel, {"type": "agent.command", "message": relayed.to_json(), "bytes": data}
    )
