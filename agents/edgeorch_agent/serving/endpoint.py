"""The agent's inference endpoint: the Open Inference Protocol v2 REST API (KServe / Triton) over the models
this agent serves at the source (``executor.served``).

    GET  /v2                                       server metadata (name, version, extensions)
    GET  /v2/health/live | /v2/health/ready        200 when live | when connected to the control plane
    GET  /v2/models/{name}[/versions/{v}]          model metadata: inputs and outputs (name, datatype, shape)
    GET  /v2/models/{name}[/versions/{v}]/ready    200 when a route is deployed, else 503
    POST /v2/models/{name}[/versions/{v}]/infer    JSON tensors or the binary tensor data extension
    POST /v2/sessions/{id}/frames                  (edgeorch) one frame for a stream session whose input is
                                                   ``pushed``: a .npy uint8 image, or a PNG/JPEG (OpenCV)
    POST /v2/sessions/{id}/end                     (edgeorch) no more frames: the session ends once they ran

Request parameters edgeorch reads: ``wait_s`` (wait this long for a route being deployed instead of a 503),
``deadline_s`` or Triton's ``timeout`` (microseconds; the request fails with 504 when no answer came by
then), ``priority`` and ``codec`` (recorded with the request's trace). Errors are ``{"error": "..."}`` with
400 (a malformed request, a wrong name, datatype or shape), 404 (no such model or version), 429 (the model's
queue is full; ``Retry-After``), 503 (no route yet; ``Retry-After``), 504 (no answer in time).
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import __version__
from ..executor.inputs import InputError, opencv
from ..executor.served import Served, ServeError, Serving, positive
from . import oip
from .http import Request, Response

SESSION_PATH = re.compile(r"^/v2/sessions/(?P<session>[^/]+)/(?P<action>frames|end)$")
MODEL_PATH = re.compile(
    r"^/v2/models/(?P<name>[^/]+)(?:/versions/(?P<version>[^/]+))?(?P<action>/ready|/infer)?$"
)


class Endpoint:
    def __init__(self, serving: Serving, ready: Callable[[], bool] = lambda: True):
        self.serving = serving
        self.ready = ready

    async def __call__(self, request: Request) -> Response:
        path = request.path.rstrip("/") or "/"
        if path == "/v2":
            return self._only(request, "GET") or Response.json(
                200, {"name": "edgeorch-agent", "version": __version__, "extensions": ["binary_tensor_data"]}
            )
        if path == "/v2/health/live":
            return self._only(request, "GET") or Response.json(200, {"live": True})
        if path == "/v2/health/ready":
            ready = self.ready()
            return self._only(request, "GET") or Response.json(200 if ready else 503, {"ready": ready})
        pushed = SESSION_PATH.match(path)
        if pushed is not None:
            return self._only(request, "POST") or await self._push(
                request, pushed["session"], pushed["action"]
            )
        match = MODEL_PATH.match(path)
        if match is None:
            return Response.error(404, f"no such endpoint: {request.method} {request.path}")
        name, version, action = match["name"], match["version"], match["action"]
        try:
            if action == "/infer":
                return self._only(request, "POST") or await self._infer(request, name, version)
            refusal = self._only(request, "GET")
            if refusal is not None:
                return refusal
            served = await self.serving.model(name, version)
            if action == "/ready":
                ready = served.state == "ready"
                return Response.json(200 if ready else 503, {"name": name, "ready": ready})
            return Response.json(200, _metadata(served))
        except ServeError as exc:
            return _error(exc)

    @staticmethod
    def _only(request: Request, method: str) -> Response | None:
        if request.method == method:
            return None
        return Response.error(405, f"{request.path} takes {method}, not {request.method}", Allow=method)

    async def _push(self, request: Request, session_id: str, action: str) -> Response:
        frames = self.serving.shared.pushed.get(session_id)
        if frames is None:
            return Response.error(404, f"no stream session {session_id!r} takes pushed frames on this device")
        if action == "end":
            await frames.close()
            return Response.json(200, {"session": session_id, "ended": True})
        try:
            await frames.push(_image(request))
        except InputError as exc:
            return Response.error(400, str(exc))
        return Response.json(202, {"session": session_id, "accepted": True})

    async def _infer(self, request: Request, name: str, version: str | None) -> Response:
        try:
            length = request.headers.get("inference-header-content-length")
            infer = oip.parse_request(request.body, int(length) if length is not None else None)
        except (oip.BadRequest, ValueError) as exc:
            return Response.error(400, str(exc))
        wait_s = positive(infer.parameters.get("wait_s"))
        served = await self.serving.model(name, version, wait_s)
        try:
            self.serving.require_ready(served)
            oip.check_inputs(served.inputs, infer.inputs)
            if len(infer.inputs) != 1:
                raise oip.BadRequest(f"{name} takes {len(infer.inputs)} inputs; the serving path feeds one")
            for output in infer.outputs or []:
                if output.get("name") not in {o["name"] for o in served.outputs}:
                    raise oip.BadRequest(f"{name} has no output {output.get('name')!r}")
        except oip.BadRequest as exc:
            return Response.error(400, str(exc))
        reply = await self.serving.infer(served, next(iter(infer.inputs.values())), infer.parameters)
        parameters = {
            "edgeorch_request_id": reply.request_id,
            "edgeorch_latency_s": round(reply.latency_s, 6),
        }
        body, header_length = oip.encode_response(name, reply.version, infer, reply.outputs, parameters)
        if header_length is None:
            return Response(200, body)
        return Response(
            200,
            body,
            "application/octet-stream",
            {"Inference-Header-Content-Length": str(header_length)},
        )


def _image(request: Request) -> np.ndarray:
    """The pushed frame: a .npy array, or an encoded image (PNG, JPEG, … through OpenCV)."""
    kind = request.headers.get("content-type", "application/x-npy").split(";")[0].strip().lower()
    if kind in ("application/x-npy", "application/octet-stream"):
        try:
            return np.load(io.BytesIO(request.body), allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise InputError(f"the body is not a .npy array: {exc}") from None
    if kind.startswith("image/"):
        cv2 = opencv()
        image = cv2.imdecode(np.frombuffer(request.body, np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            raise InputError(f"the body is not a decodable {kind}")
        return image
    raise InputError(f"send a frame as application/x-npy or image/*, not {kind}")


def _metadata(served: Served) -> dict[str, Any]:
    return {
        "name": served.name,
        "versions": [served.version] if served.version else [],
        "platform": "edgeorch_split_onnx",
        "inputs": oip.tensor_metadata(served.inputs),
        "outputs": oip.tensor_metadata(served.outputs),
        "parameters": {
            "state": served.state,
            **({"reason": served.reason} if served.reason else {}),
            "in_flight": served.running,
            "queued": served.waiting,
            "refused": served.refused,
            "served": served.sent,
        },
    }


def _error(exc: ServeError) -> Response:
    headers = {}
    if exc.retry_after is not None:
        headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
    return Response.error(exc.status, str(exc), **headers)
