"""Summaries of measured runs: per-stage timing totals, prediction error, session percentiles."""

from __future__ import annotations

import numpy as np

from edgeorch.plans.energy import mean_energy

TIMINGS = ("queue_s", "compute_s", "serialize_s", "transfer_s")


def stage_totals(trace: list[dict]) -> dict[str, float]:
    """Sum of each timing over the stages of one request's trace."""
    return {name: float(sum(float(t.get(name) or 0.0) for t in trace)) for name in TIMINGS}


def gap_breakdown(job, stages: list[dict]) -> list[dict]:
    """Where a finished job's time went, predicted beside measured (seconds): deployment (from submitting to
    telling the source to run: queued, planned, deployed; not in the measured latency), then within the
    measured latency the stages' queueing, compute and transfer (serialising included), and the control plane
    and the rest (the measured latency less the stages' traced work: messages through the control plane,
    the result's way back, the first request's loading). Empty until the job is measured."""
    if job.measured_latency_s is None:
        return []

    def total(side: str, *names: str) -> float | None:
        values = [(s.get(side) or {}).get(n) for s in stages for n in names]
        known = [float(v) for v in values if v is not None]
        return float(sum(known)) if known else None

    measured = {
        "queue": total("measured", "queue_s"),
        "compute": total("measured", "compute_s"),
        "transfer": total("measured", "serialize_s", "transfer_s"),
    }
    traced = sum(v for v in measured.values() if v is not None)
    predicted = {
        "queue": total("predicted", "queue_s"),
        "compute": total("predicted", "compute_s"),
        "transfer": total("predicted", "transfer_s"),
    }
    planned = sum(v for v in predicted.values() if v is not None)
    deploy = (job.started_at - job.created_at).total_seconds() if job.started_at else None
    rest_predicted = (
        max(0.0, job.predicted_latency_s - planned) if job.predicted_latency_s is not None else None
    )
    rows = [
        ("deploy", "Deploy (queued, planned, deployed; before the run, not in the latency)", None, deploy),
        ("queue", "Queue at the stages", predicted["queue"], measured["queue"]),
        ("compute", "Compute", predicted["compute"], measured["compute"]),
        ("transfer", "Transfer (serialising included)", predicted["transfer"], measured["transfer"]),
        ("control", "Control plane and the rest", rest_predicted, max(0.0, job.measured_latency_s - traced)),
    ]
    return [
        {
            "part": part,
            "label": label,
            "predicted": p,
            "measured": m,
            "gap": None if p is None or m is None else m - p,
        }
        for part, label, p, m in rows
    ]


def prediction_error(predicted: float | None, measured: float | None) -> float | None:
    """(measured - predicted) / measured: positive when the plan was optimistic."""
    if not predicted or not measured:
        return None
    return (measured - predicted) / measured


def percentiles(values) -> dict[str, float | None]:
    if len(values) == 0:
        return {"p50": None, "p95": None, "p99": None, "mean": None}
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return {"p50": float(p50), "p95": float(p95), "p99": float(p99), "mean": float(np.mean(values))}


BUDGET_ERROR = "budget:"  # how a frame its source dropped over its budget says why (docs/qos.md, "Budgets")


def summarise(session) -> dict:
    """Latency percentiles of ok frames, throughput over the stream's span, deadline misses and drops,
    failures, the mean per-stage breakdown, and the same counts per priority class; for a dynamic session
    the mean accuracy of its answers (``mean_accuracy``) and the frames each configuration served.

    ``deadline_misses``: frames with a deadline that were answered late or failed; ``late``: those answered
    late; ``dropped``: frames a stage dropped before computing them because their deadline could no longer
    be met (docs/qos.md), counted apart from the misses; ``budget_dropped``: of the drops, those its source
    dropped because they were over its budget (docs/qos.md, "Budgets"), with no allowed alternative."""
    frames = list(
        session.frame_records.values_list(
            "ok", "latency_s", "deadline_met", "trace", "dropped", "priority", "accuracy", "config", "error"
        )
    )
    ok = [f for f in frames if f[0]]
    latencies = np.array([f[1] for f in ok], dtype=float)
    span = _span(ok)
    summary = {
        "frames": len(frames),
        "ok": len(ok),
        "failed": len(frames) - len(ok),
        "latency_s": percentiles(latencies),
        "throughput_fps": (len(ok) / span) if span > 0 else None,
        "deadline_s": session.deadline_s,
        "deadline_misses": sum(1 for f in frames if f[2] is False and not f[4]),
        "late": sum(1 for f in frames if f[0] and f[2] is False),
        "dropped": sum(1 for f in frames if f[4]),
        "budget_dropped": sum(1 for f in frames if f[4] and (f[8] or "").startswith(BUDGET_ERROR)),
        "by_priority": by_priority(frames),
        "predicted_latency_s": session.predicted_latency_s,
        "predicted_throughput_fps": (session.plan or {}).get("throughput"),
    }
    if any(f[7] for f in frames):  # dynamic inference: what its answers were worth, and how they were served
        accuracies = [f[6] for f in ok if f[6] is not None]
        summary["mean_accuracy"] = sum(accuracies) / len(accuracies) if accuracies else None
        summary["configs"] = {
            c: sum(1 for f in frames if f[7] == c) for c in sorted({f[7] for f in frames} - {""})
        }
    if ok:
        summary["mean_stage_s"] = {
            k: v / len(ok)
            for k, v in stage_totals([t for f in ok for t in (f[3] or []) if isinstance(t, dict)]).items()
        }
        summary["overlapped"] = _overlapped(ok)
        # the source's joules per frame: the plan's prediction and the mean emulated one (docs/energy.md)
        summary["energy"] = mean_energy(session.plan, [(f[3], f[1]) for f in ok], session.source)
    if session.strategy in LEARNING:
        summary["learned"] = learned_summary(session)
    return summary


