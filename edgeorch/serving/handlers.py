"""The serving messages an agent sends over its websocket (docs/protocol.md, "Serving")."""

from __future__ import annotations

from edgeorch_wire import protocol as p

from edgeorch.gateway.registry import handles

from . import services


@handles(p.ServeRequest)
def serve_request(device_pk, message: p.ServeRequest) -> p.ServeStatus:
    return services.request_serving(device_pk, message)
