"""``manage.py run_scenario FILE [--report PATH] [--fleet-only]``: run a scenario (docs/scenarios.md)."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from edgeorch.jobs.choices import Failover
from edgeorch.scenarios import report as reports
from edgeorch.scenarios.fleet import Fleet, FleetError
from edgeorch.scenarios.runner import Runner
from edgeorch.scenarios.spec import ScenarioError, load


class Command(BaseCommand):
    help = "Start a scenario's agents (or use running ones), run its strategies and write a report."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--report", help="write the JSON report here (and a .md beside it)")
        parser.add_argument("--server", default="", help="how agents reach the server (default PUBLIC_URL)")
        parser.add_argument(
            "--run-dir", default="", help="agent configs, logs and pid files (default var/run)"
        )
        parser.add_argument("--strategies", default="", help="comma-separated, instead of the file's list")
        parser.add_argument(
            "--failover", default="", help="comma-separated failover policies, instead of the file's list"
        )
        parser.add_argument("--fleet-only", action="store_true", help="start the agents, leave them running")
        parser.add_argument("--keep-fleet", action="store_true", help="leave agents started here running")

    def handle(self, *args, **opts):
        try:
            scenario = load(opts["file"])
        except ScenarioError as exc:
            raise CommandError(str(exc)) from None
        server = opts["server"] or settings.PUBLIC_URL
        run_dir = Path(opts["run_dir"] or Path(settings.RUN_DIR) / "run")
        fleet = Fleet(scenario, server, run_dir)
        try:
            devices = fleet.start()
        except FleetError as exc:
            fleet.stop()
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"fleet of {scenario.name}: " + ", ".join(f"{n} ({d.pk})" for n, d in devices.items())
        )
        for name, device in devices.items():
            device.refresh_from_db(fields=["serve_host", "serve_port"])
            if device.serve_port:
                endpoint = f"http://{device.serve_host}:{device.serve_port}/v2"
                self.stdout.write(f"{name} serves inference at {endpoint} (docs/serving.md)")
        if opts["fleet_only"]:
            return
        try:
            runner = Runner(scenario, devices, base_url=server, say=self.stdout.write, fleet=fleet)
            strategies = [s for s in opts["strategies"].split(",") if s] or None
            policies = [s for s in opts["failover"].split(",") if s] or None
            if policies and not set(policies) <= set(Failover.values):
                raise CommandError(f"--failover: policies are {', '.join(Failover.values)}")
            runs = runner.run(strategies, policies)
            report = reports.build(runner, runs)
        finally:
            if not opts["keep_fleet"]:
                fleet.stop()
        self.stdout.write(reports.markdown(report))
        if opts["report"]:
            path = Path(opts["report"])
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(report, indent=2, default=str))
            path.with_suffix(".md").write_text(reports.markdown(report))
