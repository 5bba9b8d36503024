"""Planning verbs: a plan for a model over devices (``make_plan``), the what-if cut sweep (``cut_sweep``) and
the latency predictor's held-out error (``predictor_report``). Nothing here runs a model: they only predict,
from the problem ``assembly`` builds out of the stored ``measurements``.
"""

from __future__ import annotations

import math
from typing import Any

from edgeorch import planning

from . import timing
from .assembly import assemble
from .models import BlockProfile
from .overrides import PlanInputError


def _bool(value: Any) -> bool:
    """A JSON boolean, or a form's "true"/"false"; anything else (1, "yes") is a bad value."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ValueError(value)


CONVERT: dict[str, Any] = {  # a registry parameter's type (``planning.strategies.Param``) -> its conversion
    "int": int,
    "float": float,
    "bool": _bool,
    "str": str,
    "device": str,
    "devices": lambda v: [str(d) for d in v],
}
# Every strategy parameter's conversion, by name, from the registry (a name means one type in every strategy).
PARAM_TYPES: dict[str, Any] = {
    "objective": str,
    **{p.name: CONVERT[p.type] for info in planning.STRATEGIES.values() for p in info.params},
}


def make_plan(
    model,
    devices,
    source,
    strategy: str = "multi-device",
    *,
    result=None,
    overrides=None,
    deadline=None,
    params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Plan ``model`` with ``strategy`` and return ``Plan.to_dict()`` (with its ``energy``) plus ``model``,
    ``devices`` (each with its time source, throttle, queue and power) and ``links`` (with their source and
    radio); notes say where numbers came from.
    Raises ``PlanInputError`` for bad input and ``planning.PlanningError`` when no plan exists."""
    _known(strategy)
    kwargs = _coerce(params or {})
    a = assemble(model, devices, source, result=result, overrides=overrides, deadline=deadline)
    return _plan_on(a, model, strategy, kwargs)


def make_plans(
    model, devices, source, strategy: str, params_list: list[dict[str, Any]], *, deadline=None
) -> list[dict[str, Any] | None]:
    """``make_plan`` once per parameter set of ``params_list`` over one assembly of the problem (the devices'
    block times, throttles, queues and links read once, not once per plan: a dynamic session's table plans
    every split point of every variant, ``jobs.services.dynamic``); None where that parameter set has no
    plan (``PlanningError``) or is invalid (``PlanInputError``)."""
    _known(strategy)
    a = assemble(model, devices, source, deadline=deadline)
    out: list[dict[str, Any] | None] = []
    for params in params_list:
        try:
            out.append(_plan_on(a, model, strategy, _coerce(params)))
        except (planning.PlanningError, PlanInputError):
            out.append(None)
    return out


def split_sweep(
    model, devices, source, strategy: str = "split", *, device: str, deadline=None
) -> dict[str, Any]:
    """Every cut's ``split`` plan of ``model`` between ``source`` and ``device``, over one assembly:
    ``{"plans": {cut: plan}}`` for the cuts that have one (``make_plans``); ``strategy`` must be ``split``
    (the signature is ``make_plan``'s, so that ``plans.cache`` keeps a sweep as it keeps a plan)."""
    if strategy != "split":
        raise PlanInputError(f"a split sweep plans the split strategy, not {strategy!r}")
    cuts = range(len(model.blocks) + 1)
    every = make_plans(
        model, devices, source, "split", [{"cut": cut, "device": device} for cut in cuts], deadline=deadline
    )
    return {"plans": {cut: plan for cut, plan in zip(cuts, every, strict=True) if plan is not None}}


def _known(strategy: str) -> None:
    if strategy not in planning.STRATEGIES:
        raise PlanInputError(f"unknown strategy {strategy!r}; known: {', '.join(planning.STRATEGIES)}")


