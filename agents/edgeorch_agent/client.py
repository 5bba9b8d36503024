"""The agent's control channel: connect, say hello, stream telemetry, reconnect forever (or stop when fatal).

One connection:
    connect to ``ws_url`` with ``Authorization: Device <credential>``; send ``Hello``; wait for ``Welcome``
    (seq floor, telemetry interval); then a sender task and a receiver task run until either ends (the other
    is cancelled). The sender sends whatever the buffer holds beyond what this connection already sent, in
    batches of at most ``batch_size`` records and ``max_batch_bytes`` bytes, with at most ``max_in_flight``
    unacknowledged messages. The receiver removes acked records from the buffer and frees in-flight slots.
    A server ``Error`` is logged and refuses the oldest batch: ``retry_delay`` later every unacked record is
    offered again. A batch unacked for ``ack_timeout`` means the server lost track: the agent reconnects.
    Execution messages (deploy, run, stream, ...) go to the ``Executor``; what it sends back waits in a
    bounded outbox that a third task drains (a ``result``/``relay`` and its binary frame go back to back).
    A ``probe`` that asks for the control-plane link is measured on this connection (``controlprobe``).

Between connections:
    the sampler keeps filling the bounded buffer; reconnects wait an exponential backoff with full jitter
    (reset after a connection that lasted ``stable_after``). A close code in ``FATAL_CLOSE_CODES`` (or an
    HTTP 401/403 handshake refusal) stops the agent with exit code 3: retrying cannot help, and a revoked
    device must not hammer the server. ``CLOSE_TOO_BIG`` halves ``max_batch_bytes`` before reconnecting.

Why one module of this length: the sender, receiver and outbox tasks share one connection's state (the
buffer, the in-flight window, the outbox) and end together.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from edgeorch_wire.aio import within
from edgeorch_wire.protocol import (
    CLOSE_AUTH_FAILED,
    CLOSE_IDENTITY,
    CLOSE_PROTOCOL,
    CLOSE_REPLACED,
    CLOSE_REVOKED,
    CLOSE_TOO_BIG,
    EXECUTION_MESSAGES,
    FATAL_CLOSE_CODES,
    SERVER_MESSAGES,
    Ack,
    Error,
    Hello,
    Message,
    Ping,
    Pong,
    ProtocolError,
    Record,
    Relayed,
    Run,
    Telemetry,
    Welcome,
    decode,
)
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from . import __version__
from .backoff import Backoff
from .buffer import DEFAULT_CAPACITY, TelemetryBuffer
from .collectors import Sampler
from .config import AgentConfig
from .controlprobe import probe_control_plane
from .dataplane import DataplaneServer
from .emulation.device import EmulatedDevice
from .emulation.links import LinkTable
from .executor import Executor
from .inventory import collect_inventory
from .serving.endpoint import Endpoint
from .serving.http import HttpServer

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FATAL = 3
MAX_MESSAGE_BYTES = 16 * 1024 * 1024
DEFAULT_INTERVAL = 1.0  # until the server's Welcome says otherwise
_WILDCARD_HOSTS = {"", "0.0.0.0", "::"}
_CLOSE_NAMES = {
    CLOSE_AUTH_FAILED: "authentication failed",
    CLOSE_PROTOCOL: "protocol error",
    CLOSE_REVOKED: "device revoked",
    CLOSE_REPLACED: "replaced by a newer connection",
    CLOSE_IDENTITY: "identity mismatch",
    CLOSE_TOO_BIG: "message too big",
}


@dataclass
class AgentOptions:
    telemetry_interval: float | None = None  # overrides the server's Welcome.telemetry_interval when set
    dataplane_host: str = "0.0.0.0"
    dataplane_port: int = 0
    # What hello announces to peers, where it differs from what is bound (NAT, a port forward): None = bound.
    advertise_host: str | None = None
    advertise_port: int | None = None
    insecure_dataplane: bool = False  # unencrypted data-plane frames (--insecure-dataplane: one host only)
    buffer_size: int = DEFAULT_CAPACITY
    batch_size: int = 500
    # The server refuses control messages over 1 MiB by default (closing with CLOSE_TOO_BIG); stay well below.
    max_batch_bytes: int = 256 * 1024
    max_in_flight: int = 8
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    stable_after: float = 30.0
    welcome_timeout: float = 15.0
    ack_timeout: float = 60.0
    retry_delay: float = (
        5.0  # after a server Error, unacked records go again on this connection this much later
    )
    segment_cache: Path | None = None  # where model segments are kept (default: ~/.cache/edgeorch-agent)
    outbox_size: int = 64  # execution replies waiting for the control channel
    compute_scale: float = 1.0  # emulation: stretch every stage's compute to this many times its duration
    device: EmulatedDevice | None = (
        None  # emulation: behave as a device profile (closed when the agent stops)
    )
    links: LinkTable | None = None  # emulation: shape data-plane links to peers
    profile: str | None = None  # hello.profile; default: the profile recorded at enrollment
    serve_host: str = "127.0.0.1"  # the inference endpoint (serving.endpoint); None port: not opened
    serve_port: int | None = None
    serve_in_flight: int = 8  # requests per served model in its pipeline at once
    serve_queue: int = 64  # requests per served model waiting beyond those (then 429)
    spool_dir: Path | None = None  # served requests' traces until stored (executor.spool); None: memory only
    learning_dir: Path | None = None  # what ans streams learned, kept across restarts; None: memory only


class AckTimeout(Exception):
    pass


@dataclass
class _Flight:
    """What this connection has sent: the highest seq, and (sent_at, last seq) of each unacked batch."""

    cursor: int = -1
    batches: deque[tuple[float, int]] = field(default_factory=deque)
    rewind_at: float | None = None

    def release(self, seqs: list[int]) -> None:
        # The server answers batches in order, so an ack covers every batch up to its highest seq; an ack
        # listing nothing (or an Error) answers the oldest batch.
        if seqs:
            top = max(seqs)
            while self.batches and self.batches[0][1] <= top:
                self.batches.popleft()
        elif self.batches:
            self.batches.popleft()


def _describe_close(code: int | None, reason: str = "") -> str:
    if code is None:
        return "connection lost"
    name = _CLOSE_NAMES.get(code, "")
    return f"code {code}" + (f" ({name})" if name else "") + (f": {reason}" if reason else "")


class Agent:
    def __init__(
        self,
        config: AgentConfig,
        sampler: Sampler,
        options: AgentOptions | None = None,
        inventory: dict[str, Any] | None = None,
    ):
        self.config = config
        self.sampler = sampler
        self.options = options or AgentOptions()
        self.buffer = TelemetryBuffer(self.options.buffer_size)
        self.server_interval = DEFAULT_INTERVAL
        self.connections = 0
        self.max_batch_bytes = self.options.max_batch_bytes
        self._inventory = inventory
        self._wake = asyncio.Event()
        self.last_metrics: dict[str, float] = {}
        # Bounded: while the control channel is down the executor waits here rather than piling up replies.
        self._outbox: asyncio.Queue[tuple[str, bytes | None]] = asyncio.Queue(self.options.outbox_size)
        self._ws: ClientConnection | None = None  # the live control connection, for control-plane probes
        self.executor = Executor(
            config.device_id,
            config.credential,
            self.options.segment_cache or Path.home() / ".cache" / "edgeorch-agent" / "segments",
            self._post,
            metrics=lambda: self.last_metrics,
            compute_scale=self.options.compute_scale,
            device=self.options.device,
            links=self.options.links,
            control_probe=self._probe_control_plane,
            serve_in_flight=self.options.serve_in_flight,
            serve_queue=self.options.serve_queue,
            server_url=config.server,
            spool_dir=self.options.spool_dir,
            learning_dir=self.options.learning_dir,
            insecure_dataplane=self.options.insecure_dataplane,
        )
        self.sampler.add(self.executor.qos_collector())
        self._endpoint = HttpServer(Endpoint(self.executor.serving, lambda: self._ws is not None))
        self.serve_address: tuple[str, int] | None = None
        self._resending: asyncio.Task[int] | None = None
        # The listener announced in hello is the one that accepts the executor's activations.
        self._dataplane = DataplaneServer(
            secrets=self.executor.secret_for,
            on_activation=self.executor.on_activation,
            on_done=self.executor.on_done,
            insecure=self.options.insecure_dataplane,
        )

    @property
    def interval(self) -> float:
        return self.options.telemetry_interval or self.server_interval

    # --- lifecycle -------------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> int:
        """Run until ``stop`` is set (exit 0) or the server closes with a fatal code (exit 3)."""
        host, port = await self._dataplane.start(self.options.dataplane_host, self.options.dataplane_port)
        log.info("dataplane listening on %s:%d", host, port)
        if self.options.serve_port is not None:
            self.serve_address = await self._endpoint.start(self.options.serve_host, self.options.serve_port)
            log.info("inference endpoint on http://%s:%d/v2", *self.serve_address)
        self.sampler.sample()  # baseline for the delta-based metrics, so the first record has them
        sampling = asyncio.create_task(self._sample_loop(), name="sampler")
        channel = asyncio.create_task(self._connect_loop(), name="control-channel")
        stopping = asyncio.create_task(stop.wait(), name="stop")
        try:
            done, _ = await asyncio.wait({sampling, channel, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sampling, channel, stopping):
                task.cancel()
            await asyncio.gather(sampling, channel, stopping, return_exceptions=True)
            await self._endpoint.close()
            await self._dataplane.close()
            await self.executor.close()
            if self.options.device is not None:
                await asyncio.to_thread(self.options.device.close)
        if sampling in done:
            sampling.result()  # the sampler never returns: this re-raises whatever killed it
        return channel.result() if channel in done else EXIT_OK

    async def _sample_loop(self) -> None:
        loop = asyncio.get_running_loop()
        due = loop.time() + self.interval
        while True:
            await asyncio.sleep(max(0.0, due - loop.time()))
            # Off the event loop: reading sensors can block (slow hwmon drivers).
            metrics = await asyncio.to_thread(self.sampler.sample)
            self.buffer.add(metrics, ts=time.time())
            self.last_metrics = metrics
            self._wake.set()
            # A fixed schedule does not drift; after a stall (suspend) it skips ahead instead of bursting.
            due = max(due + self.interval, loop.time())

    # --- connections -----------------------------------------------------------------------------------

    async def _connect_loop(self) -> int:
        backoff = Backoff(self.options.backoff_base, self.options.backoff_cap)
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            code, summary = await self._connect_once()
            if code in FATAL_CLOSE_CODES:
                log.error("%s; stopping: retrying cannot help (re-enroll this device)", summary)
                return EXIT_FATAL
            if code == CLOSE_TOO_BIG:
                self._shrink_batches()
            if loop.time() - started >= self.options.stable_after:
                backoff.reset()
            delay = backoff.next_delay()
            log.warning("%s; reconnecting in %.1fs", summary, delay)
            await asyncio.sleep(delay)

    def _shrink_batches(self) -> None:
        # The server's message limit is lower than ours: halve, or the same batch would be refused forever.
        self.max_batch_bytes = max(16 * 1024, self.max_batch_bytes // 2)
        log.warning(
            "the server refused a message as too big; batches now at most %d bytes",
            self.max_batch_bytes,
        )

    async def _connect_once(self) -> tuple[int | None, str]:
        """One connection from handshake to close: the close code received (None if none) and a summary."""
        url = self.config.ws_url
        try:
            async with connect(
                url,
                additional_headers={"Authorization": f"Device {self.config.credential}"},
                max_size=MAX_MESSAGE_BYTES,
                open_timeout=self.options.welcome_timeout,
                close_timeout=2,
                user_agent_header=f"edgeorch-agent/{__version__}",
            ) as ws:
                self.connections += 1
                self._ws = ws
                try:
                    await self._session(ws)
                except asyncio.CancelledError:
                    # Stopping: say "going away" rather than the 1011 an aborted block would send.
                    await ws.close(1001, "agent stopping")
                    raise
                finally:
                    self._ws = None
            return ws.close_code, f"disconnected: {_describe_close(ws.close_code, ws.close_reason or '')}"
        except ConnectionClosed as exc:
            code, reason = (exc.rcvd.code, exc.rcvd.reason) if exc.rcvd else (None, "")
            return code, f"disconnected: {_describe_close(code, reason)}"
        except InvalidStatus as exc:
            status = exc.response.status_code
            # A handshake refused with 401/403 is the HTTP form of "authentication failed".
            code = CLOSE_AUTH_FAILED if status in (401, 403) else None
            return code, f"connection to {url} refused: HTTP {status}"
        except InvalidURI as exc:
            return CLOSE_IDENTITY, f"bad ws_url in the configuration: {exc}"
        except (OSError, TimeoutError, InvalidHandshake, AckTimeout) as exc:
            return None, f"connection to {url} failed: {exc or type(exc).__name__}"

    async def _session(self, ws: ClientConnection) -> None:
        if self._inventory is None:
            # Off the event loop: importing onnxruntime to list its providers takes a while.
            self._inventory = await asyncio.to_thread(collect_inventory)
        await ws.send(self._hello(ws, self._inventory).to_json())
        welcome = await within(self._await_welcome(ws), self.options.welcome_timeout)
        self.buffer.sync(welcome.last_seq)
        self.server_interval = (
            welcome.telemetry_interval if welcome.telemetry_interval > 0 else DEFAULT_INTERVAL
        )
        log.info(
            "connected to %s as %s; server has seq <= %d; %d records to send",
            self.config.ws_url,
            welcome.name,
            welcome.last_seq,
            len(self.buffer),
        )
        if 0 < welcome.heartbeat_timeout <= self.interval:
            log.warning(
                "telemetry every %.1fs is slower than the server's heartbeat timeout (%.1fs): it will "
                "think this device is offline between records",
                self.interval,
                welcome.heartbeat_timeout,
            )
        self.executor.address = (self._advertised_host(ws), self._advertised_port())
        # Spooled traces go again once the outbox drains (a task: the outbox is bounded and not drained yet).
        self._resending = asyncio.create_task(self.executor.serving.resend(), name="resend-traces")
        flight = _Flight()
        send_lock = asyncio.Lock()
        await _until_first_done(
            asyncio.create_task(self._send_loop(ws, flight, send_lock), name="telemetry-sender"),
            asyncio.create_task(self._receive_loop(ws, flight), name="control-receiver"),
            asyncio.create_task(self._outbox_loop(ws, send_lock), name="execution-sender"),
        )

    def _hello(self, ws: ClientConnection, inventory: dict[str, Any]) -> Hello:
        if self.options.device is not None:
            # An emulated device presents its own memory and says which metrics are emulated.
            inventory = self.options.device.inventory(inventory)
        return Hello(
            device_id=self.config.device_id,
            agent_version=__version__,
            inventory=inventory,
            dataplane={"host": self._advertised_host(ws), "port": self._advertised_port()},
            profile=self.options.profile or self.config.profile,
            serve=self._serve_announced(ws),
        )

    def _serve_announced(self, ws: ClientConnection) -> dict[str, Any] | None:
        """Where the control plane's /v2 proxy reaches the endpoint (a loopback one: from this host only)."""
        if self.serve_address is None:
            return None
        host = self.serve_address[0]
        if host in _WILDCARD_HOSTS:
            host = self._advertised_host(ws)
        return {"host": host, "port": self.serve_address[1]}

    def _advertised_host(self, ws: ClientConnection) -> str:
        if self.options.advertise_host:
            return self.options.advertise_host  # set by the operator: peers reach this device there
        # Bound to every interface: the address this host used to reach the control plane is the one most
        # likely reachable by the control plane and its peers.
        if self.options.dataplane_host not in _WILDCARD_HOSTS:
            return self.options.dataplane_host
        return str(ws.local_address[0])

    def _advertised_port(self) -> int:
        return self.options.advertise_port or self._dataplane.address[1]

    # --- the control-plane link ------------------------------------------------------------------------

    async def _probe_control_plane(self, url: str, payload_bytes: int) -> dict[str, Any]:
        """The link to the control plane: RTT on this connection, bandwidth by uploads to ``url`` (resolved
        against the server this agent enrolled with)."""
        target = urljoin(self.config.server.rstrip("/") + "/", url)
        return await probe_control_plane(self._ping, target, self.config.credential, payload_bytes)

    async def _ping(self, timeout: float = 10.0) -> float:
        """Seconds of one websocket ping/pong on the control connection."""
        ws = self._ws
        if ws is None:
            raise ConnectionError("the control channel is not connected")
        started = time.perf_counter()
        try:
            pong = await ws.ping()
            await within(pong, timeout)
        except ConnectionClosed as exc:
            raise ConnectionError(f"the control channel closed: {exc}") from None
        return time.perf_counter() - started

    async def _await_welcome(self, ws: ClientConnection) -> Welcome:
        while True:
            message = self._decode(await ws.recv())
            if isinstance(message, Welcome):
                return message
            if message is not None:
                log.warning("ignoring %s before welcome", message.type)

    def _decode(self, frame: str | bytes) -> Any:
        try:
            message = decode(frame, SERVER_MESSAGES)
        except ProtocolError as exc:
            # A newer server may send what this agent does not know yet: ignore it rather than disconnect.
            log.warning("ignoring server message: %s", exc)
            return None
        if isinstance(message, Error):
            log.warning("server error %s: %s", message.code, message.message)
        return message

    async def _send_loop(self, ws: ClientConnection, flight: _Flight, lock: asyncio.Lock) -> None:
        while True:
            await self._wait_until_sendable(flight)
            records, text = self._encode_batch(self.buffer.after(flight.cursor, self.options.batch_size))
            async with lock:
                await ws.send(text)
            flight.cursor = records[-1].seq
            flight.batches.append((time.monotonic(), flight.cursor))

    def _encode_batch(self, records: list[Record]) -> tuple[list[Record], str]:
        """The longest prefix of ``records`` whose message fits ``max_batch_bytes`` (at least one record)."""
        while True:
            text = Telemetry(records=records, dropped=self.buffer.dropped).to_json()
            if len(records) == 1 or len(text.encode()) <= self.max_batch_bytes:
                return records, text
            records = records[: len(records) // 2]

    async def _wait_until_sendable(self, flight: _Flight) -> None:
        while True:
            now = time.monotonic()
            if flight.batches and now - flight.batches[0][0] > self.options.ack_timeout:
                raise AckTimeout(f"no ack for {self.options.ack_timeout:.0f}s")
            if flight.rewind_at is not None and now >= flight.rewind_at:
                # The server refused a batch (e.g. its database was busy): offer every unacked record again.
                flight.cursor, flight.rewind_at = -1, None
                flight.batches.clear()
            if len(flight.batches) < self.options.max_in_flight and self.buffer.has_after(flight.cursor):
                return
            self._wake.clear()
            # within, not wait_for, which on 3.11 swallowed the cancel that came as the sampler woke this
            # loop: it then waited for a wake that never came (edgeorch_wire.aio.within).
            try:
                await within(self._wake.wait(), self._next_deadline(flight, now))
            except TimeoutError:
                pass  # an ack deadline or the rewind is due: checked above

    def _next_deadline(self, flight: _Flight, now: float) -> float | None:
        deadlines = [flight.batches[0][0] + self.options.ack_timeout] if flight.batches else []
        if flight.rewind_at is not None:
            deadlines.append(flight.rewind_at)
        return max(0.0, min(deadlines) - now) if deadlines else None

    async def _post(self, message: Message, binary: bytes | None = None) -> None:
        """The executor's way out: waits while the outbox is full (back-pressure on the executor)."""
        await self._outbox.put((message.to_json(), binary))

    async def _outbox_loop(self, ws: ClientConnection, lock: asyncio.Lock) -> None:
        while True:
            text, binary = await self._outbox.get()
            # The lock keeps telemetry from slipping between a message and the binary frame it announces.
            async with lock:
                await ws.send(text)
                if binary is not None:
                    await ws.send(binary)

    async def _receive_loop(self, ws: ClientConnection, flight: _Flight) -> None:
        # A ``relayed`` message, or a ``run`` with ``inline``, announces the binary frame that follows it.
        announced: Relayed | Run | None = None
        async for frame in ws:
            if isinstance(frame, bytes):
                if isinstance(announced, Relayed):
                    await self.executor.on_relayed(announced, frame)
                elif isinstance(announced, Run):
                    await self.executor.handle(announced, frame)
                else:
                    log.warning("ignoring a binary frame that no message announced")
                announced = None
                continue
            message = self._decode(frame)
            announced = (
                message
                if isinstance(message, Relayed) or (isinstance(message, Run) and message.inline)
                else None
            )
            if isinstance(announced, Run):
                continue  # it runs when its input arrives
            if isinstance(message, EXECUTION_MESSAGES):
                await self.executor.handle(message)
            elif isinstance(message, Ping):
                # Answered here, not by the executor: a busy executor is alive; only a frozen agent is silent.
                try:
                    self._outbox.put_nowait((Pong(message.nonce).to_json(), None))
                except asyncio.QueueFull:
                    log.warning("the control channel's outbox is full: ping %s not answered", message.nonce)
            elif isinstance(message, Ack):
                self.buffer.ack(message.seqs)
                flight.release(message.seqs)
                self._wake.set()
            elif isinstance(message, Error) and message.refers_to in (None, "telemetry"):
                # An error about no other message (an older server names none) refuses the oldest
                # telemetry batch. Its records stay buffered and go again a little later (not at once: a
                # server that cannot store now would be hammered).
                flight.release([])
                if flight.rewind_at is None:
                    flight.rewind_at = time.monotonic() + self.options.retry_delay
                self._wake.set()


async def _until_first_done(*tasks: asyncio.Task[None]) -> None:
    """Wait until one task ends, cancel the rest, and re-raise what the finished one raised."""
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for task in done:
        task.result()
