"""Where a computed request goes next, and where its outcome is told.

Onward: to a stage on this agent (the arrays in-process), or to a peer over the data plane, relayed through
the control plane when the peer cannot be reached twice, and for ``relay_for`` seconds after that. At the
last stage: a ``result`` to the control plane or, for a stream frame, a DONE frame to the stream's source.
A failure is told the same two ways: a ``stage_error`` to the control plane, and a failed DONE for a stream.
Work a stage's queue drops (its deadline could not be met: ``qos``) is told only to its source, a DONE marked
``dropped``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import numpy as np
from edgeorch_wire.codecs import encode
from edgeorch_wire.frames import Activation, Done, TensorPart, activation_bytes
from edgeorch_wire.protocol import Relay, Result, StageFailed

from ..dataplane import AuthError, PeerUnreachable
from ..runtime import Deployment, NextHop, Stage, StageError
from .state import Shared, Work

log = logging.getLogger(__name__)

TOP_K = 5

Encoded = dict[str, tuple[Any, dict[str, Any]]]  # tensor name -> (payload, codec parameters)


class Router:
    def __init__(self, shared: Shared, relay_for: float):
        self.shared = shared
        # A peer that could not be reached is relayed to for ``relay_for`` s before it is tried again: a
        # silent address would otherwise cost every request two connect timeouts. (host, port) -> until.
        self.relay_for = relay_for
        self.unreachable: dict[tuple[str, int], float] = {}

    # --- onward ----------------------------------------------------------------------------------------

    async def forward_local(
        self,
        deployment: Deployment,
        hop: NextHop,
        work: Work,
        outputs: dict[str, np.ndarray],
        trace: list[Any],
    ) -> None:
        target = deployment.stages.get(hop.stage)
        queue = self.shared.queues.get((deployment.deployment_id, hop.stage))
        if target is None or queue is None:
            raise StageError(f"the next stage {hop.stage} is routed to this device, which does not run it")
        feeds = {}
        await self._hand_over(deployment.stages[trace[-1]["stage"]], target, outputs)
        for spec in target.spec.inputs:
            if spec.name not in outputs:
                raise StageError(
                    f"stage {hop.stage} needs {spec.name!r}, which the previous stage does not output"
                )
            spec.check(str(outputs[spec.name].dtype), outputs[spec.name].shape, f"stage {hop.stage}")
            feeds[spec.name] = outputs[spec.name]
        trace[-1]["end"] = time.time()
        await queue.put(
            Work(
                work.request_id,
                work.session_id,
                feeds,
                trace,
                time.time(),
                work.origin,
                priority=work.priority,
                deadline=work.deadline,
            )
        )

    async def _hand_over(self, source: Stage, target: Stage, outputs: dict[str, np.ndarray]) -> None:
        """Between two units of an emulated device the arrays cross its shared memory: that takes time."""
        device = self.shared.device
        if device is not None:
            nbytes = sum(a.nbytes for a in outputs.values())
            await asyncio.sleep(device.handover_s(nbytes, source.spec.unit, target.spec.unit))

    async def forward_peer(
        self,
        deployment: Deployment,
        hop: NextHop,
        work: Work,
        outputs: dict[str, np.ndarray],
        encoded: tuple[Encoded, float],
        trace: list[Any],
    ) -> None:
        payloads, trace[-1]["serialize_s"] = encoded
        trace[-1]["end"] = time.time()
        for name, (payload, params) in payloads.items():
            array = outputs[name]
            act = Activation(
                deployment.deployment_id,
                work.request_id,
                hop.stage,
                name,
                str(array.dtype),
                array.shape,
                hop.codec,
                payload,
                params,
                trace,
                session_id=work.session_id,
                origin=work.origin,
                priority=work.priority,
                deadline=work.deadline,
            )
            await self._send(deployment, hop, act)

    async def _send(self, deployment: Deployment, hop: NextHop, act: Activation) -> None:
        if self.unreachable.get((hop.host, hop.port), 0.0) > time.monotonic():
            await self._relay(deployment, hop, act)  # failed lately: no second wait for its connect timeouts
            return
        try:
            shaper = self.shared.links.for_peer(hop.device_id, hop.name)
            await self.shared.pool.send(
                hop.host, hop.port, deployment.deployment_id, deployment.secret, act, shaper
            )
        except AuthError as exc:
            raise StageError(f"peer {hop.device_id} refused authentication: {exc}") from None
        except PeerUnreachable as exc:
            log.warning(
                "%s; relaying request %d through the control plane, and every request to it for the next %gs",
                exc,
                act.request_id,
                self.relay_for,
            )
            self.unreachable[(hop.host, hop.port)] = time.monotonic() + self.relay_for
            await self._relay(deployment, hop, act)

    async def _relay(self, deployment: Deployment, hop: NextHop, act: Activation) -> None:
        act.sent = time.time()
        relay = Relay(deployment.deployment_id, act.request_id, hop.device_id)
        await self.shared.outbox(relay, activation_bytes(act))

    # --- outcomes --------------------------------------------------------------------------------------

    async def finish(
        self,
        deployment: Deployment,
        stage: Stage,
        work: Work,
        outputs: dict[str, np.ndarray],
        trace: list[Any],
    ) -> None:
        trace[-1]["end"] = time.time()
        name = stage.spec.outputs[0].name
        array = np.ascontiguousarray(outputs[name])
        output = {"name": name, "shape": list(array.shape), "dtype": str(array.dtype), "top_k": _top_k(array)}
        if work.session_id is not None:
            done = Done(deployment.deployment_id, work.session_id, work.request_id, True, None, trace, output)
            if work.origin is not None and work.origin.get("reply"):
                done.tensors, done.payload = _pack_outputs(stage, outputs)
            await self._notify_source(deployment, work.origin, done)
            return
        result = Result(deployment.deployment_id, work.request_id, None, trace, output)
        frame = Activation(
            deployment.deployment_id,
            work.request_id,
            stage.spec.stage,
            name,
            str(array.dtype),
            array.shape,
            "raw",
            encode("raw", array)[0],
            trace=trace,
        )
        await self.shared.outbox(result, activation_bytes(frame))

    async def _notify_source(self, deployment: Deployment, origin: dict[str, Any] | None, done: Done) -> None:
        if origin is None or origin.get("device_id") == self.shared.device_id:
            self.shared.frame_done(done)
            return
        try:
            shaper = self.shared.links.for_peer(origin.get("device_id"))
            await self.shared.pool.send(
                origin["host"],
                origin["port"],
                deployment.deployment_id,
                deployment.secret,
                done.to_frame(),
                shaper,
            )
        except (ConnectionError, KeyError) as exc:
            # The source counts the frame as lost after ``frame_timeout``: nothing better can be done here.
            log.warning("cannot tell the stream source about request %d: %s", done.request_id, exc)

    async def drop(self, deployment: Deployment, stage: int, work: Work, reason: str) -> None:
        """A stage's queue dropped ``work`` before computing it: its deadline could not be met (docs/qos.md).
        Its source hears at once (a failed DONE with ``dropped`` and the reason, its trace ending with the
        stage that dropped it); it is not a stage failure, so the control plane hears of it only in the
        source's report."""
        now = time.time()
        self.shared.dropped += 1
        log.debug(
            "deployment %s, request %d, stage %d: %s",
            deployment.deployment_id,
            work.request_id,
            stage,
            reason,
        )
        if work.session_id is None:
            return  # only session work carries a deadline
        step = {"stage": stage, "device": self.shared.device_id, "queue_s": max(0.0, now - work.arrived)}
        step.update(start=now, end=now, dropped=True)
        trace = [*work.trace, step]
        done = Done(
            deployment.deployment_id, work.session_id, work.request_id, False, reason, trace, dropped=True
        )
        await self._notify_source(deployment, work.origin, done)

    async def fail_work(self, deployment: Deployment, stage: int, work: Work, error: str) -> None:
        await self.fail(deployment.deployment_id, stage, work.request_id, work.session_id, work.origin, error)

    async def fail(
        self,
        deployment_id: str,
        stage: int,
        request_id: int,
        session_id: str | None,
        origin: dict[str, Any] | None,
        error: str,
    ) -> None:
        log.warning("deployment %s, request %d, stage %d: %s", deployment_id, request_id, stage, error)
        await self.shared.outbox(
            StageFailed(deployment_id, request_id, session_id, stage, self.shared.device_id, error), None
        )
        deployment = self.shared.deployments.get(deployment_id)
        if session_id is not None and deployment is not None:
            done = Done(deployment_id, session_id, request_id, False, error, [])
            await self._notify_source(deployment, origin, done)


def _pack_outputs(stage: Stage, outputs: dict[str, np.ndarray]) -> tuple[list[TensorPart], bytes]:
    """The stage's outputs, in declared order, as DONE tensor parts and their bytes one after the other."""
    parts, chunks, offset = [], [], 0
    for spec in stage.spec.outputs:
        array = np.ascontiguousarray(outputs[spec.name])
        parts.append(TensorPart(spec.name, str(array.dtype), list(array.shape), offset, array.nbytes))
        chunks.append(array.tobytes())
        offset += array.nbytes
    return parts, b"".join(chunks)


def _top_k(array: np.ndarray) -> list[list[float]] | None:
    flat = array.ravel()
    if flat.size == 0 or array.dtype.kind not in "fiu":
        return None
    k = min(TOP_K, flat.size)
    best = np.argpartition(-flat, k - 1)[:k]
    best = best[np.argsort(-flat[best], kind="stable")]
    if not np.all(np.isfinite(flat[best])):
        return None  # JSON has no NaN: better no ranking than a refused message
    return [[int(i), float(flat[i])] for i in best]
