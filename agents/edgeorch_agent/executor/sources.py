"""This agent as a request's source: a ``run`` (one request, its input downloaded or inline) and the entry
every request this agent starts takes: its deployment's first stage here, or its input encoded and sent to
the peer that runs that stage (a route's ``entry``). Streams start their frames the same way."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from io import BytesIO
from typing import Any

import numpy as np
from edgeorch_wire.codecs import CodecError, encode
from edgeorch_wire.frames import Activation
from edgeorch_wire.protocol import SOURCE_STAGE, Run
from edgeorch_wire.qos import DEFAULT_PRIORITY

from ..dataplane import AuthError, PeerUnreachable
from ..runtime import DeployError, Deployment, StageError, http_get, trace_entry
from .deployments import Deployer
from .routing import Router
from .state import Shared, Work


@dataclass
class Route:
    """Where a request (a run, a stream's next frame) enters: a deployment's first stage, here or (``entry``)
    on a peer."""

    deployment_id: str
    first_stage: int
    entry: dict[str, Any] | None = None
    switch_id: str | None = None


class Source:
    def __init__(self, shared: Shared, deployer: Deployer, router: Router):
        self.shared = shared
        self.deployer = deployer
        self.router = router

    async def run(self, message: Run, data: bytes | None = None) -> None:
        try:
            route = Route(message.deployment_id, message.first_stage, message.entry)
            await self.check_route(route)
            array = (
                _npy(data, "the inline input") if data is not None else await self.input(message.input_url)
            )
            # Sent to a peer, the input's hop is traced as a source entry (stage -1): its encoding and
            # transfer.
            await self.enter(route, message.request_id, None, array, trace=route.entry is not None)
        except (StageError, DeployError, CodecError, AuthError, PeerUnreachable) as exc:
            await self.router.fail(
                message.deployment_id, message.first_stage, message.request_id, None, None, str(exc)
            )

    async def input(self, url: str) -> np.ndarray:
        data = await asyncio.to_thread(http_get, url, self.shared.credential)
        return _npy(data, f"the input at {url}")

    async def check_route(self, route: Route) -> None:
        """A local first stage must be deployed here; a peer's needs its secret (its DONE frames use it)."""
        if route.entry is None:
            await self.deployer.require(route.deployment_id)
        else:
            self.shared.entry_secrets[route.deployment_id] = str(route.entry["secret"]).encode()

    async def enter(
        self,
        route: Route,
        request_id: int,
        session_id: str | None,
        array: np.ndarray,
        trace: bool = False,
        origin: dict[str, Any] | None = None,
        priority: int = DEFAULT_PRIORITY,
        deadline: float | None = None,
    ) -> None:
        """Start one request on its route: the local first stage, or the input sent to the peer holding it
        (``trace``: with a source entry timing that hop; ``origin``: where its end is told, by default this
        agent's data plane; ``priority`` and ``deadline``: its QoS, carried to every stage)."""
        origin = origin if origin is not None else self.shared.origin()
        if route.entry is None:
            deployment = self.shared.deployments.get(route.deployment_id)
            if deployment is None:
                raise StageError(f"deployment {route.deployment_id!r} is not deployed on this device")
            work = Work(
                request_id, session_id, {}, [], time.time(), origin, priority=priority, deadline=deadline
            )
            await self._start_chain(deployment, route.first_stage, work, array)
            return
        entry = route.entry
        started, encoding = time.time(), time.perf_counter()
        payload, params = encode(entry["codec"], array)
        hop = []
        if trace:
            hop = [trace_entry(SOURCE_STAGE, self.shared.device_id, 0.0, 0.0, started)]
            hop[0]["serialize_s"] = time.perf_counter() - encoding
            hop[0]["end"] = time.time()
        act = Activation(
            route.deployment_id,
            request_id,
            route.first_stage,
            entry["tensor"],
            str(array.dtype),
            array.shape,
            entry["codec"],
            payload,
            params,
            hop,
            session_id=session_id,
            origin=origin,
            priority=priority,
            deadline=deadline,
        )
        shaper = self.shared.links.for_peer(entry["device_id"], entry.get("name"))
        secret = self.shared.entry_secrets[route.deployment_id]
        await self.shared.pool.send(
            entry["host"], int(entry["port"]), route.deployment_id, secret, act, shaper
        )

    async def _start_chain(
        self,
        deployment: Deployment,
        first_stage: int,
        work: Work,
        array: np.ndarray,
    ) -> None:
        stage = deployment.stages.get(first_stage)
        queue = self.shared.queues.get((deployment.deployment_id, first_stage))
        if stage is None or queue is None:
            raise StageError(f"stage {first_stage} does not run on this device")
        if len(stage.spec.inputs) != 1:
            raise StageError(f"stage {first_stage} takes {len(stage.spec.inputs)} inputs; a .npy holds one")
        spec = stage.spec.inputs[0]
        spec.check(str(array.dtype), array.shape, f"stage {first_stage}")
        work.feeds = {spec.name: array}
        await queue.put(work)


def _npy(data: bytes, what: str) -> np.ndarray:
    try:
        return np.load(BytesIO(data), allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise StageError(f"{what} is not a .npy tensor: {exc}") from None
