"""Shared by the execution tests: tiny ONNX models split by hand, a segment server, in-process executors."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from edgeorch_agent.dataplane import DataplaneServer
from edgeorch_agent.executor import Executor
from edgeorch_wire.protocol import Message
from onnx import TensorProto, helper, numpy_helper

CREDENTIAL = "dev-1.s3cret"
INPUT_SHAPE = [1, 3, 8, 8]
HIDDEN_SHAPE = [1, 4, 8, 8]
OUTPUT_SHAPE = [1, 10]


def _weights(seed: int, *shape: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32) * 0.3


def _conv_relu(
    name: str, source: str, target: str, channels_in: int, seed: int
) -> tuple[list[Any], list[Any]]:
    nodes = [
        helper.make_node("Conv", [source, f"{name}_w", f"{name}_b"], [f"{name}_c"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", [f"{name}_c"], [target]),
    ]
    inits = [
        numpy_helper.from_array(_weights(seed, 4, channels_in, 3, 3), f"{name}_w"),
        numpy_helper.from_array(_weights(seed + 1, 4), f"{name}_b"),
    ]
    return nodes, inits


def _head(source: str, target: str) -> tuple[list[Any], list[Any]]:
    nodes = [
        helper.make_node("Flatten", [source], ["flat"]),
        helper.make_node("Gemm", ["flat", "head_w", "head_b"], [target], transB=1),
    ]
    inits = [
        numpy_helper.from_array(_weights(7, 10, 256), "head_w"),
        numpy_helper.from_array(_weights(8, 10), "head_b"),
    ]
    return nodes, inits


def _tensor(name: str, shape: list[int]) -> Any:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def _model(
    parts: list[tuple[list[Any], list[Any]]], source: tuple[str, list[int]], target: tuple[str, list[int]]
) -> bytes:
    nodes = [n for part in parts for n in part[0]]
    inits = [i for part in parts for i in part[1]]
    graph = helper.make_graph(nodes, "g", [_tensor(*source)], [_tensor(*target)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


def conv_chain() -> dict[str, bytes]:
    """The whole model and its three segments: x -> [conv, relu] a -> [conv, relu] b -> [flatten, gemm] y."""
    first, second, head = _conv_relu("c1", "x", "a", 3, 1), _conv_relu("c2", "a", "b", 4, 3), _head("b", "y")
    return {
        "full": _model([first, second, head], ("x", INPUT_SHAPE), ("y", OUTPUT_SHAPE)),
        "s0": _model([first], ("x", INPUT_SHAPE), ("a", HIDDEN_SHAPE)),
        "s1": _model([second], ("a", HIDDEN_SHAPE), ("b", HIDDEN_SHAPE)),
        "s2": _model([head], ("b", HIDDEN_SHAPE), ("y", OUTPUT_SHAPE)),
    }


def failing_segment() -> bytes:
    """Loads fine, fails when run: it gathers index 100 from an axis of 4."""
    nodes = [helper.make_node("Gather", ["b", "idx"], ["y"], axis=1)]
    inits = [numpy_helper.from_array(np.array([100], dtype=np.int64), "idx")]
    return _model([(nodes, inits)], ("b", HIDDEN_SHAPE), ("y", [1, 1, 8, 8]))


def run_model(model: bytes, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def npy(array: np.ndarray) -> bytes:
    from io import BytesIO

    buffer = BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class FileServer:
    """Serves ``files`` by path on 127.0.0.1, only to ``Authorization: Device <credential>``."""

    files: dict[str, bytes] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)
    port: int = 0

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"


@contextmanager
def file_server(files: dict[str, bytes], credential: str = CREDENTIAL) -> Iterator[FileServer]:
    state = FileServer(dict(files))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
            state.hits.append(self.path)
            body = state.files.get(self.path.lstrip("/"))
            if self.headers.get("Authorization") != f"Device {credential}":
                self.send_error(403)
            elif body is None:
                self.send_error(404)
            else:
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Node:
    """One in-process agent: an executor, its data-plane listener, and what it sent the control plane."""

    executor: Executor
    server: DataplaneServer
    sent: list[tuple[Message, bytes | None]]
    port: int

    @property
    def device_id(self) -> str:
        return self.executor.device_id

    def hop(self, codec: str = "raw", **extra: Any) -> dict[str, Any]:
        return {"device_id": self.device_id, "host": "127.0.0.1", "port": self.port, "codec": codec, **extra}

    def of_type(self, kind: str) -> list[Message]:
        return [m for m, _ in self.sent if m.type == kind]

    async def wait_for(self, kind: str, count: int = 1, timeout: float = 10.0) -> list[Message]:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.of_type(kind)) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{self.device_id}: no {count} x {kind} in {timeout}s; sent {self.sent}")
            await asyncio.sleep(0.005)
        return self.of_type(kind)


@asynccontextmanager
async def node(device_id: str, cache: Path, **options: Any):
    sent: list[tuple[Message, bytes | None]] = []

    async def outbox(message: Message, binary: bytes | None = None) -> None:
        sent.append((message, binary))

    executor = Executor(device_id, CREDENTIAL, cache / device_id, outbox, **options)
    server = DataplaneServer(
        secrets=executor.secret_for, on_activation=executor.on_activation, on_done=executor.on_done
    )
    host, port = await server.start("127.0.0.1", 0)
    executor.address = (host, port)
    try:
        yield Node(executor, server, sent, port)
    finally:
        await server.close()
        await executor.close()


def stage(
    index: int,
    files: FileServer,
    name: str,
    inputs: tuple[str, list[int]],
    outputs: tuple[str, list[int]],
    next_hop: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "stage": index,
        "url": files.url(name),
        "sha256": sha(files.files[name]),
        "inputs": [{"name": inputs[0], "shape": inputs[1], "dtype": "float32"}],
        "outputs": [{"name": outputs[0], "shape": outputs[1], "dtype": "float32"}],
        "next": next_hop,
    }


def chain_stages(
    files: FileServer, hops: list[dict[str, Any] | None], last: str = "s2"
) -> list[dict[str, Any]]:
    """The three stages of ``conv_chain`` with the given next hops."""
    return [
        stage(0, files, "s0", ("x", INPUT_SHAPE), ("a", HIDDEN_SHAPE), hops[0]),
        stage(1, files, "s1", ("a", HIDDEN_SHAPE), ("b", HIDDEN_SHAPE), hops[1]),
        stage(
            2,
            files,
            last,
            ("b", HIDDEN_SHAPE),
            ("y", OUTPUT_SHAPE if last == "s2" else [1, 1, 8, 8]),
            hops[2],
        ),
    ]
