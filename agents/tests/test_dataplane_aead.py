"""The data plane under attack: sealed frames (encrypted and authenticated) against tampering in flight,
and the listener's limits against stalled handshakes, truncated frames, large unauthenticated pings and
floods of idle connections. Real sockets and a real listener throughout (``DataplaneServer``)."""

from __future__ import annotations

import asyncio
import logging
import time

import numpy as np
import pytest
from edgeorch_agent import cli
from edgeorch_agent.config import AgentConfig, save_config
from edgeorch_agent.dataplane import (
    AuthError,
    DataplaneServer,
    PeerLink,
    handshake,
    open_stream,
    ping,
)
from edgeorch_agent.dataplane.seal import AEADS, RECORD_BYTES, preferred_aeads
from edgeorch_agent.dataplane.server import UNAUTHENTICATED_MAX_PAYLOAD
from edgeorch_wire.codecs import decode, encode
from edgeorch_wire.frames import (
    SEALED_FLAG,
    Activation,
    Frame,
    Kind,
    activation_header,
    encode_frame,
    read_frame,
)

SECRET = b"s3cret"


def activation(array: np.ndarray, codec: str = "raw", deployment_id: str = "dep-1") -> Activation:
    payload, params = encode(codec, array)
    return Activation(deployment_id, 7, 1, "t", str(array.dtype), array.shape, codec, payload, params)


async def until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def hung_up(reader: asyncio.StreamReader) -> bool:
    """Whether the listener hangs up on us soon (well before the 600 s idle timeout), reading whatever it
    sent before."""
    try:
        await asyncio.wait_for(reader.read(), 10)
    except TimeoutError:
        return False
    return True


