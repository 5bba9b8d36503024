"""A run's topology, as the topology page draws it (``run_topology``): the devices of its current plan with
the stages (blocks) each runs, the hops a frame takes between them with the bytes each carries and the
latest measured bandwidth and RTT of that link (``plans`` link samples, from the agents' probes), each
stage's measured times over the most recent frames' traces, and the slow stage: the one whose median
measured time (queue + compute + serialize + transfer) is the largest.

A frame's path: the source captures it, sends it to the first stage's device (the input hop, stage -1 in a
trace), each stage hands its output to the next stage's device, and the last sends the result back to the
source (the result device).
"""

from __future__ import annotations

import statistics
from typing import Any

from edgeorch_wire.protocol import SOURCE_STAGE

from edgeorch.devices.models import Device
from edgeorch.plans import measurements as links

from . import stats
from .models import Job, Run, Session

DEFAULT_FRAMES = 20  # the recent frames a session's measured stage times come from
MAX_FRAMES = 500


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


def run_topology(run: Run, traces: list[list[dict]]) -> dict:
    plan = run.plan or {}
    planned = plan.get("stages", [])
    blocks = run.model.blocks or []
    source = str(run.source_id)
    ids = [source, *(s["device"] for s in planned)]
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

    hops = _hops(run, planned, blocks, measured)
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

    order = list(dict.fromkeys([source, *(s["device"] for s in planned)]))
    return {
        "run": {
            "kind": "session" if isinstance(run, Session) else "job",
            "id": str(run.pk),
            "state": run.state,
            "model": {"id": run.model_id, "name": run.model.name, "version": run.model.version},
            "strategy": run.strategy,
            "source": source,
        },
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
        "path": _collapse([source, *(s["device"] for s in planned), source] if planned else [source]),
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


def _hops(run: Run, planned: list[dict], blocks: list[dict], measured: dict[int, dict]) -> list[dict]:
    """The hops of a frame between devices: the input to stage 0, stage to stage, the result back to the
    source; a stage handing over to the next on the same device is no hop."""
    if not planned:
        return []
    source = str(run.source_id)
    hops = []

    def add(kind: str, after: int, a: str, b: str, nbytes, transfer_s) -> None:
        if a != b:
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
