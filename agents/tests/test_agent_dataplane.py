from __future__ import annotations

import asyncio

import pytest
from edgeorch_agent.dataplane import (
    HEADER_SIZE,
    MAGIC,
    DataplaneServer,
    Frame,
    FrameError,
    Kind,
    encode_frame,
    ping,
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
