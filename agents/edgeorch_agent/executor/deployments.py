"""This agent's deployments: built from a ``deploy`` (segments fetched, checked against an emulated device's
units and memory), their stage workers started, and removed again (``undeploy``, a redeploy, closing)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from edgeorch_wire.profiles import ProfileError
from edgeorch_wire.protocol import Deploy, DeployStatus, Undeploy

from ..runtime import DeployError, Deployment, StageError
from .stages import Pipeline
from .state import Shared


class Deployer:
    def __init__(self, shared: Shared, pipeline: Pipeline, threads: int | None, compute_scale: float):
        self.shared = shared
        self.pipeline = pipeline
        self.threads = threads
        self.compute_scale = compute_scale
        self.workers: dict[str, list[asyncio.Task[None]]] = {}
        self.pending: dict[str, asyncio.Task[None]] = {}  # deploys under way, awaited by requests for them

    def started(self, deployment_id: str, task: asyncio.Task[None]) -> None:
        """``task`` deploys ``deployment_id``: a request for it waits for that (``get``)."""
        self.pending[deployment_id] = task

    async def deploy(self, message: Deploy) -> None:
        started = time.perf_counter()
        try:
            self._check_units(message.stages)
            deployment = await Deployment.build(
                message.deployment_id,
                message.secret,
                message.stages,
                self.shared.cache,
                message.threads or self.threads,
                self.compute_scale,
            )
            self._check_memory(deployment)
        except DeployError as exc:
            elapsed = time.perf_counter() - started
            await self.shared.outbox(DeployStatus(message.deployment_id, False, str(exc), elapsed), None)
            return
        finally:
            self.pending.pop(message.deployment_id, None)
        await self.remove(message.deployment_id)  # a redeploy replaces the old stages
        self.shared.deployments[deployment.deployment_id] = deployment
        self.workers[deployment.deployment_id] = self.pipeline.start(deployment)
        await self.shared.outbox(DeployStatus(message.deployment_id, True, None, deployment.load_s), None)

    def _check_units(self, stages: list[dict[str, Any]]) -> None:
        device = self.shared.device
        if device is None:
            return  # the host runs every stage where onnxruntime puts it; a unit is an emulated notion
        for stage in stages:
            if stage.get("unit") is not None:
                try:
                    device.profile.unit(str(stage["unit"]))
                except ProfileError as exc:
                    raise DeployError(f"stage {stage.get('stage')!r}: {exc}") from None

    def _check_memory(self, deployment: Deployment) -> None:
        """An emulated device refuses segments beyond its memory (their weights at least must fit)."""
        device = self.shared.device
        limit = device.profile.memory_limit_bytes if device is not None else None
        if device is None or limit is None:
            return
        others = [d for d in self.shared.deployments.values() if d.deployment_id != deployment.deployment_id]
        needed = sum(self._segment_bytes(d) for d in [deployment, *others])
        if needed > limit:
            deployment.close()
            raise DeployError(
                f"the segments need {needed} bytes with the other deployments here; "
                f"this {device.profile.name} has {limit}"
            )

    def _segment_bytes(self, deployment: Deployment) -> int:
        directory = self.shared.cache.directory
        paths = (directory / f"{s.spec.sha256.lower()}.onnx" for s in deployment.stages.values())
        return sum(p.stat().st_size for p in paths if p.exists())

    async def undeploy(self, message: Undeploy) -> None:
        await self.remove(message.deployment_id)

    async def remove(self, deployment_id: str) -> None:
        deployment = self.shared.deployments.pop(deployment_id, None)
        if deployment is None:
            return
        for owner, emitter in list(self.shared.emitters.values()):
            if owner == deployment_id:
                emitter.cancel()
        workers = self.workers.pop(deployment_id, [])
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        for key in [k for k in self.shared.queues if k[0] == deployment_id]:
            del self.shared.queues[key]
        await self.shared.pool.close(deployment_id)
        deployment.close()

    async def close(self) -> None:
        for deployment_id in list(self.shared.deployments):
            await self.remove(deployment_id)

    async def get(self, deployment_id: str) -> Deployment | None:
        pending = self.pending.get(deployment_id)
        if pending is not None:
            await asyncio.wait({pending})  # a run sent right after its deploy waits for it
        return self.shared.deployments.get(deployment_id)

    async def require(self, deployment_id: str) -> Deployment:
        deployment = await self.get(deployment_id)
        if deployment is None:
            raise StageError(f"deployment {deployment_id!r} is not deployed on this device")
        return deployment
