"""A tiny client for an agent's inference endpoint (any Open Inference Protocol v2 server, really): numpy in,
numpy out, binary tensors both ways, one kept-alive connection, no dependency beyond numpy.

    from edgeorch_agent.serving.client import Client

    with Client("http://127.0.0.1:8001") as client:
        logits = client.infer("digits-cnn", image, wait_s=30)["logits"]
"""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from .oip import DATATYPES, datatype_of


class EndpointError(Exception):
    """The endpoint refused the request: ``status`` (400, 404, 429, 503, 504, …), its reason, and for 429
    and 503 the seconds it asks to wait (``retry_after``)."""

    def __init__(self, status: int, message: str, retry_after: float | None = None):
        super().__init__(f"{status}: {message}")
        self.status, self.message, self.retry_after = status, message, retry_after


class Client:
    def __init__(self, url: str = "http://127.0.0.1:8001", timeout: float = 120.0):
        parts = urlsplit(url if "://" in url else f"http://{url}")
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    def infer(
        self,
        model: str,
        array: np.ndarray,
        *,
        version: str | None = None,
        input_name: str | None = None,
        **params,
    ) -> dict[str, np.ndarray]:
        """The model's outputs for one input (``params``: ``wait_s``, ``deadline_s``, ``priority``, …)."""
        array = np.ascontiguousarray(array)
        name = input_name or self.metadata(model, version)["inputs"][0]["name"]
        head = json.dumps(
            {
                "inputs": [
                    {
                        "name": name,
                        "shape": list(array.shape),
                        "datatype": datatype_of(str(array.dtype)),
                        "parameters": {"binary_data_size": array.nbytes},
                    }
                ],
                "parameters": {"binary_data_output": True, **params},
            }
        ).encode()
        headers = {
            "Inference-Header-Content-Length": str(len(head)),
            "Content-Type": "application/octet-stream",
        }
        status, answer, body = self._request(
            "POST", f"{_model_path(model, version)}/infer", head + array.tobytes(), headers
        )
        length = int(answer.get("inference-header-content-length") or len(body))
        response = json.loads(body[:length])
        outputs, offset = {}, length
        for output in response["outputs"]:
            dtype = np.dtype(DATATYPES[output["datatype"]])
            size = (output.get("parameters") or {}).get("binary_data_size")
            if size is None:
                outputs[output["name"]] = np.asarray(output["data"], dtype).reshape(output["shape"])
                continue
            outputs[output["name"]] = np.frombuffer(body[offset : offset + size], dtype).reshape(
                output["shape"]
            )
            offset += size
        return outputs

    def metadata(self, model: str, version: str | None = None) -> dict[str, Any]:
        return json.loads(self._request("GET", _model_path(model, version))[2])

    def ready(self, model: str, version: str | None = None) -> bool:
        try:
            self._request("GET", f"{_model_path(model, version)}/ready")
        except EndpointError:
            return False
        return True

    def live(self) -> bool:
        try:
            self._request("GET", "/v2/health/live")
        except (EndpointError, OSError):
            return False
        return True

    def _request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        for attempt in (0, 1):  # a kept-alive connection the server closed meanwhile: once more, anew
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self._conn.request(method, path, body, headers or {})
                response = self._conn.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if attempt:
                    raise
                continue
            answer = {k.lower(): v for k, v in response.getheaders()}
            if response.status != 200:
                try:
                    message = json.loads(data)["error"]
                except (ValueError, KeyError, TypeError):
                    message = data[:500].decode(errors="replace")
                retry = answer.get("retry-after")
                raise EndpointError(response.status, message, float(retry) if retry else None)
            return response.status, answer, data
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _model_path(model: str, version: str | None) -> str:
    return f"/v2/models/{model}" + (f"/versions/{version}" if version else "")
