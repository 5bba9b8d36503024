"""Requests served at the source: the models this agent answers on its inference endpoint, each on the route
the control plane deployed for it with this device as the source (a serving session: a ``stream`` whose
``serve`` is set).

A request enters its route like a stream frame, with an origin that asks for a reply: the last stage sends its
outputs back to this agent in the DONE frame, and the waiting caller gets them. No control-plane round trip
per request: a model with no route is asked for once (``serve_request``), the control plane answers
``serve_status`` at once (``deploying``, ``unknown``, ``failed``) and sends the route when it is deployed
(``stream_switch`` replaces it when it re-plans). Each request's trace (its stages, latency, outcome, output)
is reported after the fact, in batches (``stream_report`` of the serving session).

Admission: at most ``max_in_flight`` requests of a model are in its pipeline; up to ``max_queue`` more wait
for a slot, the most urgent first (``qos.Admission``), and beyond that a request is refused at once (``Busy``,
HTTP 429).

QoS (docs/qos.md): each request carries a priority class and a deadline, its own (``priority``, ``deadline_s``
or ``timeout``) or else its serving session's, to every stage; a stage that drops it (its deadline could not
be met) answers at once, and the caller gets 504 with the reason (``Dropped``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from edgeorch_wire import qos
from edgeorch_wire.aio import within
from edgeorch_wire.codecs import CodecError
from edgeorch_wire.frames import Done
from edgeorch_wire.protocol import (
    ReportAck,
    ServeRequest,
    ServeStatus,
    Stream,
    StreamDone,
    StreamReport,
    StreamStop,
    StreamSwitch,
)

from ..dataplane import AuthError, PeerUnreachable
from ..runtime import DeployError, StageError
from .qos import Admission
from .sources import Route, Source
from .spool import TraceSpool
from .state import RouteLost, Shared, announce_switch, next_route

log = logging.getLogger(__name__)

REPORT_EVERY = 50  # traces per report at most
REPORT_AFTER_S = 0.5  # a trace waits at most this long to be reported
ASK_WAIT_S = 2.0  # a first request waits this long for the control plane's serve_status
RETRY_AFTER_S = 1  # what a 503 tells the caller while a route is being deployed
REFUSAL_TTL_S = 5.0  # an unknown model is asked about again after this long


class ServeError(Exception):
    status = 500

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class UnknownModel(ServeError):
    status = 404


class Unavailable(ServeError):
    status = 503


class Busy(ServeError):
    status = 429


class Failed(ServeError):
    status = 500


class TimedOut(ServeError):
    status = 504


class Dropped(ServeError):
    """A stage dropped the request before computing it: its deadline could not be met (docs/qos.md)."""

    status = 504


class BadParameter(ServeError):
    status = 400


@dataclass
class Served:
    """One model this agent serves: what the control plane said of it, its route, admission and traces."""

    name: str
    version: str | None = None
    state: str = "asking"  # asking | deploying | ready | unknown | failed
    reason: str = ""
    inputs: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    session_id: str | None = None
    route: Route | None = None
    answered: asyncio.Event = field(default_factory=asyncio.Event)  # serve_status or a route came
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    asked_at: float = 0.0
    next_id: int = 0
    sent: int = 0
    ok: int = 0
    slots: Admission | None = None  # the most urgent waiting request enters first (``qos``)
    waiting: int = 0
    running: int = 0  # requests in the pipeline now
    refused: int = 0  # requests refused because the queue was full
    batch: list[dict[str, Any]] = field(default_factory=list)
    failover: bool = False  # the session fails over: a request cut off on its route is sent again, once
    switched: asyncio.Event = field(default_factory=asyncio.Event)  # set (and replaced) at each switch
    priority: int = qos.DEFAULT_PRIORITY  # the session's class: a request's own ``priority`` overrides it
    deadline_s: float | None = (
        None  # the session's deadline: a request's ``deadline_s``/``timeout`` overrides it
    )


@dataclass
class Reply:
    outputs: dict[str, np.ndarray]
    version: str
    request_id: int
    latency_s: float
    trace: list[dict[str, Any]]


class Serving:
    def __init__(
        self,
        shared: Shared,
        source: Source,
        max_in_flight: int = 8,
        max_queue: int = 64,
        request_timeout: float = 60.0,
        spool_dir: Path | None = None,
    ):
        self.shared = shared
        self.spool = TraceSpool(spool_dir)
        self.source = source
        self.max_in_flight = max_in_flight
        self.max_queue = max_queue
        self.request_timeout = request_timeout
        self.models: dict[str, Served] = {}
        self._flusher: asyncio.Task[None] | None = None

    # --- what the control plane says --------------------------------------------------------------------

    async def status(self, message: ServeStatus) -> None:
        served = self.models.setdefault(message.model, Served(message.model))
        stale = message.session_id is not None and served.session_id not in (None, message.session_id)
        if stale and message.state == "failed" and served.state == "ready":
            return  # about a serving session this one has replaced
        served.inputs, served.outputs = message.inputs or served.inputs, message.outputs or served.outputs
        served.version = message.version or served.version
        served.session_id = message.session_id or served.session_id
        if served.state != "ready" or message.state != "deploying":
            served.state, served.reason = message.state, message.reason
        if message.state != "deploying":
            served.route = None
            served.ready.clear()
        served.answered.set()

    async def open(self, message: Stream) -> None:
        """A serving session's route (its ``stream`` message): requests for the model now run on it."""
        serve = message.serve or {}
        name = str(serve.get("model", ""))
        route = Route(message.deployment_id, message.first_stage, message.entry)
        try:
            await self.source.check_route(route)
        except (StageError, DeployError) as exc:
            await self.source.router.fail(
                message.deployment_id, message.first_stage, -1, message.session_id, None, str(exc)
            )
            await self.shared.outbox(StreamDone(message.session_id, 0, 0), None)
            return
        served = self.models.setdefault(name, Served(name))
        if served.session_id not in (None, message.session_id) and served.route is not None:
            await self._close_session(served)  # a new serving session replaces the old one
        served.session_id = message.session_id
        served.version = str(serve.get("version") or served.version or "1")
        served.inputs = list(serve.get("inputs") or served.inputs)
        served.outputs = list(serve.get("outputs") or served.outputs)
        served.route, served.state, served.reason = route, "ready", ""
        served.failover = message.failover
        served.priority, served.deadline_s = message.priority, message.deadline_s
        served.slots = served.slots or Admission(self.max_in_flight)
        served.answered.set()
        served.ready.set()
        log.info("serving %s on deployment %s (session %s)", name, message.deployment_id, message.session_id)

    def serves(self, session_id: str) -> Served | None:
        for served in self.models.values():
            if served.session_id == session_id:
                return served
        return None

    async def switch(self, message: StreamSwitch) -> None:
        """The control plane re-planned a serving session: its next requests take the new route (those in
        flight finish where they are)."""
        served = self.serves(message.session_id)
        if served is None:
            return
        route = Route(message.deployment_id, message.first_stage, message.entry, message.switch_id)
        try:
            await self.source.check_route(route)
        except (StageError, DeployError) as exc:
            log.warning("refusing stream_switch %s: %s", message.switch_id, exc)
            return
        served.route = route
        if message.failover and served.failover:
            # The old route lost a device: requests still out on it are sent again on the new one.
            self.shared.routes_lost(message.session_id, message.deployment_id, message.switch_id)
        announce_switch(served)

    async def stop(self, message: StreamStop) -> None:
        served = self.serves(message.session_id)
        if served is not None:
            await self._close_session(served)
            served.route, served.state, served.session_id = None, "asking", None
            served.ready.clear()
            served.answered.clear()

    async def _close_session(self, served: Served) -> None:
        await self._flush(served)
        if served.session_id is not None:
            await self.shared.outbox(StreamDone(served.session_id, served.sent, served.ok), None)
        served.sent = served.ok = 0

    # --- requests ---------------------------------------------------------------------------------------

    async def model(self, name: str, version: str | None, wait_s: float = 0.0) -> Served:
        """The model's state, asking the control plane for it once; waits up to ``wait_s`` for a route."""
        served = self.models.get(name)
        now = time.monotonic()
        if served is None or (
            served.state in ("unknown", "failed") and now - served.asked_at > REFUSAL_TTL_S
        ):
            served = self.models.setdefault(name, Served(name))
            served.state, served.asked_at = "asking", now
            served.answered.clear()
            await self.shared.outbox(ServeRequest(name, version), None)
        if not served.answered.is_set():
            try:
                await within(served.answered.wait(), max(ASK_WAIT_S, wait_s))
            except TimeoutError:
                pass
        if served.state == "unknown":
            raise UnknownModel(served.reason or f"no model {name!r}")
        if version is not None and served.version is not None and version != served.version:
            raise UnknownModel(f"model {name!r} has no version {version!r} (it serves {served.version})")
        if served.state != "ready" and wait_s > 0:
            try:
                await within(served.ready.wait(), max(0.0, wait_s))
            except TimeoutError:
                pass
        return served

    def require_ready(self, served: Served) -> Route:
        if served.state == "failed":
            raise Unavailable(f"{served.name} cannot be served: {served.reason}", RETRY_AFTER_S)
        if served.state != "ready" or served.route is None:
            raise Unavailable(f"{served.name} is being deployed for this device; retry", RETRY_AFTER_S)
        return served.route

    async def infer(
        self, served: Served, array: np.ndarray, parameters: dict[str, Any] | None = None
    ) -> Reply:
        """Run one request on the model's route and return its outputs (``ServeError`` saying why not)."""
        parameters = parameters or {}
        check_parameters(parameters)
        arrived = time.time()
        priority, deadline_s = qos_of(parameters, served)
        deadline = None if deadline_s is None else arrived + deadline_s
        self.require_ready(served)
        assert served.slots is not None
        if served.slots.locked() and served.waiting >= self.max_queue:
            served.refused += 1
            raise Busy(
                f"{served.name}: {self.max_in_flight} requests in flight and {served.waiting} queued",
                RETRY_AFTER_S,
            )
        served.waiting += 1
        try:
            await served.slots.acquire(priority, deadline)
        finally:
            served.waiting -= 1
        served.running += 1
        try:
            return await self._run(served, array, parameters, (priority, deadline_s), deadline)
        finally:
            served.running -= 1
            served.slots.release()

    async def _run(
        self,
        served: Served,
        array: np.ndarray,
        parameters: dict[str, Any],
        qos_class: tuple[int, float | None],
        deadline: float | None,
    ) -> Reply:
        route = self.require_ready(served)  # re-read: a switch may have come while queued
        session_id = served.session_id
        assert session_id is not None
        request_id, served.next_id = served.next_id, served.next_id + 1
        key = (route.deployment_id, session_id, request_id)
        loop = asyncio.get_running_loop()
        waiter = self.shared.waiters[key] = loop.create_future()
        origin = {**(self.shared.origin() or {"device_id": self.shared.device_id}), "reply": True}
        passed = _passed_on(parameters)
        if passed:
            origin["params"] = passed  # travels with the request's activations to every stage
        timeout = _timeout(parameters, self.request_timeout)
        priority = qos_class[0]  # its deadline counts from its arrival, admission's wait included
        started = time.time()
        done: Done | None = None
        error: str | None = None
        failure: type[ServeError] = Failed
        resent = False
        try:
            await self.source.enter(
                route, request_id, session_id, array, origin=origin, priority=priority, deadline=deadline
            )
            served.sent += 1
            while True:
                left = timeout - (time.time() - started)
                try:
                    done, _ = await within(waiter, max(left, 0.0))
                    if done.ok or done.dropped or not served.failover or resent:
                        break
                    cut_off = done.error or "failed"
                except RouteLost as exc:
                    if resent:
                        raise StageError(str(exc)) from None
                    cut_off = str(exc)
                finally:
                    self.shared.waiters.pop(key, None)
                # Failover: once the control plane's new route comes (within the request's time), once more.
                new = await next_route(served, key[0], timeout - (time.time() - started))
                if new is None:
                    raise StageError(f"{cut_off}; no failover route in time")
                done, resent, route = None, True, new
                key = (route.deployment_id, session_id, request_id)
                waiter = self.shared.waiters[key] = loop.create_future()
                await self.source.enter(
                    route, request_id, session_id, array, origin=origin, priority=priority, deadline=deadline
                )
        except (StageError, CodecError, AuthError, PeerUnreachable) as exc:
            error = str(exc)
        except TimeoutError:
            error, failure = f"no answer within {timeout:g} s", TimedOut
        finally:
            self.shared.waiters.pop(key, None)
        latency = time.time() - started
        if done is not None and not done.ok:
            error = done.error or "failed"
            failure = Dropped if done.dropped else failure
        ok = error is None and done is not None
        served.ok += ok
        self._trace(served, request_id, done, latency, error, parameters, resent, key[0], qos_class)
        if error is not None:
            raise failure(error)
        assert done is not None
        return Reply(_tensors(done), served.version or "1", request_id, latency, done.trace)

    # --- traces -----------------------------------------------------------------------------------------

    def _trace(
        self,
        served: Served,
        request_id: int,
        done: Done | None,
        latency: float,
        error: str | None,
        parameters: dict[str, Any],
        resent: bool = False,
        deployment: str | None = None,
        qos_class: tuple[int, float | None] = (qos.DEFAULT_PRIORITY, None),
    ) -> None:
        entry: dict[str, Any] = {
            "request_id": request_id,
            "trace": done.trace if done else [],
            "latency_s": latency,
            "ok": error is None,
            "error": error,
            "output": done.output if done else None,
            "deployment": deployment,
        }
        params = _passed_on(parameters)
        if params:
            entry["parameters"] = params
        if resent:
            entry["resent"] = True
        entry["priority"] = qos_class[0]
        if qos_class[1] is not None:
            entry["deadline_s"] = qos_class[1]
        if done is not None and done.dropped:
            entry["dropped"] = True
        if served.session_id is not None:
            self.spool.add(served.session_id, entry)
        served.batch.append(entry)
        if len(served.batch) >= REPORT_EVERY:
            asyncio.get_running_loop().create_task(self._flush(served))
        elif self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush_later())

    async def _flush_later(self) -> None:
        await asyncio.sleep(REPORT_AFTER_S)
        for served in list(self.models.values()):
            await self._flush(served)

    async def _flush(self, served: Served) -> None:
        if served.batch and served.session_id is not None:
            frames, served.batch = served.batch, []
            batch = self.spool.seal(served.session_id)
            await self.shared.outbox(StreamReport(served.session_id, frames, batch), None)

    async def acked(self, message: ReportAck) -> None:
        self.spool.acked(message.session_id, message.batch)

    async def resend(self) -> int:
        """After a (re)connection: every spooled batch not acknowledged yet goes again; returns how many."""
        left = await asyncio.to_thread(self.spool.leftovers)
        for session_id, batch, frames in left:
            await self.shared.outbox(StreamReport(session_id, frames, batch), None)
        if left:
            log.info("sent %d batches of served requests' traces again", len(left))
        return len(left)

    async def close(self) -> None:
        if self._flusher is not None:
            self._flusher.cancel()
        self.spool.close()


