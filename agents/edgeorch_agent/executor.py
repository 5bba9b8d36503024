"""The executor: split-inference work an agent does for the control plane (docs/protocol.md, "Execution").

It owns this agent's deployments, their stage workers and the data-plane links to peers; the control channel
hands it the execution messages (``handle``) and relayed activations (``on_relayed``), the data-plane listener
hands it activations (``on_activation``) and stream-frame completions (``on_done``), and it answers through
``outbox`` (the control channel's bounded queue: a full queue slows the executor down instead of growing).

A request moves as ``_Work`` from stage queue to stage queue: each stage has a bounded queue and one worker,
whose segment runs in the stage's own thread. After computing, the worker routes the output: to a stage on
this agent (the arrays in-process), to a peer (the data plane, encoded with the hop's codec; relayed through
the control plane if the peer cannot be reached twice, and for ``relay_for`` seconds after that), or, at the
last stage, to the control plane (``result``) or, for a stream frame, to the stream's source agent (a DONE
frame).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np

from .codecs import CodecError, decode, encode
from .dataplane import (
    DEFAULT_MAX_PAYLOAD,
    Activation,
    AuthError,
    Done,
    FrameError,
    PeerPool,
    PeerUnreachable,
    Rejected,
    activation_bytes,
    parse_activation,
    parse_frame,
    ping,
)
from .emulation.device import EmulatedDevice
from .emulation.links import LinkShaper, LinkSpecError, LinkTable, parse_links
from .profiles import ProfileError
from .protocol import (
    LINK_PROBE_MAX_BYTES,
    SOURCE_STAGE,
    Deploy,
    DeployStatus,
    Message,
    Probe,
    ProbeResult,
    Profile,
    ProfileResult,
    Relay,
    Relayed,
    Result,
    Run,
    Shape,
    StageFailed,
    Stream,
    StreamDone,
    StreamReport,
    StreamStop,
    StreamSwitch,
    Tenant,
    Undeploy,
)
from .runtime import (
    DeployError,
    Deployment,
    NextHop,
    SegmentCache,
    Stage,
    StageError,
    Stretch,
    TensorSpec,
    http_get,
    load_session,
    trace_entry,
)

log = logging.getLogger(__name__)

Outbox = Callable[[Message, "bytes | None"], Awaitable[None]]
# Measures the link to the control plane: (link-probe URL, payload bytes) -> {rtt_s, bandwidth_bps, error}.
ControlProbe = Callable[[str, int], Awaitable[dict[str, Any]]]
TOP_K = 5
MAX_PARTIAL = 256  # requests whose multi-input stage still waits for a tensor
INLINE_COMPUTE_S = 0.001  # stages quicker than this run on the event loop (``Executor._runs_inline``)
THERMAL_PREFIXES = ("temp.", "cpu.throttle")


@dataclass
class _Work:
    """One request at one stage: its inputs, the trace so far, and whom to tell when a stream frame ends."""

    request_id: int
    session_id: str | None
    feeds: dict[str, np.ndarray]
    trace: list[dict[str, Any]]
    arrived: float  # wall clock
    origin: dict[str, Any] | None = None
    relayed: bool = False


@dataclass
class _Route:
    """Where a stream's next frame goes: a deployment's first stage, here or (``entry``) on a peer."""

    deployment_id: str
    first_stage: int
    entry: dict[str, Any] | None = None
    switch_id: str | None = None


@dataclass
class _StreamState:
    message: Stream
    route: _Route
    sent: int = 0
    ok: int = 0
    batch: list[dict[str, Any]] = field(default_factory=list)
    frames: set[asyncio.Task[None]] = field(default_factory=set)


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


class Executor:
    def __init__(
        self,
        device_id: str,
        credential: str,
        cache_dir: Path,
        outbox: Outbox,
        *,
        address: tuple[str, int] | None = None,
        metrics: Callable[[], dict[str, float]] | None = None,
        threads: int | None = None,
        compute_scale: float = 1.0,
        device: EmulatedDevice | None = None,
        links: LinkTable | None = None,
        queue_size: int = 4,
        frame_timeout: float = 60.0,
        connect_timeout: float = 5.0,
        max_tasks: int = 64,
        control_probe: ControlProbe | None = None,
        relay_for: float = 30.0,
    ):
        self.device_id = device_id
        self.credential = credential
        self.cache = SegmentCache(cache_dir, credential)
        self.outbox = outbox
        self.address = address  # this agent's data plane as peers reach it (stream frames report back here)
        self.metrics = metrics or dict
        self.threads = threads
        self.compute_scale = compute_scale
        self.device = device  # emulation: a device profile's speed, units, heat and tenants (None: the host)
        self.links = links if links is not None else LinkTable()  # emulated links to peers (empty: none)
        self.queue_size = queue_size
        self.frame_timeout = frame_timeout
        self.pool = PeerPool(connect_timeout)
        # A peer that could not be reached is relayed to for ``relay_for`` s before it is tried again: a
        # silent address would otherwise cost every request two connect timeouts. (host, port) -> until.
        self.relay_for = relay_for
        self._unreachable: dict[tuple[str, int], float] = {}
        self.control_probe = control_probe  # the control channel's owner measures that link (None: nobody)
        self.deployments: dict[str, Deployment] = {}
        self._queues: dict[tuple[str, int], asyncio.Queue[_Work]] = {}
        self._workers: dict[str, list[asyncio.Task[None]]] = {}
        self._deploying: dict[str, asyncio.Task[None]] = {}
        self._streams: dict[str, tuple[str, asyncio.Task[None]]] = {}  # session -> (deployment, emitter)
        self._routes: dict[str, _StreamState] = {}  # running streams, for stream_switch
        self._entry_secrets: dict[str, bytes] = {}  # deployments whose frames this source sends to a peer
        # Stream frames in flight from this source -> (their DONE, the wall clock when it was read).
        self._waiters: dict[tuple[str, str, int], asyncio.Future[tuple[Done, float]]] = {}
        self._partial: dict[tuple[str, str | None, int, int], dict[str, np.ndarray]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._computing = 0  # stage computes under way (``_alone``)
        self._slots = asyncio.Semaphore(max_tasks)

    # --- entry points ----------------------------------------------------------------------------------

    async def handle(self, message: Message, data: bytes | None = None) -> None:
        """Start the work a control message asks for; waits (back-pressure) while ``max_tasks`` are running.

        ``data`` is the binary frame that followed the message (an inline ``run`` input).
        """
        handlers: dict[type, Callable[[Any], Coroutine[Any, Any, None]]] = {
            Deploy: self._deploy,
            Run: self._run,
            Stream: self._stream,
            StreamStop: self._stop_stream,
            StreamSwitch: self._switch_stream,
            Undeploy: self._undeploy,
            Profile: self._profile,
            Probe: self._probe,
            Shape: self._shape,
            Tenant: self._tenant,
        }
        handler = handlers.get(type(message))
        if handler is None:
            raise TypeError(f"the executor does not handle {message.type!r}")
        await self._slots.acquire()
        work = self._run(message, data) if isinstance(message, Run) else handler(message)
        task = asyncio.create_task(work, name=f"executor-{message.type}")
        if isinstance(message, Deploy):
            self._deploying[message.deployment_id] = task
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._slots.release()
        if not task.cancelled() and task.exception() is not None:
            log.error("executor task %s failed", task.get_name(), exc_info=task.exception())

    def secret_for(self, deployment_id: str) -> bytes | None:
        deployment = self.deployments.get(deployment_id)
        # A stream source that runs no stage of the deployment still hears its frames end (DONE frames).
        return deployment.secret if deployment else self._entry_secrets.get(deployment_id)

    async def on_activation(self, act: Activation) -> None:
        """An activation from a peer (or relayed): checked, decoded and queued for its stage."""
        received = time.time()
        deployment, queue, spec = self._destination(act)
        try:
            spec.check(act.dtype, act.shape, f"stage {act.stage}")
            array = await self._decode(act)
        except (StageError, CodecError) as exc:
            await self._fail(
                act.deployment_id, act.stage, act.request_id, act.session_id, act.origin, str(exc)
            )
            raise Rejected(str(exc)) from None
        if act.trace and act.sent is not None:
            act.trace[-1]["transfer_s"] = max(0.0, received - act.sent)  # see runtime's clock note
        feeds = self._assemble(act, array, deployment.stages[act.stage])
        if feeds is not None:
            await queue.put(
                _Work(act.request_id, act.session_id, feeds, act.trace, received, act.origin, act.relayed)
            )

    async def on_done(self, done: Done) -> None:
        waiter = self._waiters.get((done.deployment_id, done.session_id, done.request_id))
        if waiter is not None and not waiter.done():
            # The frame ended for its source when its DONE was read: the waiting task resumes a loop turn
            # or two later, which is this agent's bookkeeping, not the frame's latency.
            waiter.set_result((done, time.time()))

    async def on_relayed(self, message: Relayed, data: bytes) -> None:
        """The control plane forwards an activation a peer could not send us directly."""
        try:
            act = parse_activation(parse_frame(data))
        except FrameError as exc:
            log.warning("ignoring relayed frame for request %d: %s", message.request_id, exc)
            return
        if act.deployment_id != message.deployment_id:
            log.warning(
                "ignoring relayed frame: it belongs to %s, not %s", act.deployment_id, message.deployment_id
            )
            return
        act.relayed = True
        with contextlib.suppress(Rejected):  # already reported as a stage_error
            await self.on_activation(act)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for deployment_id in list(self.deployments):
            await self._remove(deployment_id)
        await self.pool.close()

    # --- deployments -----------------------------------------------------------------------------------

    async def _deploy(self, message: Deploy) -> None:
        started = time.perf_counter()
        try:
            self._check_units(message.stages)
            deployment = await Deployment.build(
                message.deployment_id,
                message.secret,
                message.stages,
                self.cache,
                message.threads or self.threads,
                self.compute_scale,
            )
            self._check_memory(deployment)
        except DeployError as exc:
            elapsed = time.perf_counter() - started
            await self.outbox(DeployStatus(message.deployment_id, False, str(exc), elapsed), None)
            return
        finally:
            self._deploying.pop(message.deployment_id, None)
        await self._remove(message.deployment_id)  # a redeploy replaces the old stages
        self._install(deployment)
        await self.outbox(DeployStatus(message.deployment_id, True, None, deployment.load_s), None)

    def _check_units(self, stages: list[dict[str, Any]]) -> None:
        if self.device is None:
            return  # the host runs every stage where onnxruntime puts it; a unit is an emulated notion
        for stage in stages:
            if stage.get("unit") is not None:
                try:
                    self.device.profile.unit(str(stage["unit"]))
                except ProfileError as exc:
                    raise DeployError(f"stage {stage.get('stage')!r}: {exc}") from None

    def _check_memory(self, deployment: Deployment) -> None:
        """An emulated device refuses segments beyond its memory (their weights at least must fit)."""
        limit = self.device.profile.memory_limit_bytes if self.device is not None else None
        if limit is None:
            return
        others = [d for d in self.deployments.values() if d.deployment_id != deployment.deployment_id]
        needed = sum(self._segment_bytes(d) for d in [deployment, *others])
        if needed > limit:
            deployment.close()
            raise DeployError(
                f"the segments need {needed} bytes with the other deployments here; "
                f"this {self.device.profile.name} has {limit}"  # type: ignore[union-attr]
            )

    def _segment_bytes(self, deployment: Deployment) -> int:
        paths = (self.cache.directory / f"{s.spec.sha256.lower()}.onnx" for s in deployment.stages.values())
        return sum(p.stat().st_size for p in paths if p.exists())

    def _install(self, deployment: Deployment) -> None:
        self.deployments[deployment.deployment_id] = deployment
        workers = []
        for index, stage in deployment.stages.items():
            queue: asyncio.Queue[_Work] = asyncio.Queue(self.queue_size)
            self._queues[(deployment.deployment_id, index)] = queue
            workers.append(
                asyncio.create_task(self._stage_loop(deployment, stage, queue), name=f"stage-{index}")
            )
        self._workers[deployment.deployment_id] = workers

    async def _undeploy(self, message: Undeploy) -> None:
        await self._remove(message.deployment_id)

    async def _remove(self, deployment_id: str) -> None:
        deployment = self.deployments.pop(deployment_id, None)
        if deployment is None:
            return
        for owner, emitter in list(self._streams.values()):
            if owner == deployment_id:
                emitter.cancel()
        workers = self._workers.pop(deployment_id, [])
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        for key in [k for k in self._queues if k[0] == deployment_id]:
            del self._queues[key]
        await self.pool.close(deployment_id)
        deployment.close()

    async def _deployment(self, deployment_id: str) -> Deployment | None:
        pending = self._deploying.get(deployment_id)
        if pending is not None:
            await asyncio.wait({pending})  # a run sent right after its deploy waits for it
        return self.deployments.get(deployment_id)

    # --- the stage pipeline ----------------------------------------------------------------------------

    def _destination(self, act: Activation) -> tuple[Deployment, asyncio.Queue[_Work], TensorSpec]:
        deployment = self.deployments.get(act.deployment_id)
        queue = self._queues.get((act.deployment_id, act.stage))
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
        if key not in self._partial and len(self._partial) >= MAX_PARTIAL:
            dropped = next(iter(self._partial))
            del self._partial[dropped]
            log.warning("dropping the partial inputs of request %d: too many incomplete requests", dropped[2])
        feeds = self._partial.setdefault(key, {})
        feeds[act.tensor] = array
        if len(feeds) < len(stage.spec.inputs):
            return None
        return self._partial.pop(key)

    async def _stage_loop(self, deployment: Deployment, stage: Stage, queue: asyncio.Queue[_Work]) -> None:
        while True:
            work = await queue.get()
            try:
                await self._process(deployment, stage, work)
            except (StageError, CodecError, AuthError, PeerUnreachable) as exc:
                await self._fail_work(deployment, stage.spec.stage, work, str(exc))
            except Exception as exc:  # a stage worker must outlive any one request
                log.exception("stage %d failed on request %d", stage.spec.stage, work.request_id)
                await self._fail_work(deployment, stage.spec.stage, work, f"{type(exc).__name__}: {exc}")

    async def _process(self, deployment: Deployment, stage: Stage, work: _Work) -> None:
        loop = asyncio.get_running_loop()
        hop = stage.spec.next
        # Output for a peer is encoded in the same trip to the stage's thread as the compute: it is the stage's
        # work, must not stall the event loop, and a second hand-over costs a wake-up of each side per frame.
        codec = hop.codec if hop is not None and hop.device_id != self.device_id else None
        inline = self._runs_inline(deployment, stage, work)
        self._computing += 1
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
            self._computing -= 1
        entry = trace_entry(
            stage.spec.stage, self.device_id, max(0.0, start - work.arrived), compute_s, start
        )
        if work.relayed:
            entry["relayed"] = True
        trace = [*work.trace, entry]
        if hop is None:
            await self._finish(deployment, stage, work, outputs, trace)
        elif hop.device_id == self.device_id:
            await self._forward_local(deployment, hop, work, outputs, trace)
        else:
            assert encoded is not None  # a peer's hop: encoded with the compute
            await self._forward_peer(deployment, hop, work, outputs, encoded, trace)

    def _runs_inline(self, deployment: Deployment, stage: Stage, work: _Work) -> bool:
        """Whether this request's compute runs on the event loop rather than in the stage's thread.

        Handing a compute to its thread and back costs two wake-ups (0.25-0.4 ms together on the benchmark
        machine): worth paying only while the loop has something else to do meanwhile. So a stage runs on the
        loop when its last request computed in under ``INLINE_COMPUTE_S``, or when nothing else is in flight
        on this agent (``_alone``). Never on an emulated device, whose stages wait for their unit and sleep to
        stretch."""
        if self.device is not None or deployment.compute_scale > 1.0:
            return False
        return stage.recent_compute_s < INLINE_COMPUTE_S or self._alone(deployment, work)

    def _alone(self, deployment: Deployment, work: _Work) -> bool:
        """No other request is computing, queued for a stage, or awaited by a stream this agent sources: while
        ``work`` computes, the loop would only wait. (A request arriving meanwhile waits for the compute to
        end, as it would for the stage's thread; a control message waits as long.)"""
        if self._computing or any(not queue.empty() for queue in self._queues.values()):
            return False
        mine = (deployment.deployment_id, work.session_id, work.request_id)
        return all(key == mine for key in self._waiters)

    def _compute_encoded(
        self, deployment: Deployment, stage: Stage, feeds: dict[str, np.ndarray], codec: str | None
    ) -> tuple[dict[str, np.ndarray], float, float, tuple[_Encoded, float] | None]:
        """``_compute``, then (``codec`` given) the outputs encoded and the seconds that took."""
        outputs, compute_s, start = self._compute(deployment, stage, feeds)
        if codec is None:
            return outputs, compute_s, start, None
        started = time.perf_counter()
        encoded = _encode_all(codec, outputs)
        return outputs, compute_s, start, (encoded, time.perf_counter() - started)

    def _compute(
        self, deployment: Deployment, stage: Stage, feeds: dict[str, np.ndarray]
    ) -> tuple[dict[str, np.ndarray], float, float]:
        """In the stage's thread: outputs, compute seconds and the wall clock when computing began. On an
        emulated device the stage first waits for its unit (that wait is queueing, not compute)."""
        device = self.device
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

    async def _forward_local(
        self,
        deployment: Deployment,
        hop: NextHop,
        work: _Work,
        outputs: dict[str, np.ndarray],
        trace: list[Any],
    ) -> None:
        target = deployment.stages.get(hop.stage)
        queue = self._queues.get((deployment.deployment_id, hop.stage))
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
        await queue.put(_Work(work.request_id, work.session_id, feeds, trace, time.time(), work.origin))

    async def _hand_over(self, source: Stage, target: Stage, outputs: dict[str, np.ndarray]) -> None:
        """Between two units of an emulated device the arrays cross its shared memory: that takes time."""
        if self.device is not None:
            nbytes = sum(a.nbytes for a in outputs.values())
            await asyncio.sleep(self.device.handover_s(nbytes, source.spec.unit, target.spec.unit))

    async def _forward_peer(
        self,
        deployment: Deployment,
        hop: NextHop,
        work: _Work,
        outputs: dict[str, np.ndarray],
        encoded: tuple[_Encoded, float],
        trace: list[Any],
    ) -> None:
        payloads, trace[-1]["serialize_s"] = encoded
        trace[-1]["end"] = time.time()
        for name, (payload, params) in payloads.items():
            array = outputs[name]
            act = Activation(
                deployment.deployment_id, work.request_id, hop.stage, name, str(array.dtype), array.shape,
                hop.codec, payload, params, trace, session_id=work.session_id, origin=work.origin,
            )  # fmt: skip
            await self._send(deployment, hop, act)

    async def _send(self, deployment: Deployment, hop: NextHop, act: Activation) -> None:
        if self._unreachable.get((hop.host, hop.port), 0.0) > time.monotonic():
            await self._relay(deployment, hop, act)  # failed lately: no second wait for its connect timeouts
            return
        try:
            shaper = self.links.for_peer(hop.device_id, hop.name)
            await self.pool.send(hop.host, hop.port, deployment.deployment_id, deployment.secret, act, shaper)
        except AuthError as exc:
            raise StageError(f"peer {hop.device_id} refused authentication: {exc}") from None
        except PeerUnreachable as exc:
            log.warning(
                "%s; relaying request %d through the control plane, and every request to it for the next %gs",
                exc, act.request_id, self.relay_for,
            )  # fmt: skip
            self._unreachable[(hop.host, hop.port)] = time.monotonic() + self.relay_for
            await self._relay(deployment, hop, act)

    async def _relay(self, deployment: Deployment, hop: NextHop, act: Activation) -> None:
        act.sent = time.time()
        relay = Relay(deployment.deployment_id, act.request_id, hop.device_id)
        await self.outbox(relay, activation_bytes(act))

    async def _finish(
        self,
        deployment: Deployment,
        stage: Stage,
        work: _Work,
        outputs: dict[str, np.ndarray],
        trace: list[Any],
    ) -> None:
        trace[-1]["end"] = time.time()
        if work.session_id is not None:
            done = Done(deployment.deployment_id, work.session_id, work.request_id, True, None, trace)
            await self._notify_source(deployment, work.origin, done)
            return
        name = stage.spec.outputs[0].name
        array = np.ascontiguousarray(outputs[name])
        output = {"name": name, "shape": list(array.shape), "dtype": str(array.dtype), "top_k": _top_k(array)}
        result = Result(deployment.deployment_id, work.request_id, None, trace, output)
        frame = Activation(
            deployment.deployment_id, work.request_id, stage.spec.stage, name, str(array.dtype), array.shape,
            "raw", encode("raw", array)[0], trace=trace,
        )  # fmt: skip
        await self.outbox(result, activation_bytes(frame))

    async def _notify_source(self, deployment: Deployment, origin: dict[str, Any] | None, done: Done) -> None:
        if origin is None or origin.get("device_id") == self.device_id:
            await self.on_done(done)
            return
        try:
            shaper = self.links.for_peer(origin.get("device_id"))
            await self.pool.send(
                origin["host"], origin["port"], deployment.deployment_id, deployment.secret, done.to_frame(),
                shaper,
            )  # fmt: skip
        except (ConnectionError, KeyError) as exc:
            # The source counts the frame as lost after ``frame_timeout``: nothing better can be done here.
            log.warning("cannot tell the stream source about request %d: %s", done.request_id, exc)

    async def _fail_work(self, deployment: Deployment, stage: int, work: _Work, error: str) -> None:
        await self._fail(
            deployment.deployment_id, stage, work.request_id, work.session_id, work.origin, error
        )

    async def _fail(
        self,
        deployment_id: str,
        stage: int,
        request_id: int,
        session_id: str | None,
        origin: dict[str, Any] | None,
        error: str,
    ) -> None:
        log.warning("deployment %s, request %d, stage %d: %s", deployment_id, request_id, stage, error)
        await self.outbox(
            StageFailed(deployment_id, request_id, session_id, stage, self.device_id, error), None
        )
        deployment = self.deployments.get(deployment_id)
        if session_id is not None and deployment is not None:
            done = Done(deployment_id, session_id, request_id, False, error, [])
            await self._notify_source(deployment, origin, done)

    # --- requests and streams --------------------------------------------------------------------------

    async def _input(self, url: str) -> np.ndarray:
        data = await asyncio.to_thread(http_get, url, self.credential)
        return _npy(data, f"the input at {url}")

    async def _start_chain(
        self,
        deployment: Deployment,
        first_stage: int,
        request_id: int,
        session_id: str | None,
        array: np.ndarray,
    ) -> None:
        stage = deployment.stages.get(first_stage)
        queue = self._queues.get((deployment.deployment_id, first_stage))
        if stage is None or queue is None:
            raise StageError(f"stage {first_stage} does not run on this device")
        if len(stage.spec.inputs) != 1:
            raise StageError(f"stage {first_stage} takes {len(stage.spec.inputs)} inputs; a .npy holds one")
        spec = stage.spec.inputs[0]
        spec.check(str(array.dtype), array.shape, f"stage {first_stage}")
        origin = (
            None
            if self.address is None
            else {"device_id": self.device_id, "host": self.address[0], "port": self.address[1]}
        )
        await queue.put(_Work(request_id, session_id, {spec.name: array}, [], time.time(), origin))

    async def _run(self, message: Run, data: bytes | None = None) -> None:
        try:
            route = _Route(message.deployment_id, message.first_stage, message.entry)
            await self._check_route(route)
            array = (
                _npy(data, "the inline input") if data is not None else await self._input(message.input_url)
            )
            # Sent to a peer, the input's hop is traced as a source entry (stage -1): its encoding and transfer.
            await self._enter(route, message.request_id, None, array, trace=route.entry is not None)
        except (StageError, DeployError, CodecError, AuthError, PeerUnreachable) as exc:
            await self._fail(
                message.deployment_id, message.first_stage, message.request_id, None, None, str(exc)
            )

    async def _require(self, deployment_id: str) -> Deployment:
        deployment = await self._deployment(deployment_id)
        if deployment is None:
            raise StageError(f"deployment {deployment_id!r} is not deployed on this device")
        return deployment

    async def _stream(self, message: Stream) -> None:
        state = _StreamState(message, _Route(message.deployment_id, message.first_stage, message.entry))
        try:
            await self._check_route(state.route)
            array = await self._input(message.input_url)
        except (StageError, DeployError) as exc:
            await self._fail(
                message.deployment_id, message.first_stage, -1, message.session_id, None, str(exc)
            )
            await self.outbox(StreamDone(message.session_id, 0, 0), None)
            return
        emitter = asyncio.create_task(self._emit(state, array), name=f"stream-{message.session_id}")
        self._streams[message.session_id] = (message.deployment_id, emitter)
        self._routes[message.session_id] = state
        try:
            await asyncio.wait({emitter})  # ends when all frames are out or at stream_stop (a cancel)
            if state.frames:
                await asyncio.wait(state.frames)
        finally:
            self._streams.pop(message.session_id, None)
            self._routes.pop(message.session_id, None)
            emitter.cancel()
        await self._flush(state)
        await self.outbox(StreamDone(message.session_id, state.sent, state.ok), None)

    async def _check_route(self, route: _Route) -> None:
        """A local first stage must be deployed here; a peer's needs its secret (its DONE frames use it)."""
        if route.entry is None:
            await self._require(route.deployment_id)
        else:
            self._entry_secrets[route.deployment_id] = str(route.entry["secret"]).encode()

    async def _emit(self, state: _StreamState, array: np.ndarray) -> None:
        message = state.message
        loop = asyncio.get_running_loop()
        slots = asyncio.Semaphore(message.max_in_flight)
        begin = loop.time()
        for request_id in range(message.frames):
            await asyncio.sleep(max(0.0, begin + request_id / message.rate - loop.time()))
            await slots.acquire()  # pipelining, bounded: at most max_in_flight frames between source and end
            # Read the route per frame: a stream_switch changes it between two frames, never within one.
            route = state.route
            key = (route.deployment_id, message.session_id, request_id)
            self._waiters[key] = loop.create_future()
            started = time.time()
            try:
                await self._enter(route, request_id, message.session_id, array)
            except (StageError, CodecError, AuthError, PeerUnreachable) as exc:
                self._waiters.pop(key)
                slots.release()
                await self._fail(
                    route.deployment_id, route.first_stage, request_id, message.session_id, None, str(exc)
                )
                state.batch.append(
                    {"request_id": request_id, "trace": [], "latency_s": time.time() - started, "ok": False,
                     "error": str(exc)}
                )  # fmt: skip
                continue
            state.sent += 1
            frame = asyncio.create_task(self._await_frame(key, started, state, slots))
            state.frames.add(frame)
            frame.add_done_callback(state.frames.discard)

    async def _await_frame(
        self, key: tuple[str, str, int], started: float, state: _StreamState, slots: asyncio.Semaphore
    ) -> None:
        waiter = self._waiters[key]
        done: Done | None = None
        try:
            done, ended = await asyncio.wait_for(waiter, self.frame_timeout)
        except TimeoutError:
            ended = time.time()
        finally:
            self._waiters.pop(key, None)
            slots.release()
        ok = done is not None and done.ok
        error = f"no completion within {self.frame_timeout:.0f}s" if done is None else done.error
        state.ok += ok
        state.batch.append(
            {"request_id": key[2], "trace": done.trace if done else [], "latency_s": ended - started,
             "ok": ok, "error": error}
        )  # fmt: skip
        if len(state.batch) >= state.message.report_every:
            await self._flush(state)

    async def _flush(self, state: _StreamState) -> None:
        if state.batch:
            frames, state.batch = state.batch, []
            await self.outbox(StreamReport(state.message.session_id, frames), None)

    async def _enter(
        self, route: _Route, request_id: int, session_id: str | None, array: np.ndarray, trace: bool = False
    ) -> None:
        """Start one request on its route: the local first stage, or the input sent to the peer holding it
        (``trace``: with a source entry timing that hop)."""
        if route.entry is None:
            deployment = self.deployments.get(route.deployment_id)
            if deployment is None:
                raise StageError(f"deployment {route.deployment_id!r} is not deployed on this device")
            await self._start_chain(deployment, route.first_stage, request_id, session_id, array)
            return
        entry = route.entry
        started, encoding = time.time(), time.perf_counter()
        payload, params = encode(entry["codec"], array)
        hop = []
        if trace:
            hop = [trace_entry(SOURCE_STAGE, self.device_id, 0.0, 0.0, started)]
            hop[0]["serialize_s"] = time.perf_counter() - encoding
            hop[0]["end"] = time.time()
        origin = (
            None
            if self.address is None
            else {"device_id": self.device_id, "host": self.address[0], "port": self.address[1]}
        )
        act = Activation(
            route.deployment_id, request_id, route.first_stage, entry["tensor"], str(array.dtype), array.shape,
            entry["codec"], payload, params, hop, session_id=session_id, origin=origin,
        )  # fmt: skip
        shaper = self.links.for_peer(entry["device_id"], entry.get("name"))
        secret = self._entry_secrets[route.deployment_id]
        await self.pool.send(entry["host"], int(entry["port"]), route.deployment_id, secret, act, shaper)

    async def _switch_stream(self, message: StreamSwitch) -> None:
        """Route the stream's next frames to another deployment; frames already sent finish where they are."""
        state = self._routes.get(message.session_id)
        if state is None:
            log.info("ignoring stream_switch %s: session %s is not streaming here", message.switch_id,
                     message.session_id)  # fmt: skip
            return
        route = _Route(message.deployment_id, message.first_stage, message.entry, message.switch_id)
        try:
            await self._check_route(route)
        except (StageError, DeployError) as exc:
            log.warning("refusing stream_switch %s: %s", message.switch_id, exc)
            return
        state.route = route
        entry = self._streams.get(message.session_id)
        if entry is not None:
            self._streams[message.session_id] = (message.deployment_id, entry[1])
        log.info("session %s now streams to deployment %s (switch %s)", message.session_id,
                 message.deployment_id, message.switch_id)  # fmt: skip

    async def _stop_stream(self, message: StreamStop) -> None:
        entry = self._streams.get(message.session_id)
        if entry is not None:
            entry[1].cancel()  # frames in flight still finish and are reported

    # --- measurements ----------------------------------------------------------------------------------

    async def _profile(self, message: Profile) -> None:
        try:
            blocks = []
            for segment in message.segments:
                path = await self.cache.fetch(segment["url"], segment["sha256"])
                timing = await asyncio.to_thread(
                    _time_block, path, segment, message, message.threads or self.threads, self.device
                )
                blocks.append({"block": segment["block"], **timing})
            reply = ProfileResult(message.profile_id, blocks, self._thermal())
        except (DeployError, StageError) as exc:
            reply = ProfileResult(message.profile_id, [], self._thermal(), error=str(exc))
        await self.outbox(reply, None)

    def _thermal(self) -> dict[str, float]:
        return {k: v for k, v in self.metrics().items() if k.startswith(THERMAL_PREFIXES)}

    async def _probe(self, message: Probe) -> None:
        size = min(message.payload_bytes, DEFAULT_MAX_PAYLOAD)
        # One peer after another: concurrent probes would share the link and each measure a fraction of it.
        links = [
            await _probe_link(peer, size, self.links.for_peer(peer["device_id"], peer.get("name")))
            for peer in message.peers
        ]
        control = None
        if message.control_plane_url is not None:
            control = await self._probe_control_plane(message.control_plane_url, message.payload_bytes)
        await self.outbox(ProbeResult(message.probe_id, links, control), None)

    async def _probe_control_plane(self, url: str, payload_bytes: int) -> dict[str, Any]:
        if self.control_probe is None:
            return {"rtt_s": None, "bandwidth_bps": None, "error": "this executor has no control channel"}
        return await self.control_probe(url, min(payload_bytes, LINK_PROBE_MAX_BYTES))

    # --- emulation -------------------------------------------------------------------------------------

    async def _shape(self, message: Shape) -> None:
        try:
            specs = parse_links(message.links, "shape.links")  # no base directory: no CSV files from afar
        except LinkSpecError as exc:
            log.warning("ignoring a shape message: %s", exc)
            return
        self.links.update(specs)
        log.info(
            "emulated links now: %s", ", ".join(f"{p} {'set' if s else 'removed'}" for p, s in specs.items())
        )

    async def _tenant(self, message: Tenant) -> None:
        if self.device is None:
            log.warning("ignoring a tenant message: this agent emulates no device (run it with --profile)")
            return
        # Off the event loop: stopping the tenant joins its thread.
        await asyncio.to_thread(self.device.set_background_load, message.share)
        log.info("background load now %.2f", message.share)


_Encoded = dict[str, tuple[Any, dict[str, Any]]]  # tensor name -> (payload, codec parameters)


def _encode_all(codec: str, outputs: dict[str, np.ndarray]) -> _Encoded:
    return {name: encode(codec, array) for name, array in outputs.items()}


def _time_block(
    path: Path, segment: dict[str, Any], message: Profile, threads: int | None, device: EmulatedDevice | None
) -> dict[str, Any]:
    try:
        specs = [TensorSpec.from_dict(t) for t in segment["inputs"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise StageError(f"block {segment['block']}: malformed inputs ({exc!r})") from None
    session = load_session(path, threads)
    rng = np.random.default_rng(0)
    feeds = {spec.name: spec.example(rng) for spec in specs}
    stretch = Stretch()  # the block's runs, as a stage's frames, stretch from the host's undisturbed time
    try:
        for _ in range(message.warmup):
            _timed_run(session, feeds, device, stretch)
        times = [_timed_run(session, feeds, device, stretch) for _ in range(message.repeats)]
    except Exception as exc:  # onnxruntime's own error types
        raise StageError(f"block {segment['block']}: onnxruntime failed: {exc}") from None
    return {"median_s": float(np.median(times)), "p90_s": float(np.percentile(times, 90)), "runs": len(times)}


def _timed_run(
    session: Any, feeds: dict[str, np.ndarray], device: EmulatedDevice | None, stretch: Stretch
) -> float:
    """One run's compute seconds; on an emulated device, as that device would take it (and heating it)."""
    if device is None:
        started = time.perf_counter()
        session.run(None, feeds)
        return time.perf_counter() - started
    with device.occupy():
        scale = device.scale()
        started = time.perf_counter()
        session.run(None, feeds)
        elapsed = stretch(time.perf_counter() - started, scale)
    device.busy(elapsed)
    return elapsed


PROBE_PINGS = 5


async def _probe_link(
    peer: dict[str, Any], payload_bytes: int, shaper: LinkShaper | None = None
) -> dict[str, Any]:
    """RTT: median of empty PINGs. Bandwidth: the payload crosses twice (PING, then PONG echoes it), so
    ``2 * bytes / (t_big - t_empty)`` with each t the median of its PINGs. An emulated link (``shaper``)
    applies to every PING, so the probe measures the emulated link."""
    link: dict[str, Any] = {
        "device_id": peer["device_id"],
        "rtt_s": None,
        "bandwidth_bps": None,
        "error": None,
    }
    try:
        empty = [await ping(peer["host"], peer["port"], shaper=shaper) for _ in range(PROBE_PINGS)]
        big = [await ping(peer["host"], peer["port"], payload_bytes, shaper=shaper) for _ in range(3)]
    except (OSError, TimeoutError, FrameError) as exc:
        link["error"] = f"{type(exc).__name__}: {exc}"
        return link
    rtt, loaded = float(np.median(empty)), float(np.median(big))
    link["rtt_s"] = rtt
    link["bandwidth_bps"] = 8 * 2 * payload_bytes / max(loaded - rtt, 1e-9)
    return link


def _npy(data: bytes, what: str) -> np.ndarray:
    try:
        return np.load(BytesIO(data), allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise StageError(f"{what} is not a .npy tensor: {exc}") from None