def by_priority(frames) -> dict[str, dict]:
    """Per priority class the frames carried (``Frame.priority``; none: left out): their count, answered,
    deadline misses (late or failed), drops, and the p99 latency of the answered."""
    out: dict[str, dict] = {}
    for name in sorted({f[5] for f in frames if f[5]}):
        mine = [f for f in frames if f[5] == name]
        answered = [f[1] for f in mine if f[0]]
        out[name] = {
            "frames": len(mine),
            "ok": len(answered),
            "deadline_misses": sum(1 for f in mine if f[2] is False and not f[4]),
            "dropped": sum(1 for f in mine if f[4]),
            "p99_s": float(np.percentile(answered, 99)) if answered else None,
        }
    return out


LEARNING = {"ans": "arm", "qoe-bandit": "model_id"}  # what a learning strategy chooses per frame


def learned_summary(session) -> dict:
    """What a learning session's choices cost: per choice (``ans``: the arm; ``qoe-bandit``: the model that
    answered) its frames and mean latency, and the cumulative regret against the best fixed choice in
    hindsight (the one of lowest mean latency among those with at least ``MIN_FRAMES`` answered frames):
    Σ over answered frames (latency − that mean), in seconds. A bandit that converges has a regret curve that
    flattens."""
    field = LEARNING[session.strategy]
    rows = session.frame_records.filter(ok=True).order_by("request_id").values_list(field, "latency_s")
    by: dict = {}
    for choice, latency in rows:
        by.setdefault(choice, []).append(latency)
    per = [{"choice": c, "frames": len(v), "mean_latency_s": float(np.mean(v))} for c, v in by.items()]
    per.sort(key=lambda r: (r["choice"] is None, r["choice"] if r["choice"] is not None else 0))
    judged = [r for r in per if r["frames"] >= MIN_FRAMES and r["choice"] is not None]
    best = min(judged, key=lambda r: r["mean_latency_s"]) if judged else None
    regret = None
    if best is not None:
        regret = float(sum(latency - best["mean_latency_s"] for _, latency in rows))
    return {
        "by": "arm" if field == "arm" else "model",
        "choices": per,
        "best": None if best is None else best["choice"],
        "regret_s": regret,
    }


MIN_FRAMES = 3


def _spans(ok) -> list[tuple[float, float]]:
    """(start of the first stage, end of the last) of each ok frame whose trace says both (a frame stored
    before traces were checked may lack them: it is left out, not a reason to fail the summary)."""
    spans = []
    for f in ok:
        trace = f[3] if isinstance(f[3], list) else []
        first, last = (trace[0], trace[-1]) if trace else ({}, {})
        start = first.get("start") if isinstance(first, dict) else None
        end = last.get("end") if isinstance(last, dict) else None
        if isinstance(start, int | float) and isinstance(end, int | float):
            spans.append((float(start), float(end)))
    return spans


def _span(ok) -> float:
    spans = _spans(ok)
    return (max(e for _, e in spans) - min(s for s, _ in spans)) if spans else 0.0


def _overlapped(ok) -> int:
    """How many frames started before the previous frame had finished: pipelining at work."""
    spans = sorted(_spans(ok))
    return sum(1 for a, b in zip(spans, spans[1:], strict=False) if b[0] < a[1])
