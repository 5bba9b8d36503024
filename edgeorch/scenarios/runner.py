"""Run a scenario: the fleet, then one session per strategy under the same conditions replayed from t=0.

Per strategy run: wait for the devices to cool (``cooldown_c``), set the links' t=0 conditions and probe
them (so every strategy plans from a measured network), start the session, and when it runs re-send the
links' specs (their traces restart at that moment, on both ends of each link) and from then on send each
device's background share (``tenant``) and background sessions at their times, through the same channel
layer path as jobs (``edgeorch.jobs.agents.send``). Frames are placed in time by their request id
(frame i enters at i / rate), so windows line up across strategies.
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
from edgeorch.jobs.models import Frame, Measurement, PlanSwitch, Session
from edgeorch.plans.measurements import latest_profile
from edgeorch.telemetry.models import TelemetryRecord
from edgeorch.telemetry.services import latest_metric

from .spec import Scenario

log = logging.getLogger(__name__)


@dataclass
class StrategyRun:
    strategy: str
    session_id: str
    state: str
    reason: str
    frames: list[dict[str, Any]]  # {request_id, ok, latency_s, t, busy: {device id: compute seconds}}
    switches: list[dict[str, Any]]
    predicted: list[tuple[int, float]]  # (from frame, predicted latency) as the plan in force changed
    telemetry: dict[str, list[tuple[float, dict]]] = field(default_factory=dict)  # device -> [(t, metrics)]
    frames_sent: int = 0
    plan: dict[str, Any] = field(default_factory=dict)  # the plan in force at the end


def ensure_model(name: str) -> MLModel:
    """The newest catalog model of that name, registered from the built-in zoo if needed."""
    model = MLModel.objects.filter(name=name).order_by("-pk").first()
    if model is not None:
        return model
    from edgeorch.catalog import services, zoo
    from edgeorch.catalog.choices import ModelSource

    directory = zoo.default_zoo_dir()
    built = next((m for m in zoo.build_zoo(directory) if m.name == name), None)
    if built is None:
        raise ValueError(f"no model {name!r} in the catalog or the zoo")
    return services.register_model(
        (directory / built.file).read_bytes(),
        name=built.name,
        version=built.version,
        task=built.task,
        source=ModelSource.BUILTIN,
    )


class Runner:
    def __init__(
        self, scenario: Scenario, devices: dict, *, base_url: str = "", say: Callable[[str], None] = print
    ):
        self.scenario = scenario
        self.devices = devices  # scenario name -> Device row
        self.base_url = base_url or settings.PUBLIC_URL
        self.say = say
        self.model = ensure_model(scenario.model)

    def candidates(self) -> list:
        """The devices the session (and the oracle) may plan on: the session's list, else every device."""
        names = self.scenario.session.candidates or tuple(self.devices)
        return [self.devices[n] for n in names]

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
        agents.send(self.devices[name], p.Tenant(min(max(share, 0.0), 0.99)))

    def reset(self) -> None:
        for bg in self.scenario.background:
            if bg.share is not None:
                self.tenant(bg.device, bg.share_at(0.0))

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

    # --- one strategy --------------------------------------------------------------------------------

    def run_strategy(self, strategy: str) -> StrategyRun:
        sc = self.scenario
        self._background: list = []
        self.cool_down()
        self.reset()
        self.shape()
        self.probe()
        session = jobs.start_session(
            model=self.model,
            source=self.devices[sc.session.source],
            strategy=strategy,
            candidates=[str(d.pk) for d in self.candidates()],
            codec=sc.session.codec,
            rate=sc.session.rate,
            frames=sc.session.frames,
            deadline_s=sc.session.deadline_s,
            base_url=self.base_url,
        )
        self.say(f"{sc.name}: {strategy} session {str(session.pk)[:8]} ({sc.session.frames} frames)")
        state = self._wait_state(session.pk, lambda st: st == "running" or st in TERMINAL, 120.0)
        t0 = time.time()
        if state != "running":  # never started (no worker? an agent gone?): report it as it is
            self.say(f"warning: the {strategy} session is {state or 'missing'}, not running")
            if state not in TERMINAL:
                jobs.stop_session(session.pk)
            return self._collect(session.pk, strategy, t0)
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
        for pk in self._background:
            try:
                jobs.stop_session(pk)
            except Exception:  # already over
                pass
        if Session.objects.get(pk=session.pk).state not in TERMINAL:
            jobs.stop_session(session.pk)
            self._wait_state(session.pk, lambda st: st in TERMINAL, 30.0)
        return self._collect(session.pk, strategy, t0)

    def _wait_state(self, pk, ok: Callable[[str], bool], timeout: float) -> str:
        deadline = time.monotonic() + timeout
        state = ""
        while time.monotonic() < deadline:
            state = Session.objects.filter(pk=pk).values_list("state", flat=True).first() or ""
            if ok(state):
                return state
            time.sleep(0.05)
        return state

    def _collect(self, pk, strategy: str, t0: float) -> StrategyRun:
        session = Session.objects.get(pk=pk)
        # The source reports a frame's batch shortly after it ends: give the last batch a moment.
        deadline = time.monotonic() + 5.0
        while (
            time.monotonic() < deadline
            and Frame.objects.filter(session=session).count() < session.frames_sent
        ):
            time.sleep(0.1)
        rate = session.rate
        rows = Frame.objects.filter(session=session).values_list("request_id", "ok", "latency_s", "trace")
        frames = [
            {
                "request_id": r,
                "ok": ok,
                "latency_s": lat,
                "t": _emitted(r, lat, trace, rate, t0),
                "busy": _busy(trace),
            }
            for r, ok, lat, trace in rows
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
        )

    def run(self, strategies: list[str] | None = None) -> list[StrategyRun]:
        self.prepare()
        return [self.run_strategy(s) for s in strategies or self.scenario.strategies]


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