class Listener:
    """A listener for deployment dep-1 that keeps what it accepts."""

    def __init__(self, **options):
        self.received: list[Activation] = []
        self.server = DataplaneServer(secrets={"dep-1": SECRET}.get, on_activation=self.accept, **options)

    async def accept(self, act: Activation) -> None:
        self.received.append(act)

    async def __aenter__(self) -> Listener:
        self.host, self.port = await self.server.start("127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc) -> None:
        await self.server.close()


# --- sealed frames ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("aead", list(AEADS), ids=[name for name, _ in AEADS.values()])
def test_tensors_cross_a_sealed_link_unchanged(aead):
    arrays = [
        np.arange(12, dtype=np.float32).reshape(3, 4),
        np.random.default_rng(0).standard_normal((1, 64, 56, 56)).astype(np.float32),  # 3.2 MB, 13 records
        np.random.default_rng(1).integers(0, 255, RECORD_BYTES, dtype=np.uint8),  # exactly one record
        np.zeros((0, 3), dtype=np.int64),  # no payload at all
    ]

    async def scenario():
        async with Listener() as listener:
            reader, writer = await open_stream(listener.host, listener.port, 5)
            channel = await handshake(reader, writer, "dep-1", SECRET, aeads=[aead])
            assert channel.sealed and channel.aead == AEADS[aead][0]
            link = PeerLink(channel, on_error=lambda request_id, message: None)
            for array in arrays:
                await link.send(activation(array))
            await link.send(activation(arrays[1], "fp16"))
            await until(lambda: len(listener.received) == len(arrays) + 1)
            await link.close()
            return listener.received

    received = asyncio.run(scenario())
    for array, act in zip(arrays, received, strict=False):
        back = decode(act.codec, act.payload, act.params, act.dtype, act.shape)
        assert back.dtype == array.dtype and np.array_equal(back, array)
    fp16 = received[-1]
    back = decode(fp16.codec, fp16.payload, fp16.params, fp16.dtype, fp16.shape)
    assert np.allclose(back, arrays[1], rtol=1e-3, atol=1e-3)


class TamperingProxy:
    """Forwards a connection both ways; once armed, flips one byte at ``offset`` of what the connector sends
    next (the sealed frames after the handshake)."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.offset: int | None = None
        self.flipped = asyncio.Event()

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        await asyncio.gather(
            self._pump(reader, up_writer, tamper=True),
            self._pump(up_reader, writer, tamper=False),
            return_exceptions=True,
        )

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, tamper: bool) -> None:
        position = 0  # bytes forwarded since the proxy was armed
        try:
            while chunk := await reader.read(65536):
                if tamper and self.offset is not None:
                    at = self.offset - position
                    if 0 <= at < len(chunk):
                        chunk = chunk[:at] + bytes([chunk[at] ^ 0x40]) + chunk[at + 1 :]
                        self.flipped.set()
                    position += len(chunk)
                writer.write(chunk)
                await writer.drain()
        finally:
            writer.close()


def _records(act: Activation) -> list[int]:
    """Where each sealed frame of ``act`` starts in the stream, and its plaintext length."""
    header = len(activation_header(act))
    payload = memoryview(act.payload).nbytes
    return [header] + [min(RECORD_BYTES, payload - start) for start in range(0, payload, RECORD_BYTES)]


TAMPERED = {
    # offset from the first sealed frame after the handshake, given the plaintext sizes of its records
    "the header record's ciphertext": lambda sizes: 16 + 3,
    "the header record's tag": lambda sizes: 16 + sizes[0] + 15,
    "a payload record's ciphertext": lambda sizes: (16 + sizes[0] + 16) + 16 + sizes[1] // 2,
    "a payload record's number (associated data)": lambda sizes: (16 + sizes[0] + 16) + 8,
    "the last record's tag": lambda sizes: sum(32 + s for s in sizes) - 1,
}


@pytest.mark.parametrize("aead", list(AEADS), ids=[name for name, _ in AEADS.values()])
@pytest.mark.parametrize("where", list(TAMPERED))
def test_a_byte_flipped_in_flight_is_detected_and_the_frame_refused(where, aead, caplog):
    array = np.random.default_rng(2).standard_normal((2, RECORD_BYTES // 4 + 10)).astype(np.float32)
    act = activation(array)

    async def scenario():
        async with Listener() as listener:
            proxy = TamperingProxy((listener.host, listener.port))
            reader, writer = await open_stream("127.0.0.1", await proxy.start(), 5)
            channel = await handshake(reader, writer, "dep-1", SECRET, aeads=[aead])
            link = PeerLink(channel, on_error=lambda request_id, message: None)
            proxy.offset = TAMPERED[where](_records(act))
            await link.send(act)
            await asyncio.wait_for(proxy.flipped.wait(), 5)
            await until(lambda: link.closed)  # the listener hung up on the tampered link
            tampered = list(listener.received)
            # The listener carries on: an honest link delivers the same tensor.
            honest = await PeerLink.open(listener.host, listener.port, "dep-1", SECRET)
            await honest.send(act)
            await until(lambda: len(listener.received) == 1)
            await honest.close()
            await link.close()
            proxy.server.close()
            return tampered, listener.received

    with caplog.at_level(logging.INFO, logger="edgeorch_agent.dataplane"):
        tampered, received = asyncio.run(scenario())
    assert tampered == []
    assert np.array_equal(decode("raw", received[0].payload, {}, "float32", array.shape), array)
    assert "failed authentication" in caplog.text


def test_a_listener_that_cannot_prove_the_secret_is_refused_by_the_connector():
    async def impostor(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        hello = await read_frame(reader)
        chosen = hello.extension[:1]
        writer.write(encode_frame(Frame(Kind.HELLO, 1, bytes(32), flags=SEALED_FLAG, extension=chosen)))
        auth = await read_frame(reader)
        writer.write(encode_frame(Frame(Kind.AUTH, auth.request_id, bytes(32))))  # "accepted", no proof
        await writer.drain()
        await reader.read()

    async def scenario():
        server = await asyncio.start_server(impostor, "127.0.0.1", 0)
        async with server:
            with pytest.raises(AuthError, match="did not prove"):
                await PeerLink.open("127.0.0.1", server.sockets[0].getsockname()[1], "dep-1", SECRET)

    asyncio.run(scenario())


def test_the_listener_chooses_the_aead_it_prefers_among_those_offered():
    async def scenario():
        async with Listener() as listener:
            chosen = []
            for offer in ([1, 2], [2, 1], [1], [2]):
                reader, writer = await open_stream(listener.host, listener.port, 5)
                chosen.append((await handshake(reader, writer, "dep-1", SECRET, aeads=offer)).aead)
                writer.close()
            reader, writer = await open_stream(listener.host, listener.port, 5)
            with pytest.raises(AuthError, match="no AEAD in common"):
                await handshake(reader, writer, "dep-1", SECRET, aeads=[99])
            return chosen

    fastest = AEADS[preferred_aeads()[0]][0]
    assert asyncio.run(scenario()) == [fastest, fastest, "ChaCha20-Poly1305", "AES-256-GCM"]


def test_a_listener_refuses_plain_connectors_unless_it_is_insecure_too():
    async def scenario():
        async with Listener() as secure:
            with pytest.raises(AuthError, match="--insecure-dataplane"):
                await PeerLink.open(secure.host, secure.port, "dep-1", SECRET, seal=False)
        async with Listener(insecure=True) as insecure:
            links = [
                await PeerLink.open(insecure.host, insecure.port, "dep-1", SECRET, seal=seal)
                for seal in (False, True)
            ]
            for link in links:
                await link.send(activation(np.ones(3, dtype=np.float32)))
            await until(lambda: len(insecure.received) == 2)
            assert [link.sealed for link in links] == [False, True]
            for link in links:
                await link.close()

    asyncio.run(scenario())


# --- limits ----------------------------------------------------------------------------------------------


def test_a_stalled_handshake_is_closed_within_its_timeout():
    async def scenario():
        async with Listener(handshake_timeout=0.3) as listener:
            silent = await open_stream(listener.host, listener.port, 5)
            halfway = await open_stream(listener.host, listener.port, 5)
            halfway[1].write(encode_frame(Frame(Kind.HELLO, 1, bytes(32), flags=SEALED_FLAG)))  # no AUTH
            pinging = await open_stream(listener.host, listener.port, 5)
            pinging[1].write(encode_frame(Frame(Kind.PING, 1)))  # a probe that never authenticates
            closed = await asyncio.gather(*(hung_up(r) for r, _ in (silent, halfway, pinging)))
            for _, writer in (silent, halfway, pinging):
                writer.close()
            # A peer that does authenticate is not cut off by the handshake deadline.
            link = await PeerLink.open(listener.host, listener.port, "dep-1", SECRET)
            await asyncio.sleep(0.6)
            await link.send(activation(np.ones(3, dtype=np.float32)))
            await until(lambda: len(listener.received) == 1)
            assert not link.closed
            await link.close()
            return closed

    assert asyncio.run(scenario()) == [True, True, True]


@pytest.mark.parametrize("seal", [True, False], ids=["sealed", "plain"])
def test_a_truncated_frame_is_dropped_after_the_body_timeout_not_the_idle_one(seal):
    async def scenario():
        async with Listener(insecure=True, body_timeout=0.2, idle_timeout=600) as listener:
            reader, writer = await open_stream(listener.host, listener.port, 5)
            channel = await handshake(reader, writer, "dep-1", SECRET, seal=seal)
            act = activation(np.ones(100_000, dtype=np.float32))  # declares 400 kB, sends 1 kB of it
            channel.write(activation_header(act))
            channel.write(memoryview(act.payload).cast("B")[:1000])
            await channel.drain()
            closed = await hung_up(reader)
            # Between frames a link is idle, not stalled: it stays open past the body timeout.
            idle = await PeerLink.open(listener.host, listener.port, "dep-1", SECRET, seal=seal)
            await asyncio.sleep(0.8)
            still_open = not idle.closed
            await idle.close()
            return closed, still_open, listener.received

    closed, still_open, received = asyncio.run(scenario())
    assert closed and still_open and received == []


def test_an_unauthenticated_ping_is_limited_to_a_small_payload():
    async def scenario():
        async with Listener() as listener:
            small = await ping(listener.host, listener.port, payload_bytes=64 * 1024)
            with pytest.raises(ConnectionError):
                await ping(listener.host, listener.port, payload_bytes=UNAUTHENTICATED_MAX_PAYLOAD + 1)
            # After authenticating, a peer may ping with what the listener accepts from it (a bandwidth
            # probe on its own link, or the benchmark's acknowledgement).
            reader, writer = await open_stream(listener.host, listener.port, 5)
            channel = await handshake(reader, writer, "dep-1", SECRET)
            channel.write(encode_frame(Frame(Kind.PING, 9, bytes(4 * 1024 * 1024))))
            await channel.drain()
            pong = await channel.read_frame(8 * 1024 * 1024)
            writer.close()
            return small, pong

    small, pong = asyncio.run(scenario())
    assert small > 0
    assert pong.kind == Kind.PONG and len(pong.payload) == 4 * 1024 * 1024
    assert UNAUTHENTICATED_MAX_PAYLOAD <= 1024 * 1024


async def open_from(address: str, listener: Listener) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection(listener.host, listener.port, local_addr=(address, 0))


def test_many_idle_connections_do_not_lock_out_a_real_peer():
    async def scenario():
        async with Listener(handshake_timeout=60) as listener:  # eviction, not the deadline, makes room
            working = await PeerLink.open(listener.host, listener.port, "dep-1", SECRET)
            idle = [await open_stream(listener.host, listener.port, 5) for _ in range(200)]
            newcomer = await PeerLink.open(listener.host, listener.port, "dep-1", SECRET)
            for link in (working, newcomer):
                await link.send(activation(np.ones(3, dtype=np.float32)))
            await until(lambda: len(listener.received) == 2)
            # The newcomer took the place of the oldest idle connection; 15 from this address are left.
            await until(lambda: sum(not reader.at_eof() for reader, _ in idle) == 15)
            for _, writer in idle:
                writer.close()
            await working.close()
            await newcomer.close()

    asyncio.run(scenario())


def test_one_address_flooding_crowds_out_only_itself():
    async def scenario():
        limits = {"max_unauthenticated_per_host": 4, "max_unauthenticated": 8, "handshake_timeout": 60}
        async with Listener(**limits) as listener:
            others = [await open_from("127.0.0.3", listener) for _ in range(3)]
            flood = [await open_from("127.0.0.2", listener) for _ in range(20)]
            await until(lambda: sum(not reader.at_eof() for reader, _ in flood) == 4)
            # The newest four of the flood are left, and every connection from the other address.
            assert [reader.at_eof() for reader, _ in flood] == [True] * 16 + [False] * 4
            assert not any(reader.at_eof() for reader, _ in others)
            for _, writer in flood + others:
                writer.close()

    asyncio.run(scenario())


def test_authenticated_connections_per_peer_and_deployment_are_capped():
    async def scenario():
        async with Listener(max_per_peer=2) as listener:
            links = [await PeerLink.open(listener.host, listener.port, "dep-1", SECRET) for _ in range(2)]
            with pytest.raises(AuthError, match="2 connections for deployment 'dep-1' already"):
                await PeerLink.open(listener.host, listener.port, "dep-1", SECRET)
            await links[0].close()
            await asyncio.sleep(0.05)
            again = await PeerLink.open(listener.host, listener.port, "dep-1", SECRET)
            for link in (links[1], again):
                await link.close()

    asyncio.run(scenario())


# --- the switch ------------------------------------------------------------------------------------------


def options_of_run(tmp_path, monkeypatch, *args: str):
    """The AgentOptions ``edgeorch-agent run`` would start its agent with."""
    save_config(AgentConfig("http://x", "ws://x/ws/agent/", "d", "n", "c"), tmp_path / "a.json")
    started = []

    class Agent:
        def __init__(self, config, sampler, options):
            started.append(options)

    async def no_run(agent):
        return 0

    monkeypatch.setattr(cli, "Agent", Agent)
    monkeypatch.setattr(cli, "_run_until_signalled", no_run)
    assert cli.main(["run", "--config", str(tmp_path / "a.json"), *args]) == 0
    return started[0]


def test_the_data_plane_is_encrypted_unless_the_switch_or_its_variable_says_otherwise(tmp_path, monkeypatch):
    monkeypatch.delenv(cli.INSECURE_DATAPLANE_ENV, raising=False)
    assert options_of_run(tmp_path, monkeypatch).insecure_dataplane is False
    assert options_of_run(tmp_path, monkeypatch, "--insecure-dataplane").insecure_dataplane is True
    monkeypatch.setenv(cli.INSECURE_DATAPLANE_ENV, "true")
    assert options_of_run(tmp_path, monkeypatch).insecure_dataplane is True
    monkeypatch.setenv(cli.INSECURE_DATAPLANE_ENV, "false")
    assert options_of_run(tmp_path, monkeypatch).insecure_dataplane is False
    monkeypatch.setenv(cli.INSECURE_DATAPLANE_ENV, "perhaps")
    with pytest.raises(SystemExit) as exit_info:
        options_of_run(tmp_path, monkeypatch)
    assert exit_info.value.code == 2
