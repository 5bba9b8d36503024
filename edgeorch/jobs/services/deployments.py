"""Deployments: a plan's segments loaded on its devices, shared by every run of the same placement.
Verbs: ``candidate_devices``, ``live_deployments``, ``find_deployment``, ``ensure_deployment``,
``create_deployment``, ``record_deploy_status`` (which starts the runs waiting once every device is ready).
"""

from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from edgeorch_wire import protocol as p

from edgeorch.catalog import services as catalog
from edgeorch.catalog.models import MLModel
from edgeorch.devices.choices import DeviceStatus
from edgeorch.devices.models import Device
from edgeorch.plans import cache as plan_cache

from .. import agents
from ..choices import DeploymentState, RunState
from ..models import Deployment, Job, Session
from .commands import start
from .lifecycle import fail
from .transactions import lock_run, run_transaction


def candidate_devices(run) -> dict[str, Device]:
    """The devices a run may use, read fresh (every device when none were named), and its source."""
    devices = plan_cache.with_fleet_version(Device.objects.exclude(status=DeviceStatus.REVOKED))
    if run.candidates:
        devices = devices.filter(pk__in=run.candidates)
    return {str(run.source.pk): run.source, **{str(d.pk): d for d in devices}}


def planning_devices(run, devices: dict[str, Device] | None = None) -> list[Device]:
    """The devices a run is planned over: its candidates (all, when none were named) and its source."""
    devices = candidate_devices(run) if devices is None else devices
    return [d for pk, d in devices.items() if not run.candidates or pk in run.candidates]


def cuts_of(plan: dict) -> list[int]:
    """Cut indices between the plan's stages: stage k ends at block ``last_block``, i.e. before cut
    ``last_block`` (block i lies between cut i-1 and cut i)."""
    return [stage["last_block"] for stage in plan["stages"][:-1]]


def _placement(run, plan: dict, devices: dict[str, Device]) -> tuple[str, dict[str, Device]]:
    """The deployment key of this placement, and its devices (all of them connected)."""
    used = {pk: devices.get(pk) for pk in _used(run, plan)}
    offline = [
        d.name if d else pk
        for pk, d in used.items()
        if d is None or d.status != DeviceStatus.ONLINE or not d.channel_name
    ]
    if offline:
        raise agents.AgentUnavailable(f"{', '.join(offline)} not connected")
    connected = {pk: d for pk, d in used.items() if d is not None}
    placement = [(s["device"], connected[s["device"]].dataplane_port) for s in plan["stages"]]
    model = model_of(run, plan).pk
    parts: list = [model, cuts_of(plan), placement, run.codec]
    if arms_of(run, plan):  # ans: every arm's segments, and the edge they go to
        parts.append([(a["cut"], a["edge"], connected[a["edge"]].dataplane_port) for a in plan["arms"]])
    key = hashlib.sha256(json.dumps(parts).encode()).hexdigest()
    return key, connected


def arms_of(run, plan: dict) -> list[dict]:
    """An ``ans`` session's arms, each deployed ([] for other runs: a one-shot job runs the plan's own arm,
    so it deploys that alone)."""
    return list(plan.get("arms") or ()) if isinstance(run, Session) else []


def _used(run, plan: dict) -> list[str]:
    """The devices a plan's deployment loads segments on: its stages', and an ``ans`` session's edge and,
    when an arm runs blocks there, its source (the plan's own arm may be the edge alone: cut 0)."""
    arms = arms_of(run, plan)
    source = [str(run.source_id)] if any(int(a["cut"]) > 0 for a in arms) else []
    edges = [a["edge"] for a in arms]
    return list(dict.fromkeys([*(s["device"] for s in plan["stages"]), *source, *edges]))


def model_of(run, plan: dict):
    """The model ``plan`` runs: the run's own, or the variant a failover fell back to (``plan["model"]``)."""
    planned = (plan.get("model") or {}).get("id")
    if planned is None or planned == run.model_id:
        return run.model
    return MLModel.all_objects.get(pk=planned)


def live_deployments(run, plan: dict, devices: dict[str, Device]):
    """The ready or deploying deployments of this placement, newest first (raises ``AgentUnavailable`` when
    one of its devices is not connected)."""
    key, _ = _placement(run, plan, devices)
    live = (DeploymentState.READY, DeploymentState.DEPLOYING)
    return Deployment.objects.filter(key=key, state__in=live).order_by("-created_at")


def find_deployment(run, plan: dict, devices: dict[str, Device]) -> Deployment | None:
    """A ready or deploying deployment of this placement whose devices are all online, if there is one."""
    return live_deployments(run, plan, devices).first()


def ensure_deployment(run, plan: dict, devices: dict[str, Device] | None = None) -> Deployment:
    """``find_deployment``, else a new deployment (whose ``deploy`` messages go out after commit)."""
    devices = candidate_devices(run) if devices is None else devices
    return find_deployment(run, plan, devices) or create_deployment(run, plan, devices)