def _passed_on(parameters: dict[str, Any]) -> dict[str, Any]:
    """The request parameters its stages (and its trace) carry: deadline, priority, codec (JSON scalars)."""
    return {
        k: v
        for k in ("deadline_s", "priority", "codec")
        if isinstance(v := parameters.get(k), str | int | float) and not isinstance(v, bool)
    }


def check_parameters(parameters: dict[str, Any]) -> None:
    """A request's QoS parameters, checked: ``BadParameter`` (400) saying what is wrong."""
    for key, unit in (("deadline_s", "seconds"), ("timeout", "microseconds")):
        value = parameters.get(key)
        if value is not None and not positive(value):
            raise BadParameter(f"{key} must be a positive number of {unit}, not {value!r}")
    try:
        qos.parse_priority(parameters.get("priority"))
    except qos.QosError as exc:
        raise BadParameter(str(exc)) from None


def qos_of(parameters: dict[str, Any], served: Served) -> tuple[int, float | None]:
    """A request's priority rank and deadline (seconds from its start): its own parameters' (``priority``;
    ``deadline_s`` or Triton's ``timeout``), else its serving session's."""
    priority = qos.parse_priority(parameters.get("priority"))
    deadline = next(
        (
            positive(parameters.get(k)) * scale
            for k, scale in (("deadline_s", 1.0), ("timeout", 1e-6))
            if positive(parameters.get(k))
        ),
        served.deadline_s,
    )
    return (served.priority if priority is None else priority), deadline


def positive(value: Any) -> float:
    """A request parameter as a positive number of seconds (or microseconds), 0.0 when it is none."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return 0.0


def _timeout(parameters: dict[str, Any], default: float) -> float:
    """The request's own bound: ``deadline_s``, or Triton's ``timeout`` (microseconds), else ``default``."""
    for key, scale in (("deadline_s", 1.0), ("timeout", 1e-6)):
        value = positive(parameters.get(key))
        if value:
            return min(default, value * scale)
    return default


def _tensors(done: Done) -> dict[str, np.ndarray]:
    payload = memoryview(done.payload)
    return {
        part.name: np.frombuffer(
            payload[part.offset : part.offset + part.nbytes], np.dtype(part.dtype)
        ).reshape(part.shape)
        for part in done.tensors or []
    }
