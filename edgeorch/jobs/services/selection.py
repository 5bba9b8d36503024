"""Model-variant selection for ``qoe-bandit`` sessions: the thin Django side of ``edgeorch.planning.qoe``
(docs/learning.md, "qoe-bandit"). Verbs: ``initial_plan``, ``on_report``, ``select`` (and ``release``, the
Celery task ``jobs.select_variant``'s), ``give_feedback``.

The arms are the session's model and its live variants (``MLModel.variant_of``); the context is the source
device's now (``context``: a bias, its throttle factor, its 1-minute load). A session starts on the variant
the device's bandit (``VariantBandit``, one per device and base model, kept across sessions) chooses. Every
``window`` frames the variant answered (``on_report`` enqueues ``jobs.select_variant``, never on the
per-frame path), ``select`` judges that window — QoE = w_acc · accuracy · answered share − w_lat · mean
latency / latency_ref_s − w_energy · the source's joules per frame (``plans.energy.mean_energy``: measured
where it has a power meter, else its profile's power model over the frames' traced compute and latency;
only with w_energy > 0 and a source whose profile models power), blended with the mean of the users'
scores of its frames (``give_feedback``) —
updates the bandit with it at the window's context, and chooses again in the
context of now: another variant is deployed and switched to (``adaptive.switch``: a ``PlanSwitch``), the
same one goes on. ``Session.learning`` shows each arm's estimate, width and pulls, the variant in force and
the windows judged.

With ``split: ans`` each variant's plan carries its ``ans`` arms, so a switch deploys that variant's arms
(one deployment per variant, reused while live) and the source learns the cut among them, its state kept
per variant and edge (``StreamSwitch.ans``); ``Session.learning["ans"]`` has what it learned per variant
(``sessions.learned``).
"""

from __future__ import annotations

import logging
import math
import statistics
import time

from django.db import transaction

from edgeorch.catalog.models import MLModel
from edgeorch.planning.qoe import QoEBandit, QoEWeights, qoe
from edgeorch.plans import services as plans
from edgeorch.plans.energy import mean_energy
from edgeorch.telemetry.services import latest_metric

from ..choices import RunState
from ..models import Frame, Session, VariantBandit
from . import enqueue
from .adaptive import switch
from .deployments import planning_devices

log = logging.getLogger(__name__)

STRATEGY = "qoe-bandit"
CONTEXT = ("bias", "throttle", "load_1m")
BUSY_FOR_S = 60.0  # a task that died holding the session is forgotten after this
HISTORY = 100  # windows kept in Session.learning
NOT_ANSWERED_S = 10.0  # a window with no answered frame is judged as if each took this many latency_ref_s


def arms_of(model: MLModel) -> list[MLModel]:
    """The base model and its live variants, in catalog order."""
    return [model, *MLModel.objects.filter(variant_of=model).order_by("pk")]


def arm_name(model: MLModel) -> str:
    return f"{model.name} v{model.version}"


def context(device) -> list[float]:
    """The device's features now: 1, its throttle factor (1: full speed), its 1-minute load average."""
    throttle = latest_metric(device, "cpu.throttle_factor")
    load = latest_metric(device, "load.1m")
    return [1.0, _bounded(throttle, 1.0), _bounded(load, 0.0)]


def weights_of(params: dict | None) -> QoEWeights:
    """The QoE's weights a session's ``params`` give (the defaults where they give none)."""
    params = params or {}
    return QoEWeights(
        accuracy=float(params.get("w_accuracy", 1.0)),
        latency=float(params.get("w_latency", 0.5)),
        energy=float(params.get("w_energy", 0.0)),
        latency_ref_s=float(params.get("latency_ref_s", 0.1)),
    )


def initial_plan(session, devices: list) -> dict:
    """The plan a qoe-bandit session starts on: the variant its source's bandit chooses now, split by the
    session's ``split`` strategy."""
    arms = arms_of(session.model)
    x = context(session.source)
    _, bandit = _bandit(session.source, session.model, arms)
    chosen = arms[[arm_name(m) for m in arms].index(bandit.choose(x))]
    plan = plan_variant(session, chosen, devices)
    plan["variant"]["context"] = x
    return plan


