"""This agent as a stream's source: frames emitted at the session's rate (at most ``max_in_flight`` between
source and end), each awaited until its DONE frame comes back (or ``frame_timeout``), reported in batches
(``stream_report``) and summed up at the end (``stream_done``); ``stream_switch`` reroutes the next frames,
``stream_stop`` ends the emitting early."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from edgeorch_wire.codecs import CodecError
from edgeorch_wire.frames import Done
from edgeorch_wire.protocol import Stream, StreamDone, StreamReport, StreamStop, StreamSwitch

from ..dataplane import AuthError, PeerUnreachable
from ..runtime import DeployError, StageError
from .routing import Router
from .sources import Route, Source
from .state import FrameKey, Shared

log = logging.getLogger(__name__)


@dataclass
class StreamState:
    message: Stream
    route: Route
    sent: int = 0
    ok: int = 0
    batch: list[dict[str, Any]] = field(default_factory=list)
    frames: set[asyncio.Task[None]] = field(default_factory=set)


class Streams:
    def __init__(self, shared: Shared, source: Source, router: Router, frame_timeout: float):
        self.shared = shared
        self.source = source
        self.router = router
        self.frame_timeout = frame_timeout
        self.running: dict[str, StreamState] = {}  # session -> its state, for stream_switch

    async def stream(self, message: Stream) -> None:
        state = StreamState(message, Route(message.deployment_id, message.first_stage, message.entry))
        try:
            await self.source.check_route(state.route)
            array = await self.source.input(message.input_url)
        except (StageError, DeployError) as exc:
            await self.router.fail(
                message.deployment_id, message.first_stage, -1, message.session_id, None, str(exc)
            )
            await self.shared.outbox(StreamDone(message.session_id, 0, 0), None)
            return
        emitter = asyncio.create_task(self._emit(state, array), name=f"stream-{message.session_id}")
        self.shared.emitters[message.session_id] = (message.deployment_id, emitter)
        self.running[message.session_id] = state
        try:
            await asyncio.wait({emitter})  # ends when all frames are out or at stream_stop (a cancel)
            if state.frames:
                await asyncio.wait(state.frames)
        finally:
            self.shared.emitters.pop(message.session_id, None)
            self.running.pop(message.session_id, None)
            emitter.cancel()
        await self._flush(state)
        await self.shared.outbox(StreamDone(message.session_id, state.sent, state.ok), None)

    async def _emit(self, state: StreamState, array: np.ndarray) -> None:
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
            self.shared.waiters[key] = loop.create_future()
            started = time.time()
            try:
                await self.source.enter(route, request_id, message.session_id, array)
            except (StageError, CodecError, AuthError, PeerUnreachable) as exc:
                self.shared.waiters.pop(key)
                slots.release()
                await self.router.fail(
                    route.deployment_id, route.first_stage, request_id, message.session_id, None, str(exc)
                )
                state.batch.append(
                    {
                        "request_id": request_id,
                        "trace": [],
                        "latency_s": time.time() - started,
                        "ok": False,
                        "error": str(exc),
                    }
                )
                continue
            state.sent += 1
            frame = asyncio.create_task(self._await_frame(key, started, state, slots))
            state.frames.add(frame)
            frame.add_done_callback(state.frames.discard)

    async def _await_frame(
        self, key: FrameKey, started: float, state: StreamState, slots: asyncio.Semaphore
    ) -> None:
        waiter = self.shared.waiters[key]
        done: Done | None = None
        try:
            done, ended = await asyncio.wait_for(waiter, self.frame_timeout)
        except TimeoutError:
            ended = time.time()
        finally:
            self.shared.waiters.pop(key, None)
            slots.release()
        ok = done is not None and done.ok
        error = f"no completion within {self.frame_timeout:.0f}s" if done is None else done.error
        state.ok += ok
        state.batch.append(
            {
                "request_id": key[2],
                "trace": done.trace if done else [],
                "latency_s": ended - started,
                "ok": ok,
                "error": error,
            }
        )
        if len(state.batch) >= state.message.report_every:
            await self._flush(state)

    async def _flush(self, state: StreamState) -> None:
        if state.batch:
            frames, state.batch = state.batch, []
            await self.shared.outbox(StreamReport(state.message.session_id, frames), None)

    async def switch(self, message: StreamSwitch) -> None:
        """Route the stream's next frames to another deployment; frames already sent finish where they are."""
        state = self.running.get(message.session_id)
        if state is None:
            log.info(
                "ignoring stream_switch %s: session %s is not streaming here",
                message.switch_id,
                message.session_id,
            )
            return
        route = Route(message.deployment_id, message.first_stage, message.entry, message.switch_id)
        try:
            await self.source.check_route(route)
        except (StageError, DeployError) as exc:
            log.warning("refusing stream_switch %s: %s", message.switch_id, exc)
            return
        state.route = route
        emitter = self.shared.emitters.get(message.session_id)
        if emitter is not None:
            self.shared.emitters[message.session_id] = (message.deployment_id, emitter[1])
        log.info(
            "session %s now streams to deployment %s (switch %s)",
            message.session_id,
            message.deployment_id,
            message.switch_id,
        )

    async def stop(self, message: StreamStop) -> None:
        emitter = self.shared.emitters.get(message.session_id)
        if emitter is not None:
            emitter[1].cancel()  # frames in flight still finish and are reported
