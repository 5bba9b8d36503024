"""A scenario's fleet: its devices as enrolled, running agents (started here, or already running by name)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from edgeorch.devices import services as device_services
from edgeorch.devices.choices import DeviceRole, DeviceStatus
from edgeorch.devices.models import Device

from .spec import Scenario

BIN = Path(sys.executable).parent
ROLES = {"end": DeviceRole.END_DEVICE, "edge": DeviceRole.EDGE}


class FleetError(RuntimeError):
    """An agent could not be enrolled or did not come online."""


class Fleet:
    """Devices by scenario name. ``start`` uses an online device of the same name, else enrolls (once: the
    config is kept in ``run_dir/agents``) and starts an agent emulating the scenario's profile (its pid in
    ``run_dir/agent-NAME.pid``, its log in ``run_dir/logs``, as ``make demo`` lays them out). ``stop`` ends
    only the agents started here. A scenario's faults ``kill`` an agent started here (SIGKILL, as a power
    cut) and ``revive`` it, or ``freeze`` it (SIGSTOP) and ``thaw`` it; ``restart`` brings back every killed
    or frozen one, so each run starts with the full fleet."""

    def __init__(
        self, scenario: Scenario, server_url: str, run_dir: Path, *, telemetry_interval: float = 0.5
    ):
        self.scenario = scenario
        self.server_url = server_url.rstrip("/")
        self.run_dir = Path(run_dir)
        self.telemetry_interval = telemetry_interval
        self.devices: dict[str, Device] = {}
        self.started: dict[str, subprocess.Popen] = {}
        self.frozen: set[str] = set()

    def start(self, timeout: float = 60.0) -> dict[str, Device]:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        for spec in self.scenario.devices:
            if self._live(spec.name) is None:
                self._launch(spec)
        deadline = time.monotonic() + timeout
        for spec in self.scenario.devices:
            self.devices[spec.name] = self._wait_online(spec.name, deadline)
        return self.devices

    def _launch(self, spec) -> None:
        config = self.run_dir / "agents" / f"{spec.name}.json"
        config.parent.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "logs").mkdir(parents=True, exist_ok=True)
        if (
            config.exists()
            and not Device.objects.filter(pk=json.loads(config.read_text())["device_id"]).exists()
        ):
            config.unlink()  # enrolled against another database
        if not config.exists():
            _, token = device_services.create_enrollment_token(
                name=f"scenario {spec.name}", role=ROLES[spec.role]
            )
            cmd = [
                str(BIN / "edgeorch-agent"),
                "enroll",
                "--server",
                self.server_url,
                "--token",
                token,
                "--name",
                spec.name,
                "--config",
                str(config),
                *([] if spec.profile.endswith(".json") else ["--profile", spec.profile]),
            ]
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
            if done.returncode != 0:
                raise FleetError(
                    f"enrolling {spec.name} failed: {done.stderr.strip() or done.stdout.strip()}"
                )
        # The row keeps the profile it enrolled with; the agent now runs as the scenario's (re-planning reads
        # the profile's thermal model from the row). A path longer than the field stays unrecorded.
        running_as = spec.profile.removesuffix(".json")
        if len(running_as) <= (Device._meta.get_field("profile").max_length or 0):
            device_id = json.loads(config.read_text())["device_id"]
            Device.objects.filter(pk=device_id).update(profile=running_as)
        log = open(self.run_dir / "logs" / f"agent-{spec.name}.log", "ab")
        env = {**os.environ, "EDGEORCH_AGENT_TELEMETRY_INTERVAL": str(self.telemetry_interval)}
        cmd = [str(BIN / "edgeorch-agent"), "run", "--config", str(config), "--profile", spec.profile]
        if spec.serve_port is not None:
            cmd += ["--serve-port", str(spec.serve_port)]
        if spec.battery is not None:
            cmd += ["--battery-wh", str(spec.battery[0]), "--battery-percent", str(spec.battery[1])]
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        (self.run_dir / f"agent-{spec.name}.pid").write_text(str(proc.pid))
        self.started[spec.name] = proc

    @staticmethod
    def _live(name: str) -> Device | None:
        """An online device of that name heard from within the liveness timeout (a row left online by a
        server that stopped abruptly is not an agent)."""
        recent = timezone.now() - timedelta(seconds=settings.LIVENESS_TIMEOUT_S)
        return (
            Device.objects.filter(
                name=name, status=DeviceStatus.ONLINE, dataplane_port__isnull=False, last_seen__gte=recent
            )
            .exclude(channel_name="")
            .first()
        )

    def _wait_online(self, name: str, deadline: float) -> Device:
        while time.monotonic() < deadline:
            proc = self.started.get(name)
            if proc is not None and proc.poll() is not None:
                raise FleetError(f"the agent of {name} exited with {proc.returncode} (see {self.run_dir})")
            device = self._live(name)
            if device is not None:
                return device
            time.sleep(0.2)
        raise FleetError(f"{name} did not come online (agent log in {self.run_dir})")

    def kill(self, name: str) -> None:
        """SIGKILL the agent's process group: no goodbye on its websocket, its data plane gone at once."""
        proc = self.started.get(name)
        if proc is None:
            raise FleetError(f"{name}'s agent was not started by this fleet: it cannot be killed from here")
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def revive(self, name: str) -> None:
        """Start a killed agent again (same config, same device); it comes online in its own time."""
        proc = self.started.get(name)
        if proc is not None and proc.poll() is None:
            return
        self._launch(self.scenario.device(name))

    def freeze(self, name: str) -> None:
        """SIGSTOP the agent's process group: it hangs, its sockets stay open and it says nothing (a frozen
        host, a wedged process); ``thaw`` lets it go on."""
        self._signal(name, signal.SIGSTOP, "frozen")
        self.frozen.add(name)

    def thaw(self, name: str) -> None:
        if name in self.frozen:
            self._signal(name, signal.SIGCONT, "thawed")
            self.frozen.discard(name)

    def _signal(self, name: str, sig: int, what: str) -> None:
        proc = self.started.get(name)
        if proc is None:
            raise FleetError(f"{name}'s agent was not started by this fleet: it cannot be {what} from here")
        if proc.poll() is None:
            os.killpg(proc.pid, sig)

    def dead(self) -> list[str]:
        return [name for name, proc in self.started.items() if proc.poll() is not None]

    def restart(self, timeout: float = 60.0) -> None:
        """Thaw every frozen agent, revive every killed one and wait until each is online again."""
        thawed = sorted(self.frozen)
        for name in thawed:
            self.thaw(name)
        dead = self.dead()
        for name in dead:
            self.revive(name)
        deadline = time.monotonic() + timeout
        for name in [*dead, *thawed]:
            self.devices[name] = self._wait_online(name, deadline)

    def stop(self) -> None:
        for name in list(self.frozen):
            self.thaw(name)
        for name, proc in self.started.items():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
            (self.run_dir / f"agent-{name}.pid").unlink(missing_ok=True)
        self.started.clear()