def _plan_on(a, model, strategy: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The plan ``strategy`` makes of the assembled problem ``a``, as ``make_plan`` returns it."""
    out = planning.plan(a.problem, strategy, **kwargs).to_dict()
    out["notes"] = [*out["notes"], *a.notes]
    out.update(model={"id": model.pk, "name": model.name, "version": model.version})
    out.update(devices=a.devices, links=a.links)
    return out


def _coerce(params: dict[str, Any]) -> dict[str, Any]:
    """Strategy parameters as the strategies expect them (JSON gives "3" or 3.0 as readily as 3)."""
    out = {}
    for name, value in params.items():
        convert = PARAM_TYPES.get(name, lambda v: v)
        try:
            if (name == "devices" and not isinstance(value, list)) or isinstance(value, dict):
                raise TypeError
            out[name] = convert(value)
        except (TypeError, ValueError):
            raise PlanInputError(f"strategy parameter {name!r} has a bad value {value!r}") from None
    return out


def cut_sweep(model, source, edge, overrides=None, objective="latency", deadline=None) -> dict[str, Any]:
    """For every cut p = 0..n (p blocks on ``source``, the rest on ``edge``): device compute, transfer
    (input, activation and result), queueing, edge compute and total, and the source's joules, from the
    ``split`` strategy on the same problem; ``best`` is the fastest p, ``best_energy`` the cheapest,
    ``chosen`` the one ``objective`` picks (``deadline`` in seconds). What the what-if page draws."""
    if source.pk == edge.pk:
        raise PlanInputError("the edge device must differ from the source device")
    planning.objective.check(objective)
    a = assemble(model, [source, edge], source, overrides=overrides)
    n = len(a.problem.model.blocks)
    cuts = [_sweep_row(a.problem, str(source.pk), str(edge.pk), p) for p in range(n + 1)]
    finite = [c for c in cuts if c["latency"] is not None]
    best = min(finite, key=lambda c: c["latency"])["cut"] if finite else None
    priced = [c for c in finite if c["energy"] is not None]
    best_energy = min(priced, key=lambda c: (c["energy"], c["latency"]))["cut"] if priced else None
    if objective != "latency" and len(priced) < len(finite):
        raise planning.PlanningError("the source device has no power model: its energy is unknown")
    options = [planning.objective.Option(c["latency"], c["energy"], c["cut"]) for c in finite]
    chosen = planning.objective.choose(options, objective, deadline)[0].item if finite else None
    return {
        "model": {"id": model.pk, "name": model.name, "version": model.version},
        "source": {"id": str(source.pk), "name": source.name},
        "edge": {"id": str(edge.pk), "name": edge.name},
        "cuts": cuts,
        "best": best,
        "best_energy": best_energy,
        "objective": objective,
        "deadline_ms": None if deadline is None else deadline * 1e3,
        "chosen": chosen,
        "devices": a.devices,
        "links": a.links,
        "notes": a.notes,
    }


_SWEEP_TIMES = ("device_compute", "transfer", "queue", "edge_compute", "latency")
_SWEEP_ENERGY = ("energy", "energy_compute", "energy_radio", "energy_idle")


def _sweep_row(problem: planning.Problem, source: str, edge: str, p: int) -> dict[str, Any]:
    n = len(problem.model.blocks)
    label = "offload" if p == 0 else ("local" if p == n else problem.model.blocks[p - 1].name)
    row: dict[str, Any] = {"cut": p, "label": label, "cut_point": p - 1 if 0 < p < n else None}
    try:
        plan = planning.plan(problem, "split", cut=p, device=edge)
    except planning.PlanningError as exc:  # this cut breaks a memory limit: shown as a gap
        return {**row, **dict.fromkeys(_SWEEP_TIMES + _SWEEP_ENERGY), "bytes": None, "error": str(exc)}

    def compute_on(device: str) -> float:
        return sum(s.compute for s in plan.stages if s.device == device)

    row.update(
        device_compute=compute_on(source),
        edge_compute=compute_on(edge),
        transfer=plan.input_transfer + sum(s.transfer for s in plan.stages),
        queue=sum(s.queue for s in plan.stages),
        latency=None if math.isinf(plan.latency) else plan.latency,
        bytes=problem.model.input_bytes if p == 0 else problem.model.blocks[p - 1].output_bytes,
        error=None,
    )
    energy = plan.energy.to_dict() if plan.energy is not None else {}
    row.update(
        {f"energy_{k}": energy.get(k) for k in ("compute", "radio", "idle")}, energy=energy.get("total")
    )
    return row


# --- the predictor ---------------------------------------------------------------------------------


def predictor_report(holdout_every: int = 4) -> dict[str, Any]:
    """The regression's mean absolute percentage error on held-out (device, model) pairs: every
    ``holdout_every``-th pair's profiles are left out of the fit and predicted, as for a pair never
    profiled."""
    profiles = list(BlockProfile.objects.select_related("model", "device").order_by("pk"))
    pairs = sorted({(str(p.device_id), p.model_id) for p in profiles})
    held = {pair for i, pair in enumerate(pairs) if i % holdout_every == holdout_every - 1}
    if not held and len(pairs) >= 2:
        held = {pairs[-1]}
    test = timing.profile_rows(p for p in profiles if (str(p.device_id), p.model_id) in held)
    train = timing.profile_rows(p for p in profiles if (str(p.device_id), p.model_id) not in held)
    report: dict[str, Any] = {
        "profiles": len(profiles),
        "pairs": len(pairs),
        "held_out_pairs": len(held),
        "train_samples": len(train),
        "test_samples": 0,
        "mape": None,
        "device_classes": [],
    }
    if not held:
        report["detail"] = "Too few profiles: at least two profiled (device, model) pairs are needed."
        return report
    try:
        predictor = planning.LatencyPredictor().fit(train)
    except planning.PlanningError as exc:
        report["detail"] = f"Too few profiles to fit the regression ({exc}); profile more devices and models."
        return report
    known = [r for r in test if r.device_key in predictor.weights or r.device_key in predictor.speed]
    report["device_classes"] = sorted(predictor.weights) + sorted(predictor.speed)
    if not known:
        report["detail"] = (
            "No held-out profile is of a device class the regression knows; profile more pairs."
        )
        return report
    errors = [abs(predictor.predict(r.device_key, r.features) - r.seconds) / r.seconds for r in known]
    report.update(test_samples=len(known), mape=sum(errors) / len(errors))
    report["detail"] = f"MAPE {report['mape']:.1%} over {len(known)} held-out block timings."
    return report
