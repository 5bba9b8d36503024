"""The inference endpoint's protocol layer (OIP v2 bodies, binary extension) and its HTTP server, over real
sockets."""

from __future__ import annotations

import asyncio
import json

import numpy as np
import pytest
from edgeorch_agent.serving import oip
from edgeorch_agent.serving.http import HttpServer, Request, Response


def _binary_body(x: np.ndarray) -> tuple[bytes, int]:
    head = json.dumps(
        {
            "inputs": [
                {
                    "name": "input",
                    "shape": list(x.shape),
                    "datatype": "FP32",
                    "parameters": {"binary_data_size": x.nbytes},
                }
            ],
            "outputs": [{"name": "logits", "parameters": {"binary_data": True}}],
        }
    ).encode()
    return head + x.tobytes(), len(head)


def test_a_binary_request_and_response_round_trip():
    x = np.arange(64, dtype=np.float32).reshape(1, 1, 8, 8)
    body, length = _binary_body(x)
    request = oip.parse_request(body, length)
    assert np.array_equal(request.inputs["input"], x)
    logits = np.linspace(0, 1, 10, dtype=np.float32).reshape(1, 10)
    out, head_len = oip.encode_response("m", "1", request, {"logits": logits}, {})
    assert head_len is not None
    head = json.loads(out[:head_len])
    assert head["outputs"][0]["parameters"]["binary_data_size"] == logits.nbytes
    assert np.array_equal(np.frombuffer(out[head_len:], np.float32).reshape(1, 10), logits)


def test_json_tensors_round_trip():
    body = json.dumps(
        {"id": "r1", "inputs": [{"name": "x", "shape": [2, 2], "datatype": "INT64", "data": [1, 2, 3, 4]}]}
    )
    request = oip.parse_request(body.encode(), None)
    assert request.inputs["x"].dtype == np.int64 and request.inputs["x"].tolist() == [[1, 2], [3, 4]]
    out, head_len = oip.encode_response("m", "1", request, {"y": np.array([[0.5]], np.float32)}, {})
    assert head_len is None
    answer = json.loads(out)
    assert answer["id"] == "r1" and answer["outputs"][0] == {
        "name": "y",
        "datatype": "FP32",
        "shape": [1, 1],
        "data": [0.5],
    }


@pytest.mark.parametrize(
    ("body", "length", "reason"),
    [
        (b"not json", None, "not JSON"),
        (b'{"inputs": []}', None, "non-empty 'inputs'"),
        (
            b'{"inputs": [{"name": "x", "shape": [2], "datatype": "FP32", "data": [1]}]}',
            None,
            "1 values for shape [2]",
        ),
        (
            b'{"inputs": [{"name": "x", "shape": [1], "datatype": "FLOAT", "data": [1]}]}',
            None,
            "datatype 'FLOAT'",
        ),
        (
            b'{"inputs": [{"name": "x", "shape": [-1], "datatype": "FP32", "data": [1]}]}',
            None,
            "non-negative",
        ),
        (
            b'{"inputs": [{"name": "x", "shape": [2], "datatype": "FP32", '
            b'"parameters": {"binary_data_size": 8}}]}',
            None,
            "ends before",
        ),
        (
            b'{"inputs": [{"name": "x", "shape": [1], "datatype": "FP32", "data": [1]}]}xxxx',
            74,
            "no input declares",
        ),
        (b"{}", 99, "exceeds the body"),
    ],
)
def test_malformed_requests_say_what_is_wrong(body, length, reason):
    with pytest.raises(oip.BadRequest, match=reason.replace("[", r"\[").replace("]", r"\]")):
        oip.parse_request(body, length)


def test_inputs_are_checked_against_the_model():
    specs = [{"name": "input", "dtype": "float32", "shape": ["batch", 1, 8, 8]}]
    oip.check_inputs(specs, {"input": np.zeros((3, 1, 8, 8), np.float32)})  # a symbolic batch takes any size
    with pytest.raises(oip.BadRequest, match=r"shape \[-1, 1, 8, 8\]"):
        oip.check_inputs(specs, {"input": np.zeros((1, 8, 8), np.float32)})
    with pytest.raises(oip.BadRequest, match="must be FP32, got INT32"):
        oip.check_inputs(specs, {"input": np.zeros((1, 1, 8, 8), np.int32)})
    with pytest.raises(oip.BadRequest, match="takes inputs"):
        oip.check_inputs(specs, {"image": np.zeros((1, 1, 8, 8), np.float32)})
    assert oip.tensor_metadata(specs) == [{"name": "input", "datatype": "FP32", "shape": [-1, 1, 8, 8]}]


async def _echo(request: Request) -> Response:
    return Response.json(200, {"method": request.method, "path": request.path, "bytes": len(request.body)})


async def _exchange(port: int, *raw: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for chunk in raw:
        writer.write(chunk)
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), 5)  # to EOF: every answer sent is followed by a close
    writer.close()
    return data


def test_the_http_server_keeps_connections_and_refuses_what_it_cannot_take():
    async def scenario():
        server = HttpServer(_echo, max_body=100)
        _, port = await server.start("127.0.0.1", 0)
        try:
            # Two pipelined requests on one connection, answered in order; the second closes it.
            data = await _exchange(
                port,
                b"POST /v2/a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
                b"GET /v2/b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            )
            assert data.count(b"HTTP/1.1 200 OK") == 2
            assert data.index(b'"path":"/v2/a"') < data.index(b'"path":"/v2/b"') and b'"bytes":3' in data
            too_big = await _exchange(port, b"POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n")
            assert too_big.startswith(b"HTTP/1.1 413") and b"exceeds" in too_big
            chunked = await _exchange(port, b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
            assert chunked.startswith(b"HTTP/1.1 411")
            garbage = await _exchange(port, b"HELLO\r\n\r\n")
            assert garbage.startswith(b"HTTP/1.1 400")
            # The server carries on after refusing.
            again = await _exchange(port, b"GET /v2 HTTP/1.1\r\nConnection: close\r\n\r\n")
            assert again.startswith(b"HTTP/1.1 200")
        finally:
            await server.close()

    asyncio.run(scenario())