def plan_variant(session, model: MLModel, devices: list) -> dict:
    """The session's plan for ``model`` (the base or one of its variants)."""
    plan = plans.make_plan(
        model, devices, session.source, STRATEGY, deadline=session.deadline_s, params=dict(session.params)
    )
    plan["variant"] = {"name": arm_name(model), "model": model.pk, "accuracy": model.accuracy}
    return plan


def on_report(session_id) -> None:
    """Cheap check on the report path: once the variant in force has answered a window of frames, enqueue
    ``jobs.select_variant`` (never twice at once for one session)."""
    now = time.time()
    with transaction.atomic():
        session = (
            Session.objects.select_for_update(of=("self",))
            .filter(pk=session_id, strategy=STRATEGY, state=RunState.RUNNING)
            .only("pk", "learning", "params")
            .first()
        )
        if session is None:
            return
        state = session.learning or {}
        if state.get("busy_until", 0) > now:
            return
        window = int((session.params or {}).get("window", 10))
        since = state.get("window_from", 0)
        if Frame.objects.filter(session_id=session_id, request_id__gte=since).count() < window:
            return
        session.learning = {**state, "busy_until": now + BUSY_FOR_S}
        session.save(update_fields=["learning"])
        enqueue.after_commit("jobs.select_variant", str(session_id))


def release(session_id) -> None:
    """The session's look is over: ``on_report`` may enqueue the next."""
    with transaction.atomic():
        session = (
            Session.objects.select_for_update(of=("self",)).filter(pk=session_id).only("learning").first()
        )
        if session is not None:
            session.learning = {**(session.learning or {}), "busy_until": 0}
            session.save(update_fields=["learning"])


def select(session_id) -> str | None:
    """Judge the window the variant in force has answered, teach the bandit, and choose the variant for the
    next window (switching to it if it is another). Returns the variant chosen (None: nothing judged)."""
    session = Session.objects.select_related("model", "source").filter(pk=session_id).first()
    if session is None or session.state != RunState.RUNNING or not (session.plan or {}).get("variant"):
        return None
    state = dict(session.learning or {})
    current: dict = (session.plan or {})["variant"]
    since = state.get("window_from", 0)
    rows = list(
        Frame.objects.filter(session=session, request_id__gte=since)
        .order_by("request_id")
        .values_list("request_id", "ok", "latency_s", "feedback", "model_id")
    )
    window = int((session.params or {}).get("window", 10))
    if len(rows) < window:
        return None
    judged = [r for r in rows if r[4] == current["model"]]  # frames of an earlier variant still landing
    arms = arms_of(session.model)
    names = [arm_name(m) for m in arms]
    row, bandit = _bandit(session.source, session.model, arms)
    x = state.get("context") or current.get("context") or context(session.source)
    weights = weights_of(session.params)
    record = judge(judged, current, weights, window_energy(session, judged, weights))
    if record is not None and current["name"] in names:
        bandit.update(current["name"], x, record["reward"])
        row.state = bandit.to_dict()
        row.save(update_fields=["state", "updated_at"])
    now_x = context(session.source)
    choice = bandit.choose(now_x)
    estimates = bandit.estimates(now_x)
    if record is not None:
        record.update(variant=current["name"], first=rows[0][0], last=rows[-1][0])
    state.update(
        strategy=STRATEGY,
        window_from=rows[-1][0] + 1,
        context=now_x,
        context_features=list(CONTEXT),
        current=current["name"],
        arms=[_arm_row(m, estimates[arm_name(m)]) for m in arms],
        windows=[*state.get("windows", []), *([record] if record else [])][-HISTORY:],
    )
    if choice != current["name"]:
        model = arms[names.index(choice)]
        reason = (
            f"qoe-bandit: {choice} (QoE {estimates[choice]['upper']:.3f} at most) over {current['name']} "
            f"(last window {record['reward']:.3f})"
            if record
            else f"qoe-bandit: {choice}"
        )
        try:
            plan = plan_variant(session, model, planning_devices(session))
        except Exception as exc:  # a variant that cannot plan here keeps the current one
            log.warning("session %s: cannot plan %s: %s", session.pk, choice, exc)
        else:
            plan["variant"]["context"] = now_x
            if switch(session, plan, session.predicted_latency_s or 0.0, reason) is not None:
                state["current"] = choice
    _save(session_id, state)
    return state["current"]