def create_deployment(run, plan: dict, devices: dict[str, Device]) -> Deployment:
    """A new deployment of the plan's segments; each device is sent its stages after commit."""
    key, used = _placement(run, plan, devices)
    cuts, model = cuts_of(plan), model_of(run, plan)
    if arms_of(run, plan):
        stages, arms = _arm_stages(run, plan, model, used)
    else:
        stages, arms = _stage_messages(run, plan, catalog.get_segments(model, cuts), used), []
    order = list(dict.fromkeys(s["device"] for s in stages))
    with run_transaction():
        deployment = Deployment.objects.create(
            key=key, model=model, cuts=",".join(map(str, cuts)), stages=stages, devices=order, arms=arms
        )
        for device_id in order:
            mine = [{k: v for k, v in s.items() if k != "device"} for s in stages if s["device"] == device_id]
            deploy = p.Deploy(str(deployment.pk), deployment.secret, mine, settings.JOB_AGENT_THREADS or None)
            agents.send_on_commit(used[device_id], deploy)
    return deployment


def _stage_messages(run, plan, segments, devices, first: int = 0) -> list[dict]:
    """The ``deploy`` stages of one chain of ``segments`` on the plan's stage devices, numbered from
    ``first`` (each stage's output goes to the next one)."""
    stages = []
    for k, (stage, segment) in enumerate(zip(plan["stages"], segments, strict=True)):
        following = plan["stages"][k + 1]["device"] if k + 1 < len(plan["stages"]) else None
        hop: dict | None = None
        if following is not None:
            peer = devices[following]
            hop = {
                "device_id": following,
                "host": peer.dataplane_host or "127.0.0.1",
                "port": peer.dataplane_port or 0,
                "codec": run.codec,
            }
            if first:  # a later chain of an ans deployment: name the stage its output goes to
                hop["stage"] = first + k + 1
        url = run.base_url.rstrip("/") + reverse("catalog-segment-file", args=[segment.sha256])
        stages.append(
            {
                "stage": first + k,
                "device": stage["device"],
                "url": url,
                "sha256": segment.sha256,
                "inputs": segment.inputs,
                "outputs": segment.outputs,
                "next": hop,
            }
        )
    return stages


def _arm_stages(run, plan: dict, model, devices) -> tuple[list[dict], list[dict]]:
    """An ``ans`` plan's deployment: one chain per arm (cut p: blocks [0, p) on the source, [p, n) on the
    edge; p = 0 the edge alone, p = n the source alone), the plan's own arm first so that stage 0 is where
    its frames enter, so that the source switches between arms per frame without a deploy. Returns the
    stages and the arms ({cut, edge, first_stage})."""
    source, n = str(run.source_id), len(model.blocks)
    arms = sorted(plan["arms"], key=lambda a: a["cut"] != _plan_cut(plan, source, n))
    stages: list[dict] = []
    out = []
    for arm in arms:
        p = int(arm["cut"])
        chain = [{"device": source}] * (p > 0) + [{"device": arm["edge"]}] * (p < n)
        segments = catalog.get_segments(model, [p - 1] if 0 < p < n else [])
        out.append({"cut": p, "edge": arm["edge"], "first_stage": len(stages)})
        stages += _stage_messages(run, {"stages": chain}, segments, devices, first=len(stages))
    return stages, out


def _plan_cut(plan: dict, source: str, n: int) -> int:
    """The cut of a one- or two-stage source/edge plan: the blocks its source stage runs."""
    first = plan["stages"][0]
    return first["last_block"] + 1 if first["device"] == source else 0


def record_deploy_status(device_id, message: p.DeployStatus) -> None:
    """A device loaded (or failed to load) its stages; when every device is ready, start the waiting runs."""
    with run_transaction():
        deployment = (
            Deployment.objects.select_for_update(of=("self",)).filter(pk=message.deployment_id).first()
        )
        if deployment is None or deployment.state != DeploymentState.DEPLOYING:
            return
        device_id = str(device_id)
        if not message.ok:
            deployment.state, deployment.error = DeploymentState.FAILED, message.error or "deploy failed"
            deployment.save(update_fields=["state", "error"])
            stage = deployment.stage_of(device_id)
            for kind, pk in _waiting(deployment):
                fail(kind, pk, f"deploy failed on stage {stage}: {deployment.error}", stage=stage)
            return
        deployment.ready_devices = sorted({*deployment.ready_devices, device_id})
        deployment.load_s = {**deployment.load_s, device_id: message.load_s}
        fields = ["ready_devices", "load_s"]
        if set(deployment.ready_devices) >= set(deployment.devices):
            deployment.state, deployment.ready_at = DeploymentState.READY, timezone.now()
            fields += ["state", "ready_at"]
        deployment.save(update_fields=fields)
        if deployment.state == DeploymentState.READY:
            for kind, pk in _waiting(deployment):
                run = lock_run(kind, pk)
                if run is not None and run.state == RunState.DEPLOYING:
                    run.save(update_fields=start(run, deployment))


def _waiting(deployment):
    for kind in (Job, Session):
        for pk in kind.objects.filter(deployment=deployment, state=RunState.DEPLOYING).values_list(
            "pk", flat=True
        ):
            yield kind, pk
