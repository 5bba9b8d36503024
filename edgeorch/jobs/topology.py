"""A run's topology, as the topology page draws it (``run_topology``): the devices of its current plan with
the stages (blocks) each runs, the hops a frame takes between them with the bytes each carries and the
latest measured bandwidth and RTT of that link (``plans`` link samples, from the agents' probes), each
stage's measured times over the most recent frames' traces, and the slow stage: the one whose median
measured time (queue + compute + serialize + transfer) is the largest.

A frame's path: the source captures it, sends it to the first stage's device (the input hop, stage -1 in a
trace), each stage hands its output to the next stage's device, and the last sends the result back to the
source (the result device).

A deployment's topology (``deployment_topology``) is the same view of the segments it placed, shared by the
runs on it: the path of its newest run (its source and plan), the stages timed over the newest answered
frames and finished jobs of all its runs, and those runs listed.
"""

from __future__ import annotations

import statistics
from typing import Any

from edgeorch_wire.protocol import SOURCE_STAGE

from edgeorch.devices.models import Device
from edgeorch.plans import measurements as links

from . import stats
from .models import Deployment, Frame, Job, Run, Session

DEFAULT_FRAMES = 20  # the recent frames a session's measured stage times come from
MAX_FRAMES = 500
MAX_RUNS = 20  # the runs on a deployment its topology lists, newest first


def session_topology(session: Session, frames: int = DEFAULT_FRAMES) -> dict:
    """The topology of a session, its stages timed over its ``frames`` newest answered frames whose
    route is the current plan's (after a plan switch, the frames of the old route do not count)."""
    rows = session.frame_records.filter(ok=True).order_by("-request_id").values_list("trace", flat=True)
    route = [s["device"] for s in (session.plan or {}).get("stages", [])]
    traces = [t for t in rows[: frames * 4] if _route(t) == route][:frames]
    return run_topology(session, traces)


def job_topology(job: Job) -> dict:
    """The topology of a job: its one trace, where it has finished."""
    return run_topology(job, [job.trace] if job.trace else [])


def deployment_topology(deployment: Deployment, frames: int = DEFAULT_FRAMES) -> dict:
    """The topology of a deployment: the runs on it (``MAX_RUNS``, newest first), the path of the newest
    one's frames along its stages, each stage timed over the ``frames`` newest answered frames and finished
    jobs on it whose route is its own (an ``ans`` deployment: its first chain, the plan's own arm)."""
    related = ("model", "source")
    runs: list[Run] = sorted(
        [
            *Job.objects.filter(deployment=deployment).select_related(*related)[:MAX_RUNS],
            *Session.objects.filter(deployment=deployment).select_related(*related)[:MAX_RUNS],
        ],
        key=lambda r: r.created_at,
        reverse=True,
    )[:MAX_RUNS]
    plan = _deployment_plan(deployment)
    route = [s["device"] for s in plan["stages"]]
    newest = runs[0] if runs else None
    if newest is not None and newest.plan and [s["device"] for s in newest.plan.get("stages", [])] == route:
        plan = newest.plan  # the same stages, with the planner's predictions
    recent = [
        *Frame.objects.filter(session__deployment=deployment, ok=True)
        .order_by("-received_at")
        .values_list("received_at", "trace")[: frames * 4],
        *Job.objects.filter(deployment=deployment, finished_at__isnull=False)
        .order_by("-finished_at")
        .values_list("finished_at", "trace")[: frames * 4],
    ]
    recent.sort(key=lambda row: row[0].timestamp() if row[0] else 0.0, reverse=True)
    traces = [t for _, t in recent if t and _route(t) == route][:frames]
    source = str(newest.source_id) if newest is not None else None
    return {
        "run": _run_row(newest) if newest is not None else None,
        **_graph(plan, deployment.model.blocks or [], source, traces),
        "deployment": {
            "id": str(deployment.pk),
            "state": deployment.state,
            "model": {
                "id": deployment.model_id,
                "name": deployment.model.name,
                "version": deployment.model.version,
            },
            "cuts": deployment.cuts,
            "devices": deployment.devices,
            "ready_devices": deployment.ready_devices,
            "load_s": deployment.load_s,
            "arms": deployment.arms,
            "error": deployment.error,
            "created_at": deployment.created_at.isoformat(),
            "ready_at": deployment.ready_at.isoformat() if deployment.ready_at else None,
        },
        "runs": [
            {
                **_run_row(run),
                "source_name": run.source.name,
                "created_at": run.created_at.isoformat(),
                "predicted_latency_s": run.predicted_latency_s,
            }
            for run in runs
        ],
    }


def _deployment_plan(deployment: Deployment) -> dict:
    """The stages a deployment placed, as a plan's: their devices, and their blocks from its cuts (an
    ``ans`` deployment: its first chain, the arm its plan took)."""
    chain_end = (
        deployment.arms[1]["first_stage"] if len(deployment.arms or []) > 1 else len(deployment.stages)
    )
    chain = [s for s in deployment.stages if s["stage"] < chain_end]
    cuts = [int(c) for c in deployment.cuts.split(",") if c.strip()]
    last = len(deployment.model.blocks or []) - 1
    return {
        "stages": [
            {
                "device": s["device"],
                "first_block": cuts[k - 1] + 1 if 0 < k <= len(cuts) else 0,
                "last_block": cuts[k] if k < len(cuts) else last,
            }
            for k, s in enumerate(chain)
        ]
    }


def _run_row(run: Run) -> dict:
    return {
        "kind": "session" if isinstance(run, Session) else "job",
        "id": str(run.pk),
        "state": run.state,
        "model": {"id": run.model_id, "name": run.model.name, "version": run.model.version},
        "strategy": run.strategy,
        "source": str(run.source_id),
    }


