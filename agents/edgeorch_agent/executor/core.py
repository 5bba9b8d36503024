"""The ``Executor``: builds its parts, hands each control message to the part that does its work, and keeps
``max_tasks`` of that work running at most."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from edgeorch_wire.frames import Activation, Done, FrameError, parse_activation, parse_frame
from edgeorch_wire.protocol import (
    Budget,
    Deploy,
    Message,
    Probe,
    Profile,
    Relayed,
    ReportAck,
    Run,
    ServeStatus,
    Shape,
    Stream,
    StreamStop,
    StreamSwitch,
    Tenant,
    Undeploy,
)

from ..dataplane import PeerPool, Rejected
from ..emulation.device import EmulatedDevice
from ..emulation.links import LinkTable
from ..runtime import Deployment, SegmentCache
from .conditions import Conditions
from .deployments import Deployer
from .measurement import Measurements
from .qos import QosCollector
from .routing import Router
from .served import Serving
from .sources import Source
from .stages import Pipeline
from .state import ControlProbe, Outbox, Shared
from .streams import Streams

log = logging.getLogger(__name__)


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
        serve_in_flight: int = 8,
        serve_queue: int = 64,
        server_url: str = "",
        spool_dir: Path | None = None,
        insecure_dataplane: bool = False,
        learning_dir: Path | None = None,
    ):
        self.shared = Shared(
            device_id,
            credential,
            SegmentCache(cache_dir, credential, base_url=server_url),
            outbox,
            PeerPool(connect_timeout, seal=not insecure_dataplane),
            links if links is not None else LinkTable(),
            device,
            address,
        )
        self.router = Router(self.shared, relay_for)
        self.pipeline = Pipeline(self.shared, self.router, queue_size)
        self.deployer = Deployer(self.shared, self.pipeline, threads, compute_scale)
        self.source = Source(self.shared, self.deployer, self.router)
        self.streams = Streams(self.shared, self.source, self.router, frame_timeout, learning_dir)
        self.serving = Serving(
            self.shared, self.source, serve_in_flight, serve_queue, frame_timeout, spool_dir
        )
        self.measurements = Measurements(self.shared, metrics or dict, threads, control_probe)
        self.conditions = Conditions(self.shared)
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(max_tasks)

    def qos_collector(self) -> QosCollector:
        """The telemetry of this agent's stage queues (``qos.*`` metrics: docs/qos.md)."""
        return QosCollector(self.shared.queues, lambda: self.shared.dropped)

    @property
    def device_id(self) -> str:
        return self.shared.device_id

    @property
    def deployments(self) -> dict[str, Deployment]:
        return self.shared.deployments

    @property
    def address(self) -> tuple[str, int] | None:
        """This agent's data plane as peers reach it (stream frames report back here); set once listening."""
        return self.shared.address

    @address.setter
    def address(self, address: tuple[str, int] | None) -> None:
        self.shared.address = address

    async def handle(self, message: Message, data: bytes | None = None) -> None:
        """Start the work a control message asks for; waits (back-pressure) while ``max_tasks`` are running.

        ``data`` is the binary frame that followed the message (an inline ``run`` input).
        """
        handlers: dict[type, Callable[[Any], Coroutine[Any, Any, None]]] = {
            Deploy: self.deployer.deploy,
            Run: self.source.run,
            Stream: self._stream,
            StreamStop: self._stream_stop,
            StreamSwitch: self._stream_switch,
            Budget: self.streams.budget,
            ServeStatus: self.serving.status,
            ReportAck: self.serving.acked,
            Undeploy: self.deployer.undeploy,
            Profile: self.measurements.profile,
            Probe: self.measurements.probe,
            Shape: self.conditions.shape,
            Tenant: self.conditions.tenant,
        }
        handler = handlers.get(type(message))
        if handler is None:
            raise TypeError(f"the executor does not handle {message.type!r}")
        await self._slots.acquire()
        work = self.source.run(message, data) if isinstance(message, Run) else handler(message)
        task = asyncio.create_task(work, name=f"executor-{message.type}")
        if isinstance(message, Deploy):
            self.deployer.started(message.deployment_id, task)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    # A serving session is a stream whose requests come from the inference endpoint (``served``).

    async def _stream(self, message: Stream) -> None:
        await (self.serving.open(message) if message.serve is not None else self.streams.stream(message))

    async def _stream_stop(self, message: StreamStop) -> None:
        if self.serving.serves(message.session_id) is not None:
            await self.serving.stop(message)
        else:
            await self.streams.stop(message)

    async def _stream_switch(self, message: StreamSwitch) -> None:
        if self.serving.serves(message.session_id) is not None:
            await self.serving.switch(message)
        else:
            await self.streams.switch(message)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._slots.release()
        if not task.cancelled() and task.exception() is not None:
            log.error("executor task %s failed", task.get_name(), exc_info=task.exception())

    # --- the data-plane listener's hooks -----------------------------------------------------------------

    def secret_for(self, deployment_id: str) -> bytes | None:
        return self.shared.secret_for(deployment_id)

    async def on_activation(self, act: Activation) -> None:
        """An activation from a peer (or relayed): checked, decoded and queued for its stage."""
        await self.pipeline.receive(act)

    async def on_done(self, done: Done) -> None:
        """A stream frame this agent sources has ended (a DONE frame from the stage that ended it)."""
        self.shared.frame_done(done)

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
        await self.serving.close()
        await self.deployer.close()
        await self.shared.pool.close()
