from __future__ import annotations

import asyncio

import numpy as np
import pytest
from edgeorch_agent.dataplane import (
    AuthError,
    DataplaneServer,
    PeerLink,
    PeerPool,
    PeerUnreachable,
    Rejected,
    ping,
)
from edgeorch_wire.codecs import encode
from edgeorch_wire.frames import (
    HEADER_SIZE,
    MAGIC,
    Activation,
    Frame,
    FrameError,
    Kind,
    activation_bytes,
    activation_header,
    encode_frame,
    parse_activation,
    parse_frame,
    read_frame,
)


async def with_listener(test, **limits):
    server = DataplaneServer(**limits)
    host, port = await server.start("127.0.0.1", 0)
    try:
        return await test(host, port)
    finally:
        await server.close()


async def send_raw(host: str, port: int, data: bytes) -> bytes:
    """Send bytes, hang up, and return whatever came back before the listener closed the connection."""
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(data)
    writer.write_eof()
    await writer.drain()
    reply = await asyncio.wait_for(reader.read(), 2)
    writer.close()
    return reply


def test_the_header_is_sixteen_bytes_and_starts_with_the_magic():
    data = encode_frame(Frame(Kind.PING, request_id=7, payload=b"abc"))
    assert HEADER_SIZE == 16
    assert data[:4] == MAGIC
    assert len(data) == 16 + 3


def test_a_reader_skips_a_header_extension_it_does_not_need():
    async def scenario():
        reader = asyncio.StreamReader()
        reader.feed_data(encode_frame(Frame(Kind.PING, 1, b"payload", extension=b"dtype+shape")))
        return await read_frame(reader)

    frame = asyncio.run(scenario())
    assert frame.payload == b"payload" and frame.extension == b"dtype+shape"


def test_ping_measures_a_round_trip_with_a_payload():
    async def scenario(host, port):
        return [await ping(host, port, payload_bytes=size) for size in (0, 1, 64 * 1024)]

    for rtt in asyncio.run(with_listener(scenario)):
        assert 0 < rtt < 2


def test_an_oversized_frame_is_refused_by_closing_and_the_listener_keeps_serving():
    async def scenario(host, port):
        oversized = encode_frame(Frame(Kind.PING, 1))[:12] + (1025).to_bytes(4, "big")
        assert await send_raw(host, port, oversized) == b""
        with pytest.raises(ConnectionError):
            await ping(host, port, payload_bytes=2048)
        return await ping(host, port, payload_bytes=1024)

    assert asyncio.run(with_listener(scenario, max_payload=1024)) > 0