def give_feedback(session, score: float, first: int, last: int) -> int:
    """A user's score (0 bad .. 1 good) of the session's frames ``first``..``last`` (request ids): stored on
    each frame (the next window judged blends it in). Returns how many frames it scored."""
    if not isinstance(score, int | float) or not 0.0 <= float(score) <= 1.0:
        raise ValueError(f"a score is a number from 0 to 1, not {score!r}")
    if first > last:
        raise ValueError(f"from ({first}) is after to ({last})")
    frames = Frame.objects.filter(session=session, request_id__gte=first, request_id__lte=last)
    return frames.update(feedback=float(score))


def window_energy(session, rows: list, weights: QoEWeights) -> dict | None:
    """The source's energy per answered frame of a window (``plans.energy.mean_energy`` over those of
    ``rows``, (request_id, ok, ...), that were answered; their traces read only here); None where the QoE
    does not weigh energy or nothing was answered."""
    answered = [r[0] for r in rows if r[1]]
    if not weights.energy or not answered:
        return None
    frames = Frame.objects.filter(session=session, request_id__in=answered)
    requests = frames.values_list("trace", "latency_s")
    return mean_energy(session.plan, list(requests), session.source)


def judge(rows: list, current: dict, weights: QoEWeights, energy: dict | None = None) -> dict | None:
    """A window's record and reward, or None for no frames: ``rows`` are (request_id, ok, latency_s,
    feedback, ...) of the frames ``current`` (``{"accuracy": ...}``, the variant) answered or failed;
    ``energy``, ``plans.energy.mean_energy`` of its answered frames (its ``joules`` priced by
    ``weights.energy``; None or no joules: not judged on energy). bench/bench_variants.py judges fixed
    runs' windows with it, as ``select`` judges a session's."""
    if not rows:
        return None
    answered = [r[2] for r in rows if r[1]]
    share = len(answered) / len(rows)
    latency = statistics.fmean(answered) if answered else NOT_ANSWERED_S * weights.latency_ref_s
    scores = [r[3] for r in rows if r[3] is not None]
    feedback = statistics.fmean(scores) if scores else None
    known = current.get("accuracy")
    accuracy = float(known) if known is not None else 1.0  # unknown: judged by latency and users alone
    joules = (energy or {}).get("joules") if answered else None
    reward = qoe(accuracy * share, latency, joules, weights, feedback)
    return {
        "frames": len(rows),
        "answered": len(answered),
        "latency_s": round(latency, 6),
        "accuracy": accuracy,
        "feedback": feedback,
        "energy_j": None if joules is None else round(float(joules), 6),
        "energy_basis": (energy or {}).get("basis") if joules is not None else None,
        "reward": round(reward, 6),
    }


def _arm_row(model: MLModel, estimate: dict) -> dict:
    return {
        "variant": arm_name(model),
        "model": model.pk,
        "accuracy": model.accuracy,
        "estimate": _finite(estimate["estimate"]),
        "width": _finite(estimate["width"]),
        "pulls": estimate["pulls"],
    }


def _bandit(device, model: MLModel, arms: list[MLModel]) -> tuple[VariantBandit, QoEBandit]:
    """The device's bandit for the model, as kept; afresh when the model's variants changed since."""
    names = [arm_name(m) for m in arms]
    row, _ = VariantBandit.objects.get_or_create(device=device, model=model)
    try:
        kept = QoEBandit.from_dict(row.state) if row.state.get("arms") == names else None
    except (KeyError, ValueError, TypeError) as exc:
        log.warning("ignoring the kept variant bandit of %s: %s", row, exc)
        kept = None
    return row, kept or QoEBandit(names, dim=len(CONTEXT))


def _save(session_id, state: dict) -> None:
    with transaction.atomic():
        row = Session.objects.select_for_update(of=("self",)).filter(pk=session_id).only("learning").first()
        if row is not None:
            fresh = row.learning or {}
            # busy_until is on_report's; ans (with split ans: each variant's arms) the source's reports'
            row.learning = {**state, "busy_until": fresh.get("busy_until", 0)}
            if "ans" in fresh:
                row.learning["ans"] = fresh["ans"]
            row.save(update_fields=["learning"])


def _bounded(value: float | None, default: float) -> float:
    if value is None or not math.isfinite(value):
        return default
    return min(max(float(value), 0.0), 100.0)


def _finite(value: float) -> float | None:
    return round(value, 6) if math.isfinite(value) else None
