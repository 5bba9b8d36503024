"""The stage workers: each stage has a bounded queue and one worker, whose segment runs in the stage's own
thread (or, while that would only make the event loop wait, on the loop itself). The queue serves the most
urgent work first and drops what could only be late (``qos.StageQueue``, docs/qos.md); the worker computes
in turn with every other stage on its compute unit, the most urgent work of all of them first
(``units.ComputeUnit``).

An activation from a peer is checked, decoded and, once all of its stage's inputs are here, queued. The
worker computes, encodes the output for a peer's hop in the same trip to the stage's thread, and hands the
result to the router.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable

import numpy as np
from edgeorch_wire.codecs import CodecError, decode, encode
from edgeorch_wire.frames import Activation

from ..dataplane import AuthError, PeerUnreachable, Rejected
from ..runtime import Deployment, Stage, StageError, TensorSpec, trace_entry
from .qos import StageQueue
from .routing import Encoded, Router
from .state import Shared, Work
from .units import ComputeUnit, Turn, next_turn, unit_for

log = logging.getLogger(__name__)

MAX_PARTIAL = 256  # requests whose multi-input stage still waits for a tensor
INLINE_COMPUTE_S = 0.001  # stages quicker than this run on the event loop (``Pipeline._runs_inline``)


class Pipeline:
    def __init__(self, shared: Shared, router: Router, queue_size: int):
        self.shared = shared
        self.router = router
        self.queue_size = queue_size
        self.partial: dict[tuple[str, str | None, int, int], dict[str, np.ndarray]] = {}
        self.computing = 0  # stage computes under way (``_alone``)

    def start(self, deployment: Deployment) -> list[asyncio.Task[None]]:
        """A queue and a worker for each of the deployment's stages, on the stage's compute unit; returns the
        workers."""
        workers = []
        for index, stage in deployment.stages.items():
            unit = unit_for(self.shared.device, stage.spec.unit, self.shared.units)
            queue: StageQueue[Work] = StageQueue(self.queue_size, self._dropper(deployment, index), unit=unit)
            self.shared.queues[(deployment.deployment_id, index)] = queue
            workers.append(
                asyncio.create_task(self._stage_loop(deployment, stage, queue, unit), name=f"stage-{index}")
            )
        return workers

    def _dropper(self, deployment: Deployment, index: int) -> Callable[[Work, str], Awaitable[None]]:
        """What a stage's queue does with work it drops (``qos``): its source is told, with the reason."""

        async def drop(work: Work, reason: str) -> None:
            await self.router.drop(deployment, index, work, reason)

        return drop

    # --- arriving activations --------------------------------------------------------------------------

    async def receive(self, act: Activation) -> None:
        """An activation from a peer (or relayed): checked, decoded and queued for its stage."""
        received = time.time()
        deployment, queue, spec = self._destination(act)
        try:
            spec.check(act.dtype, act.shape, f"stage {act.stage}")
            array = await self._decode(act)
        except (StageError, CodecError) as exc:
            await self.router.fail(
                act.deployment_id, act.stage, act.request_id, act.session_id, act.origin, str(exc)
            )
            raise Rejected(str(exc)) from None
        if act.trace and act.sent is not None:
            act.trace[-1]["transfer_s"] = max(0.0, received - act.sent)  # see runtime's clock note
        feeds = self._assemble(act, array, deployment.stages[act.stage])
        if feeds is not None:
            # Not waiting for a place: the connection this came on carries other sessions' frames, more
            # urgent ones among them (``qos``: a reader must not wait behind one frame's place).
            await queue.put(
                Work(
                    act.request_id,
                    act.session_id,
                    feeds,
                    act.trace,
                    received,
                    act.origin,
                    act.relayed,
                    act.priority,
                    act.deadline,
                ),
                wait=False,
            )

    def _destination(self, act: Activation) -> tuple[Deployment, StageQueue[Work], TensorSpec]:
        deployment = self.shared.deployments.get(act.deployment_id)
        queue = self.shared.queues.get((act.deployment_id, act.stage))
        if deployment is None or queue is None:
            raise Rejected(
                f"stage {act.stage} of deployment {act.deployment_id!r} does not run on this device"
            )
        specs = {t.name: t for t in deployment.stages[act.stage].spec.inputs}
        if act.tensor not in specs:
            raise Rejected(f"stage {act.stage} has no input {act.tensor!r} (it takes {sorted(specs)})")
        return deployment, queue, specs[act.tensor]

    async def _decode(self, act: Activation) -> np.ndarray:
        if act.codec == "raw":
            return decode("raw", act.payload, act.params, act.dtype, act.shape)
        return await asyncio.to_thread(decode, act.codec, act.payload, act.params, act.dtype, act.shape)

    def _assemble(self, act: Activation, array: np.ndarray, stage: Stage) -> dict[str, np.ndarray] | None:
        """All of a stage's inputs for this request, or None while some are still on their way."""
        if len(stage.spec.inputs) == 1:
            return {act.tensor: array}
        key = (act.deployment_id, act.session_id, act.request_id, act.stage)
        if key not in self.partial and len(self.partial) >= MAX_PARTIAL:
            dropped = next(iter(self.partial))
            del self.partial[dropped]
            log.warning("dropping the partial inputs of request %d: too many incomplete requests", dropped[2])
        feeds = self.partial.setdefault(key, {})
        feeds[act.tensor] = array
        if len(feeds) < len(stage.spec.inputs):
            return None
        return self.partial.pop(key)

    # --- the workers -----------------------------------------------------------------------------------

    async def _stage_loop(
        self, deployment: Deployment, stage: Stage, queue: StageQueue[Work], unit: ComputeUnit
    ) -> None:
        while True:
            work, turn = await next_turn(queue, unit)
            try:
                await self._process(deployment, stage, work, queue, turn)
            except (StageError, CodecError, AuthError, PeerUnreachable) as exc:
                await self.router.fail_work(deployment, stage.spec.stage, work, str(exc))
            except Exception as exc:  # a stage worker must outlive any one request
                log.exception("stage %d failed on request %d", stage.spec.stage, work.request_id)
                await self.router.fail_work(
                    deployment, stage.spec.stage, work, f"{type(exc).__name__}: {exc}"
                )
            finally:
                turn.release()  # given back after the compute already, but a failure may come first

    async def _process(
        self, deployment: Deployment, stage: Stage, work: Work, queue: StageQueue[Work], turn: Turn
    ) -> None:
        loop = asyncio.get_running_loop()
        hop = stage.spec.next
        device_id = self.shared.device_id
        # Output for a peer is encoded in the same trip to the stage's thread as the compute: it is the
        # stage's work, must not stall the event loop, and a second hand-over costs a wake-up of each side
        # per frame.
        codec = hop.codec if hop is not None and hop.device_id != device_id else None
        inline = self._runs_inline(deployment, stage, work)
        self.computing += 1
        queue.computing(time.time())
        compute_s = math.inf
        try:
            if inline:
                outputs, compute_s, start, encoded = self._compute_encoded(
                    deployment, stage, work.feeds, codec
                )
            else:
                outputs, compute_s, start, encoded = await loop.run_in_executor(
                    stage.thread, self._compute_encoded, deployment, stage, work.feeds, codec
                )
        finally:
            self.computing -= 1
            queue.computed(compute_s)
            turn.release()  # the output goes on without the unit: a next stage on it needs a turn too
        entry = trace_entry(stage.spec.stage, device_id, max(0.0, start - work.arrived), compute_s, start)
        if work.relayed:
            entry["relayed"] = True
        trace = [*work.trace, entry]
        if hop is None:
            await self.router.finish(deployment, stage, work, outputs, trace)
        elif hop.device_id == device_id:
            await self.router.forward_local(deployment, hop, work, outputs, trace)
        else:
            assert encoded is not None  # a peer's hop: encoded with the compute
            await self.router.forward_peer(deployment, hop, work, outputs, encoded, trace)

    def _runs_inline(self, deployment: Deployment, stage: Stage, work: Work) -> bool:
        """Whether this request's compute runs on the event loop rather than in the stage's thread.

        Handing a compute to its thread and back costs two wake-ups (0.25-0.4 ms together on the benchmark
        machine): worth paying only while the loop has something else to do meanwhile. So a stage runs on the
        loop when its last request computed in under ``INLINE_COMPUTE_S``, or when nothing else is in flight
        on this agent (``_alone``). Never on an emulated device, whose stages wait for their unit and sleep to
        stretch."""
        if self.shared.device is not None or deployment.compute_scale > 1.0:
            return False
        return stage.recent_compute_s < INLINE_COMPUTE_S or self._alone(deployment, work)

    def _alone(self, deployment: Deployment, work: Work) -> bool:
        """No other request is computing, queued for a stage, or awaited by a stream this agent sources: while
        ``work`` computes, the loop would only wait. (A request arriving meanwhile waits for the compute to
        end, as it would for the stage's thread; a control message waits as long.)"""
        if self.computing or any(not queue.empty() for queue in self.shared.queues.values()):
            return False
        mine = (deployment.deployment_id, work.session_id, work.request_id)
        return all(key == mine for key in self.shared.waiters)

    def _compute_encoded(
        self, deployment: Deployment, stage: Stage, feeds: dict[str, np.ndarray], codec: str | None
    ) -> tuple[dict[str, np.ndarray], float, float, tuple[Encoded, float] | None]:
        """``_compute``, then (``codec`` given) the outputs encoded and the seconds that took."""
        outputs, compute_s, start = self._compute(deployment, stage, feeds)
        if codec is None:
            return outputs, compute_s, start, None
        started = time.perf_counter()
        encoded = {name: encode(codec, array) for name, array in outputs.items()}
        return outputs, compute_s, start, (encoded, time.perf_counter() - started)

    def _compute(
        self, deployment: Deployment, stage: Stage, feeds: dict[str, np.ndarray]
    ) -> tuple[dict[str, np.ndarray], float, float]:
        """In the stage's thread: outputs, compute seconds and the wall clock when computing began. On an
        emulated device the stage first waits for its unit (that wait is queueing, not compute)."""
        device = self.shared.device
        if device is None:
            start = time.time()
            return (*stage.compute(feeds, deployment.compute_scale), start)
        with device.occupy(stage.spec.unit):
            start = time.time()
            # Read at every stage start: the throttle factor follows the device's temperature.
            scale = deployment.compute_scale * device.scale(stage.spec.unit)
            outputs, compute_s = stage.compute(feeds, scale)
        device.busy(compute_s)
        return outputs, compute_s, start