def test_garbage_and_unknown_kinds_are_refused_and_the_listener_keeps_serving():
    async def scenario(host, port):
        assert await send_raw(host, port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") == b""
        assert await send_raw(host, port, encode_frame(Frame(kind=99, request_id=1))) == b""
        assert await send_raw(host, port, b"EOD1\x00\x02" + bytes(10)) == b""  # header_len 2 < 16
        assert await send_raw(host, port, b"EOD1") == b""  # truncated, then the peer hangs up
        return await ping(host, port)

    assert asyncio.run(with_listener(scenario)) > 0


def test_a_reply_that_does_not_match_the_request_is_an_error():
    async def wrong_id(reader, writer):
        request = await read_frame(reader)
        writer.write(encode_frame(Frame(Kind.PONG, request.request_id + 1)))
        await writer.drain()
        writer.close()

    async def scenario():
        server = await asyncio.start_server(wrong_id, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            with pytest.raises(FrameError):
                await ping("127.0.0.1", port)
        finally:
            server.close()

    asyncio.run(scenario())


# --- authentication and activations ----------------------------------------------------------------------


async def until(condition, timeout: float = 2.0) -> None:
    for _ in range(int(timeout / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)


def activation(shape=(1, 4), stage=1, deployment_id="dep-1", dtype="float32") -> Activation:
    array = np.arange(int(np.prod(shape)), dtype=dtype).reshape(shape)
    payload, params = encode("raw", array)
    trace = [{"stage": 0, "device": "a", "transfer_s": 0.0}]
    return Activation(
        deployment_id, 2**40 + 5, stage, "t", dtype, tuple(shape), "raw", payload, params, trace
    )


def test_an_activation_header_round_trips_with_a_64_bit_request_id_and_its_trace():
    act = activation(shape=(2, 3, 4))
    act.session_id, act.origin, act.sent = "s-1", {"device_id": "a", "host": "h", "port": 1}, 12.5
    back = parse_activation(parse_frame(activation_bytes(act)))
    assert back.request_id == 2**40 + 5 and back.shape == (2, 3, 4) and back.trace == act.trace
    assert (back.session_id, back.origin, back.sent, back.relayed) == ("s-1", act.origin, 12.5, False)
    assert bytes(back.payload) == bytes(act.payload)


def test_a_truncated_or_garbled_activation_header_is_a_frame_error():
    data = activation_bytes(activation())
    with pytest.raises(FrameError):
        parse_frame(data[:-1])
    with pytest.raises(FrameError):
        parse_activation(Frame(Kind.ACTIVATION, 1, b"", extension=b"\x01\x00"))


async def with_receiver(test, secret=b"s3cret"):
    """A listener that knows deployment dep-1 and expects a float32[1, 4] tensor ``t`` for stage 1."""
    received: list[Activation] = []

    async def on_activation(act: Activation) -> None:
        if act.shape != (1, 4):
            raise Rejected(f"expected float32[1, 4], received {act.dtype}{list(act.shape)}")
        received.append(act)

    server = DataplaneServer(
        secrets={"dep-1": secret}.get, on_activation=on_activation, max_payload=1024 * 1024
    )
    host, port = await server.start("127.0.0.1", 0)
    try:
        return await test(host, port, received)
    finally:
        await server.close()


def test_an_authenticated_peer_delivers_activations_and_gets_errors_back_for_refused_ones():
    async def scenario(host, port, received):
        errors: list[tuple[int, str]] = []
        link = await PeerLink.open(
            host, port, "dep-1", b"s3cret", on_error=lambda r, m: errors.append((r, m))
        )
        await link.send(activation())
        await link.send(activation(shape=(1, 5)))
        await link.send(activation())  # the connection survives a refused frame
        await until(lambda: len(received) == 2 and errors)
        await link.close()
        return received, errors

    received, errors = asyncio.run(with_receiver(scenario))
    assert len(received) == 2 and received[0].sent is not None
    assert errors == [((2**40 + 5) & 0xFFFFFFFF, "expected float32[1, 4], received float32[1, 5]")]


def test_a_peer_without_the_deployment_secret_is_refused_and_the_listener_keeps_serving():
    async def scenario(host, port, received):
        with pytest.raises(AuthError, match="authentication failed for deployment 'dep-1'"):
            await PeerLink.open(host, port, "dep-1", b"guess")
        with pytest.raises(AuthError, match="unknown deployment 'dep-2'"):
            await PeerLink.open(host, port, "dep-2", b"s3cret")
        return await ping(host, port)

    assert asyncio.run(with_receiver(scenario)) > 0


def test_an_activation_before_authentication_is_refused_with_an_error_and_a_close():
    async def scenario(host, port, received):
        act = activation()
        reply = await send_raw(host, port, activation_header(act) + bytes(act.payload))
        return reply, received

    reply, received = asyncio.run(with_receiver(scenario))
    assert not received
    assert reply[6] == Kind.ERROR and b"authenticate" in reply


def test_a_link_authenticated_for_one_deployment_cannot_feed_another():
    async def scenario(host, port, received):
        errors: list[tuple[int, str]] = []
        link = await PeerLink.open(
            host, port, "dep-1", b"s3cret", on_error=lambda r, m: errors.append((r, m))
        )
        await link.send(activation(deployment_id="dep-2"))
        await until(lambda: errors)
        await link.close()
        return errors

    (error,) = asyncio.run(with_receiver(scenario))
    assert "not 'dep-2'" in error[1]


def test_the_pool_reconnects_once_after_the_peer_restarts_and_reports_an_unreachable_peer():
    async def scenario():
        pool = PeerPool(connect_timeout=1.0)
        received: list[Activation] = []

        async def on_activation(act: Activation) -> None:
            received.append(act)

        server = DataplaneServer(secrets={"dep-1": b"k"}.get, on_activation=on_activation)
        host, port = await server.start("127.0.0.1", 0)
        await pool.send(host, port, "dep-1", b"k", activation())
        await until(lambda: len(received) == 1)
        await server.close()
        server = DataplaneServer(secrets={"dep-1": b"k"}.get, on_activation=on_activation)
        await server.start(host, port)
        await asyncio.sleep(0.05)  # the old link sees its EOF
        await pool.send(host, port, "dep-1", b"k", activation())
        await until(lambda: len(received) == 2)
        await server.close()
        with pytest.raises(PeerUnreachable):
            await pool.send(host, port, "dep-1", b"k", activation())
        await pool.close()
        return received

    assert len(asyncio.run(scenario())) == 2