def run_topology(run: Run, traces: list[list[dict]]) -> dict:
    return {
        "run": _run_row(run),
        **_graph(run.plan or {}, run.model.blocks or [], str(run.source_id), traces),
    }


def _graph(plan: dict, blocks: list[dict], source: str | None, traces: list[list[dict]]) -> dict:
    """The devices, stages, hops, path and slow stage of ``plan`` run from ``source`` (None: no run, so
    no capture, input or result: the stages alone)."""
    planned = plan.get("stages", [])
    ends = [source] if source is not None else []
    ids = [*ends, *(s["device"] for s in planned)]
    devices = {str(d.pk): d for d in Device.objects.filter(pk__in=ids)}
    measured = _measured(traces)

    stages: list[dict[str, Any]] = []
    for k, stage in enumerate(planned):
        first, last = stage["first_block"], stage["last_block"]
        stages.append(
            {
                "stage": k,
                "device": stage["device"],
                "device_name": _name(devices, stage["device"]),
                "blocks": [first, last],
                "predicted": {name: stage.get(name) for name in ("queue", "compute", "transfer")},
                "measured": measured.get(k),
                "slow": False,
            }
        )
    timed = [s for s in stages if s["measured"]]
    slow = max(timed, key=lambda s: s["measured"]["total_s"]) if timed else None
    if slow is not None:
        slow["slow"] = True

    hops = _hops(source, planned, blocks, measured)
    pairs = links.latest_links(devices.values())
    for hop in hops:
        sample = pairs.get((hop["from"], hop["to"]))
        reverse = sample is None and (hop["to"], hop["from"]) in pairs
        sample = sample or pairs.get((hop["to"], hop["from"]))
        hop["from_name"], hop["to_name"] = _name(devices, hop["from"]), _name(devices, hop["to"])
        hop["link"] = (
            None
            if sample is None
            else {
                "bandwidth_bps": sample.bandwidth_bps,
                "rtt_s": sample.rtt_s,
                "measured_at": sample.measured_at.isoformat(),
                "direction": "reverse" if reverse else "forward",
            }
        )

    order = list(dict.fromkeys(ids))
    return {
        "frames": len(traces),
        "devices": [
            {
                "id": device_id,
                "name": _name(devices, device_id),
                "status": getattr(devices.get(device_id), "status", "unknown"),
                "role": getattr(devices.get(device_id), "role", ""),
                "source": device_id == source,
                "stages": [s["stage"] for s in stages if s["device"] == device_id],
            }
            for device_id in order
        ],
        "stages": stages,
        "hops": hops,
        "path": _collapse([*ends, *(s["device"] for s in planned), *ends] if planned else ends),
        "slow_stage": slow["stage"] if slow is not None else None,
    }


def _route(trace: list[dict]) -> list[str]:
    return [
        str(t.get("device")) for t in sorted(trace, key=lambda t: t.get("stage", 0)) if t.get("stage", 0) >= 0
    ]


def _measured(traces: list[list[dict]]) -> dict[int, dict]:
    """Per stage (SOURCE_STAGE: the input hop): the median of each timing over the traces, and of their
    sum (``total_s``)."""
    per_stage: dict[int, list[dict]] = {}
    for trace in traces:
        for step in trace:
            stage = step.get("stage")
            if isinstance(stage, int):
                per_stage.setdefault(stage, []).append(step)
    out = {}
    for stage, steps in per_stage.items():
        row = {name: statistics.median(float(s.get(name) or 0.0) for s in steps) for name in stats.TIMINGS}
        row["total_s"] = statistics.median(
            sum(float(s.get(name) or 0.0) for name in stats.TIMINGS) for s in steps
        )
        row["frames"] = len(steps)
        out[stage] = row
    return out


def _hops(
    source: str | None, planned: list[dict], blocks: list[dict], measured: dict[int, dict]
) -> list[dict]:
    """The hops of a frame between devices: the input to stage 0, stage to stage, the result back to the
    source (no source: stage to stage alone); a stage handing over to the next on the same device is no
    hop."""
    if not planned:
        return []
    hops: list[dict] = []

    def add(kind: str, after: int, a: str | None, b: str | None, nbytes, transfer_s) -> None:
        if a is not None and b is not None and a != b:
            hops.append(
                {
                    "kind": kind,
                    "after_stage": after,
                    "from": a,
                    "to": b,
                    "bytes": nbytes,
                    "transfer_s": transfer_s,
                }
            )

    def block_bytes(index: int, key: str):
        return blocks[index].get(key) if 0 <= index < len(blocks) else None

    entry = measured.get(SOURCE_STAGE)
    first = planned[0]
    add(
        "input",
        SOURCE_STAGE,
        source,
        first["device"],
        block_bytes(first["first_block"], "input_bytes"),
        entry["transfer_s"] if entry else None,
    )
    for k, stage in enumerate(planned):
        nxt = planned[k + 1]["device"] if k + 1 < len(planned) else source
        timed = measured.get(k)
        add(
            "activation" if k + 1 < len(planned) else "result",
            k,
            stage["device"],
            nxt,
            block_bytes(stage["last_block"], "output_bytes"),
            timed["transfer_s"] if timed else None,
        )
    return hops


def _collapse(ids: list[str]) -> list[str]:
    """The devices in a frame's order, a device running consecutive stages once."""
    return [d for k, d in enumerate(ids) if k == 0 or ids[k - 1] != d]


def _name(devices: dict, device_id: str) -> str:
    device = devices.get(device_id)
    return device.name if device is not None else device_id
