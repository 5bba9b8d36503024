"""Run a scenario: the fleet, then one session per strategy under the same conditions replayed from t=0.

Per strategy run: wait for the devices to cool (``cooldown_c``), set the links' t=0 conditions and probe
them (so every strategy plans from a measured network), start the session, and when it runs re-send the
links' specs (their traces restart at that moment, on both ends of each link) and from then on send each
device's background share (``tenant``) and background sessions at their times, through the same channel
layer path as jobs (``edgeorch.jobs.agents.send``). Frames are placed in time by their request id
(frame i enters at i / rate), so windows line up across strategies.

Each strategy runs once per failover policy (``failover``), and the scenario's ``faults`` happen at their
times like the background: an agent killed (SIGKILL, by the ``Fleet`` that started it) or revived, frozen
(SIGSTOP) or thawed, a link cut
(``cut_spec``), degraded or restored (both its ends get a ``shape`` for that peer only, so the other links'
traces run on), a device overloaded (``tenant``). Before each run every killed agent is started again and
every faulted link and device set back, so each run starts from the same fleet.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from edgeorch_wire import protocol as p

from edgeorch.catalog.models import MLModel
from edgeorch.jobs import agents
from edgeorch.jobs import services as jobs
from edgeorch.jobs.choices import TERMINAL, MeasurementState
from edgeorch.jobs.models import Failure, Frame, Measurement, PlanSwitch, Session
from edgeorch.plans.measurements import latest_profile
from edgeorch.telemetry.models import TelemetryRecord
from edgeorch.telemetry.services import latest_metric

from .fleet import Fleet, FleetError
from .spec import LINK_ACTIONS, Fault, Scenario

log = logging.getLogger(__name__)


@dataclass
class StrategyRun:
    strategy: str
    session_id: str
    state: str
    reason: str
    # {request_id, ok, latency_s, t, busy: {device id: compute s}, arm, model, ...}
    frames: list[dict[str, Any]]
    switches: list[dict[str, Any]]
    predicted: list[tuple[int, float]]  # (from frame, predicted latency) as the plan in force changed
    telemetry: dict[str, list[tuple[float, dict]]] = field(default_factory=dict)  # device -> [(t, metrics)]
    frames_sent: int = 0
    plan: dict[str, Any] = field(default_factory=dict)  # the plan in force at the end
    policy: str = "none"  # the session's failover policy
    faults: list[dict[str, Any]] = field(default_factory=list)  # {at, t, fault, error?} as injected
    failures: list[dict[str, Any]] = field(default_factory=list)  # Failure.to_dict() + t (since t0)
    energy: dict[str, Any] = field(default_factory=dict)  # the session summary's (docs/energy.md)
    learning: dict[str, Any] = field(default_factory=dict)  # an ans session's learned arms (Session.learning)
    users: dict[str, list[dict[str, Any]]] = field(
        default_factory=dict
    )  # user name -> its frames (user_frames)


def ensure_model(name: str) -> MLModel:
    """The newest catalog model of that name, registered from the built-in zoo if needed, with its zoo
    variants and early exits (``catalog.services.register_zoo``: what dynamic inference chooses among) and
    their measured accuracies."""
    model = MLModel.objects.filter(name=name).order_by("-pk").first()
    if model is not None:
        return model
    from edgeorch.catalog import services

    model = next((m for m in services.register_zoo(families=[name]) if m.name == name), None)
    if model is None:
        raise ValueError(f"no model {name!r} in the catalog or the zoo")
    return model


class Runner:
    def __init__(
        self,
        scenario: Scenario,
        devices: dict,
        *,
        base_url: str = "",
        say: Callable[[str], None] = print,
        fleet: Fleet | None = None,
    ):
        self.scenario = scenario
        self.devices = devices  # scenario name -> Device row (the fleet's own dict: a restart refreshes it)
        self.fleet = fleet  # kills and revives agents; without one, kill and revive faults are skipped
        self.base_url = base_url or settings.PUBLIC_URL
        self.say = say
        self.model = ensure_model(scenario.model)

    def candidates(self) -> list:
        """The devices the session (and the oracle) may plan on: the session's list, else every device."""
        names = self.scenario.session.candidates or tuple(self.devices)
        return [self.devices[n] for n in names]

    def params(self, strategy: str) -> dict[str, Any]:
        """The scenario's parameters for ``strategy``, device names made ids, with the session's objective
        unless the strategy's own parameters name one."""
        params = dict(self.scenario.params.get(strategy) or {})
        if self.scenario.session.objective is not None:
            params.setdefault("objective", self.scenario.session.objective)
        for key in ("device", "edge"):
            if isinstance(params.get(key), str):
                params[key] = str(self.devices[params[key]].pk)
        if isinstance(params.get("devices"), list):
            params["devices"] = [str(self.devices[n].pk) for n in params["devices"]]
        return params

    # --- preparation ---------------------------------------------------------------------------------

    def prepare(self) -> None:
        """Profile the model on every device that has no profile of it (the planner prefers measurements)."""
        for device in self.devices.values():
            if latest_profile(device, self.model) is None:
                # One device at a time: on a shared host, concurrent profiles would slow each other down.
                self.say(f"profiling {self.model.name} on {device.name}")
                m = jobs.request_profile(device, self.model, warmup=2, repeats=5, base_url=self.base_url)
                self._wait([m], 180.0, "profiles")

    def _wait(self, measurements: list[Measurement], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        ids = [m.pk for m in measurements]
        while ids and time.monotonic() < deadline:
            if not Measurement.objects.filter(pk__in=ids, state=MeasurementState.PENDING).exists():
                return
            time.sleep(0.2)
        if ids and Measurement.objects.filter(pk__in=ids, state=MeasurementState.PENDING).exists():
            self.say(f"warning: some {what} did not finish in {timeout:.0f} s")

    def probe(self) -> None:
        # Peer links only: the planner plans over them, and control-plane uploads would only slow the probe.
        pending = [
            jobs.probe_links(d, payload_bytes=64 * 1024, control_plane=False) for d in self.devices.values()
        ]
        self._wait(pending, 30.0, "link probes")

    # --- conditions ----------------------------------------------------------------------------------

    def shape(self) -> None:
        """Every configured link on both its ends, traces from now."""
        per_device: dict[str, dict[str, Any]] = {name: {} for name in self.devices}
        for link in self.scenario.links:
            a, b = self.devices[link.a], self.devices[link.b]
            per_device[link.a][str(b.pk)] = link.spec
            per_device[link.b][str(a.pk)] = link.spec
        for name, links in per_device.items():
            if links:
                agents.send(self.devices[name], p.Shape(links))

    def tenant(self, name: str, share: float) -> None:
        self._send(name, p.Tenant(min(max(share, 0.0), 0.99)))

    def _send(self, name: str, message: p.Message) -> bool:
        """Send to the device's agent as connected now (a revived agent has a new channel); False when it
        is not connected (killed)."""
        device = self.devices[name]
        device.refresh_from_db(fields=["channel_name"])
        try:
            agents.send(device, message)
        except agents.AgentUnavailable:
            return False
        return True

    def reset(self) -> None:
        """The t=0 background shares; links and devices a fault touched set back (``shape`` redoes the
        scenario's own links)."""
        shares = {bg.device: bg.share_at(0.0) for bg in self.scenario.background if bg.share is not None}
        for fault in self.scenario.faults:
            if fault.action == "overload":
                shares.setdefault(fault.target[0], 0.0)
            elif (
                fault.action in LINK_ACTIONS and self.scenario.link(fault.target[0], fault.target[1]) is None
            ):
                self.link(fault.target[0], fault.target[1], None)
        for name, share in shares.items():
            self.tenant(name, share)

    def link(self, a: str, b: str, spec: dict[str, Any] | None) -> None:
        """Shape the a-b link on both its ends (None: unshaped); their other links run on."""
        da, db = self.devices[a], self.devices[b]
        self._send(a, p.Shape({str(db.pk): spec}))
        self._send(b, p.Shape({str(da.pk): spec}))

    def spec_at(self, a: str, b: str, t: float) -> dict[str, Any] | None:
        """The link's configured spec as from ``t`` seconds into the run (steps shifted; None: unshaped)."""
        link = self.scenario.link(a, b)
        return None if link is None else {k: _from(v, t) for k, v in link.spec.items()}

    def inject(self, fault: Fault) -> None:
        now = time.time() - self._t0
        self.say(f"fault at {now:.2f} s: {fault.describe()}")
        done: dict[str, Any] = {"at": fault.at, "t": now, "fault": fault.describe(), "action": fault.action}
        try:
            self._inject(fault, fault.at)
        except FleetError as exc:
            done["error"] = str(exc)
            self.say(f"warning: {exc}")
        self._faults.append(done)

    def _inject(self, fault: Fault, t: float) -> None:
        action, a, b = fault.action, fault.target[0], fault.target[-1]  # a device, or a link's two ends
        if action in ("kill", "revive", "freeze", "thaw"):
            if self.fleet is None:
                raise FleetError(f"no fleet to {action} {a} with")
            getattr(self.fleet, action)(a)
        elif action == "overload":
            self.tenant(a, fault.share or 0.0)
        elif action == "cut":
            outage = fault.until(self.scenario.faults, self.scenario.duration_s + OUTAGE_S) - t
            self.link(a, b, cut_spec(self.spec_at(a, b, t) or {}, outage))
        elif action == "degrade":
            self.link(a, b, {**(self.spec_at(a, b, t) or {}), **fault.spec})
        else:  # restore
            self.link(a, b, self.spec_at(a, b, t))

    def cool_down(self, timeout: float = 90.0) -> None:
        limit = self.scenario.cooldown_c
        if limit is None:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            temps = [latest_metric(d, "temp.emulated") for d in self.devices.values()]
            if all(t is None or t <= limit for t in temps):
                return
            time.sleep(1.0)
        self.say(f"warning: the devices did not cool below {limit} C in {timeout:.0f} s")

    def _events(self) -> list[tuple[float, Callable[[], Any]]]:
        events: list[tuple[float, Callable[[], Any]]] = []
        for bg in self.scenario.background:
            if bg.share is not None:
                for t in bg.changes():
                    events.append((t, functools.partial(self.tenant, bg.device, bg.share_at(t))))
            elif bg.session is not None:
                events.append(
                    (float(bg.session.get("at", 0)), functools.partial(self._background_session, bg))
                )
        events += [(f.at, functools.partial(self.inject, f)) for f in self.scenario.faults]
        for user in self.scenario.users:
            for start, duration, rate in user.segments():
                events.append((start, functools.partial(self._user_session, user, duration, rate)))
        return sorted(events, key=lambda e: e[0])

    def _background_session(self, bg) -> Session | None:
        s = bg.session
        try:
            session = jobs.start_session(
                model=ensure_model(s["model"]),
                source=self.devices[s["source"]],
                strategy="split",
                params={"cut": 0, "device": str(self.devices[bg.device].pk)},
                rate=float(s["rate"]),
                duration_s=float(s["duration_s"]),
                base_url=self.base_url,
                candidates=[str(self.devices[s["source"]].pk), str(self.devices[bg.device].pk)],
            )
        except jobs.SubmitError as exc:
            self.say(f"warning: background session on {bg.device} refused: {exc}")
            return None
        self._background.append(session.pk)
        return session

    def _user_session(self, user, duration_s: float, rate: float) -> Session | None:
        """One segment of a user's stream (``UserSpec.segments``): a session of its own, all of it offloaded
        to the user's edge (``split`` at cut 0) or computed on its source (``local``)."""
        source = self.devices[user.source]
        if user.edge is None:
            strategy, params, candidates = "local", {}, [str(source.pk)]
        else:
            edge = self.devices[user.edge]
            strategy, params = "split", {"cut": 0, "device": str(edge.pk)}
            candidates = [str(source.pk), str(edge.pk)]
        try:
            session = jobs.start_session(
                model=ensure_model(user.model),
                source=source,
                strategy=strategy,
                params=params,
                rate=rate,
                duration_s=duration_s,
                deadline_s=user.deadline_s,
                priority=user.priority,
                sample=user.sample,
                max_in_flight=user.max_in_flight,
                base_url=self.base_url,
                candidates=candidates,
                dynamic=user.dynamic,
            )
        except jobs.SubmitError as exc:
            self.say(f"warning: user {user.name}'s session refused: {exc}")
            self._refused.append(user.name)
            return None
        self._background.append(session.pk)
        self._users.setdefault(user.name, []).append(session.pk)
        return session

    # --- one strategy --------------------------------------------------------------------------------

    def run_strategy(self, strategy: str, policy: str = "none") -> StrategyRun:
        sc = self.scenario
        self._background: list = []
        self._users: dict[str, list] = {}
        self._refused: list[str] = []
        self._faults: list[dict[str, Any]] = []
        self._t0 = time.time()
        if self.fleet is not None and self.fleet.dead():
            self.say(f"restarting {', '.join(self.fleet.dead())}")
            self.fleet.restart()
        self.cool_down()
        self.reset()
        self.shape()
        self.probe()
        session = jobs.start_session(
            model=self.model,
            source=self.devices[sc.session.source],
            strategy=strategy,
            params=self.params(strategy),
            candidates=[str(d.pk) for d in self.candidates()],
            codec=sc.session.codec,
            rate=sc.session.rate,
            frames=sc.session.frames,
            deadline_s=sc.session.deadline_s,
            base_url=self.base_url,
            failover=policy,
            sample=sc.session.sample,
            max_in_flight=sc.session.max_in_flight,
            battery_below=sc.session.battery_below if strategy == "adaptive" else None,
            priority=sc.session.priority,
            dynamic=sc.session.dynamic,
        )
        self.say(
            f"{sc.name}: {strategy} session {str(session.pk)[:8]} ({sc.session.frames} frames,"
            f" failover {policy})"
        )
        state = self._wait_state(session.pk, lambda st: st == "running" or st in TERMINAL, 120.0)
        t0 = self._t0 = time.time()
        if state != "running":  # never started (no worker? an agent gone?): report it as it is
            self.say(f"warning: the {strategy} session is {state or 'missing'}, not running")
            if state not in TERMINAL:
                jobs.stop_session(session.pk)
            return self._collect(session.pk, strategy, t0, policy)
        self.shape()  # traces restart now, as the stream starts
        events = self._events()
        end = time.monotonic() + sc.duration_s + 90.0
        while time.monotonic() < end:
            now = time.time() - t0
            while events and events[0][0] <= now:
                events.pop(0)[1]()
            state = Session.objects.filter(pk=session.pk).values_list("state", flat=True).first() or ""
            if state in TERMINAL:
                break
            time.sleep(0.05 if events else 0.2)
        self._wait_users(end)
        for pk in self._background:
            try:
                jobs.stop_session(pk)
            except Exception:  # already over
                pass
        if Session.objects.get(pk=session.pk).state not in TERMINAL:
            jobs.stop_session(session.pk)
            self._wait_state(session.pk, lambda st: st in TERMINAL, 30.0)
        return self._collect(session.pk, strategy, t0, policy)

    def _wait_users(self, end: float) -> None:
        """Let the users' sessions end on their own (a user may depart after the session's last frame): by
        their departure, plus the time their frames take, within the run's limit."""
        last = max((u.depart_s for u in self.scenario.users), default=0.0)
        limit = min(end, time.monotonic() + max(0.0, last - (time.time() - self._t0)) + 15.0)
        while self._users and time.monotonic() < limit:
            pks = [pk for pks in self._users.values() for pk in pks]
            if not Session.objects.filter(pk__in=pks).exclude(state__in=TERMINAL).exists():
                if time.time() - self._t0 >= last:
                    return
            time.sleep(0.2)

    def _wait_state(self, pk, ok: Callable[[str], bool], timeout: float) -> str:
        deadline = time.monotonic() + timeout
        state = ""
        while time.monotonic() < deadline:
            state = Session.objects.filter(pk=pk).values_list("state", flat=True).first() or ""
            if ok(state):
                return state
            time.sleep(0.05)
        return state

    def _collect(self, pk, strategy: str, t0: float, policy: str = "none") -> StrategyRun:
        session = Session.objects.select_related("model").get(pk=pk)
        # The source reports a frame's batch shortly after it ends: give the last batch a moment.
        deadline = time.monotonic() + 5.0
        while (
            time.monotonic() < deadline
            and Frame.objects.filter(session=session).count() < session.frames_sent
        ):
            time.sleep(0.1)
        rate = session.rate
        rows = Frame.objects.filter(session=session).values_list(
            "request_id",
            "ok",
            "latency_s",
            "trace",
            "resent",
            "output",
            "error",
            "arm",
            "config",
            "accuracy",
            "model__name",
        )
        own = (session.model.name, session.model.accuracy)
        frames = [
            {
                "request_id": r,
                "ok": ok,
                "latency_s": lat,
                "t": _emitted(r, lat, trace, rate, t0),
                "busy": _busy(trace),
                "resent": resent,
                "top": _top(output),
                "error": error,
                "arm": arm,  # an ans frame's cut (Frame.arm); None for other strategies
                "model": model or own[0],  # what answered it (a qoe-bandit's variant), or the session's
                **served(ok, config, accuracy, *own),
            }
            for r, ok, lat, trace, resent, output, error, arm, config, accuracy, model in rows
        ]
        failures = [
            {**f.to_dict(), "t": f.detected_at.timestamp() - t0}
            for f in Failure.objects.filter(session=session).select_related("switch")
        ]
        switches = [w.to_dict() for w in PlanSwitch.objects.filter(session=session)]
        # The prediction in force per frame: adaptive re-predicts its plan at every look, others plan once.
        predicted = [(0, session.predicted_latency_s or 0.0)]
        adaptation = session.adaptation or {}
        if adaptation.get("predictions"):
            predicted = [(0, adaptation.get("initial_predicted") or 0.0)]
            predicted += [(int(k), float(v)) for k, v in adaptation["predictions"]]
        telemetry = {}
        for name, device in self.devices.items():
            records = TelemetryRecord.objects.filter(device=device, ts__gte=_aware(t0)).order_by("ts")
            telemetry[name] = [(r.ts.timestamp() - t0, r.metrics) for r in records.only("ts", "metrics")]
        return StrategyRun(
            strategy,
            str(pk),
            session.state,
            session.reason,
            frames,
            switches,
            predicted,
            telemetry,
            session.frames_sent,
            session.plan or {},
            policy,
            list(self._faults),
            failures,
            dict((session.summary or {}).get("energy") or {}),
            dict(session.learning or {}),
            {u.name: user_frames(self._users.get(u.name, []), t0) for u in self.scenario.users},
        )

    def run(
        self, strategies: list[str] | None = None, policies: list[str] | None = None
    ) -> list[StrategyRun]:
        self.prepare()
        return [
            self.run_strategy(s, policy)
            for s in strategies or self.scenario.strategies
            for policy in policies or self.scenario.failover
        ]


def served(
    ok: bool, config: str | None, accuracy: float | None, model: str, own: float | None
) -> dict[str, Any]:
    """What served a frame: ``{config, accuracy}``, the configuration a dynamic session's answer records
    (``Frame.config``, ``Frame.accuracy``), else the session's model and its catalog accuracy; both None for a
    frame that was not answered."""
    if not ok:
        return {"config": None, "accuracy": None}
    return {"config": config or model, "accuracy": accuracy if config else own}


def user_frames(sessions: list, t0: float) -> list[dict[str, Any]]:
    """A user's frames over its sessions: ``{t, ok, latency_s, deadline_met, dropped, priority, top, config,
    accuracy}`` (``t``: when the frame's record was made, seconds since the run started; ``config`` and
    ``accuracy``: the configuration that served it and its measured accuracy, for a dynamic session's answers,
    else the model's own (its catalog accuracy) for an answer and None for the rest)."""
    rows = Frame.objects.filter(session_id__in=sessions).values_list(
        "ok",
        "latency_s",
        "deadline_met",
        "dropped",
        "priority",
        "output",
        "received_at",
        "config",
        "accuracy",
        "session__model__name",
        "session__model__accuracy",
    )
    return [
        {
            "ok": ok,
            "latency_s": lat,
            "deadline_met": met,
            "dropped": dropped,
            "priority": priority,
            "top": _top(output),
            "t": created.timestamp() - t0 if created else None,
            **served(ok, config, accuracy, model, own),
        }
        for ok, lat, met, dropped, priority, output, created, config, accuracy, model, own in rows
    ]


OUTAGE_S = 600.0  # a cut never restored outlasts the run by this much


def cut_spec(base: dict[str, Any], outage_s: float, steps: int = 100) -> dict[str, Any]:
    """The link cut for ``outage_s``: what is sent meanwhile arrives when it ends, in order (as TCP delivers
    after an outage): the RTT falls from the link's own + 2 x the outage left, in ``steps`` steps (the
    shaper prices a send by the RTT when it starts). Frames held past their timeout fail."""
    rtt = base.get("rtt_s", 0.0)
    rtt = float(rtt) if isinstance(rtt, int | float) else 0.0
    step = outage_s / steps
    trace = [[i * step, rtt + 2.0 * (outage_s - i * step)] for i in range(steps)]
    return {**base, "rtt_s": {"steps": [*trace, [outage_s, rtt]]}}


def _from(value: Any, t: float) -> Any:
    """A link field's trace as from ``t`` on: steps shifted back by ``t``; a constant as it is; a random
    walk starts again (its steps are not kept)."""
    if not (isinstance(value, dict) and "steps" in value):
        return value
    steps = sorted((float(at), v) for at, v in value["steps"])
    now = next((v for at, v in reversed(steps) if at <= t), steps[0][1])
    return {"steps": [[0.0, now], *([at - t, v] for at, v in steps if at > t)]}


def _top(output: Any) -> int | None:
    """The frame's top class (a classifier's answer), if its output says."""
    try:
        return int(output["top_k"][0][0])
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def _emitted(request_id: int, latency_s: float, trace: list, rate: float, t0: float) -> float:
    """When the source emitted the frame, in seconds since the run's conditions started: its last stage's end
    less its latency (the agents share this host's clock); on schedule when it has no trace. A frame held
    back by ``max_in_flight`` is emitted late, and meets the conditions of that later time."""
    if trace and trace[-1].get("end"):
        return max(0.0, float(trace[-1]["end"]) - latency_s - t0)
    return request_id / rate


def _busy(trace: list) -> dict[str, float]:
    """Per device, the seconds the frame computed there (what heats an emulated device)."""
    out: dict[str, float] = {}
    for entry in trace or []:
        device = str(entry.get("device") or "")
        out[device] = out.get(device, 0.0) + float(entry.get("compute_s") or 0.0)
    return out


def _aware(ts: float):
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC)
