"""The ``edgeorch-agent`` command line.

``edgeorch-agent enroll --server URL --token TOKEN [--name NAME] [--profile PROFILE] [--config PATH]``
    trades a one-time token for a credential and writes the config file (mode 0600). Exit 2 on failure.
``edgeorch-agent run [--config PATH] [--telemetry-interval S] [--dataplane-host H] [--dataplane-port P]``
    ``[--advertise-host H] [--advertise-port P] [--profile NAME] [--unit UNIT] [--links FILE]``
    ``[--background-load SHARE] [--serve-port P] [--serve-host H] [--serve-in-flight N] [--serve-queue N]``
    ``[--insecure-dataplane]``
    runs until SIGTERM/SIGINT (exit 0); exit 3 if the server revoked or does not recognise the device.
    ``--advertise-host``/``--advertise-port`` announce another data-plane address than the one bound (a
    device behind NAT or a port forward); peers that cannot reach it relay through the control plane.
    Emulation (docs/protocol.md, "Emulation"): ``--profile`` (default: the profile recorded at enrollment,
    where it names a shipped profile) makes the agent behave as that device; ``--links`` shapes its
    data-plane links; ``--background-load`` keeps a share of the device busy with a background tenant;
    ``--battery-wh WH [--battery-percent P]`` runs it on a battery its power model drains (docs/energy.md).
    ``--serve-port`` opens the inference endpoint (Open Inference Protocol v2, docs/serving.md) on
    ``--serve-host`` (default 127.0.0.1: applications on this device only; a wider address lets anyone who
    reaches it run the models this device serves, with no authentication).
    ``--insecure-dataplane`` sends and accepts data-plane frames unencrypted: for agents emulating a fleet on
    one host only, where encryption protects nothing and costs CPU (docs/deployment.md, "Data plane").

Environment: ``EDGEORCH_AGENT_CONFIG`` (config path), ``EDGEORCH_AGENT_TELEMETRY_INTERVAL`` (seconds;
overrides the server's interval, as does the flag), ``EDGEORCH_AGENT_INSECURE_DATAPLANE`` (``true``: as
``--insecure-dataplane``; ``false`` or unset: encrypted).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
import sys
from pathlib import Path

from edgeorch_wire.profiles import ProfileError, list_profiles, load_profile

from . import __version__
from .client import Agent, AgentOptions
from .collectors import (
    POWER_COLLECTORS,
    Collector,
    HwmonCollector,
    Sampler,
    ThermalCollector,
    ThrottleCollector,
    default_collectors,
)
from .config import AgentConfig, ConfigError, default_config_path, is_private, load_config, save_config
from .emulation.device import EmulatedDevice
from .emulation.links import LinkSpecError, LinkTable, load_links
from .enroll import EnrollError, enroll
from .inventory import collect_inventory

EXIT_USAGE = 2
INTERVAL_ENV = "EDGEORCH_AGENT_TELEMETRY_INTERVAL"
INSECURE_DATAPLANE_ENV = "EDGEORCH_AGENT_INSECURE_DATAPLANE"
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"", "0", "false", "no", "off"}
log = logging.getLogger("edgeorch_agent")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number of seconds")
    return value


def _watt_hours(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive capacity in Wh")
    return value


def _percent(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value <= 100.0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a charge in [0, 100] %")
    return value


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0 = any free port)")
    return int(text)


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a share of the time in [0, 1)")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="edgeorch-agent", description="The edgeorch device agent.")
    parser.add_argument("--version", action="version", version=f"edgeorch-agent {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    enroll_cmd = commands.add_parser("enroll", help="enroll this device with a one-time token")
    enroll_cmd.add_argument("--server", required=True, help="control plane URL, e.g. http://cp:8000")
    enroll_cmd.add_argument("--token", required=True, help="one-time enrollment token")
    enroll_cmd.add_argument("--name", default=None, help="device name (default: the hostname)")
    enroll_cmd.add_argument("--profile", default=None, help="device profile, e.g. jetson-nano")
    enroll_cmd.add_argument("--config", type=Path, default=None, help="where to write the config")

    run_cmd = commands.add_parser("run", help="run the agent until SIGTERM/SIGINT")
    run_cmd.add_argument("--config", type=Path, default=None, help="config file written by enroll")
    run_cmd.add_argument("--telemetry-interval", type=_positive_float, default=None, metavar="S")
    run_cmd.add_argument("--dataplane-host", default="0.0.0.0", metavar="H", help="listen address")
    run_cmd.add_argument("--dataplane-port", type=_port, default=0, metavar="P", help="0 = any free port")
    run_cmd.add_argument(
        "--advertise-host",
        default=None,
        metavar="H",
        help="data-plane host announced to peers (default: the listen address, or for a wildcard the address "
        "this device reaches the control plane from)",
    )
    run_cmd.add_argument(
        "--advertise-port",
        type=_port,
        default=0,
        metavar="P",
        help="data-plane port announced (0 = the bound one)",
    )
    run_cmd.add_argument(
        "--insecure-dataplane",
        action="store_true",
        help="data-plane frames unencrypted (emulating a fleet on one host only; peers must say so too)",
    )
    run_cmd.add_argument("--buffer-size", type=int, default=10_000, help="telemetry records kept unacked")
    serving = run_cmd.add_argument_group("serving (the inference endpoint)")
    serving.add_argument(
        "--serve-port", type=int, default=None, metavar="P", help="open the endpoint on this port (0: any)"
    )
    serving.add_argument(
        "--serve-host",
        default="127.0.0.1",
        metavar="H",
        help="endpoint listen address (default 127.0.0.1; it has no authentication: widen with care)",
    )
    serving.add_argument(
        "--serve-in-flight", type=int, default=8, metavar="N", help="requests per model in flight"
    )
    serving.add_argument("--serve-queue", type=int, default=64, metavar="N", help="requests per model queued")
    emulation = run_cmd.add_argument_group("emulation")
    emulation.add_argument(
        "--profile",
        default=None,
        metavar="NAME",
        help=f"behave as this device ({', '.join(list_profiles())}, or a profile .json file)",
    )
    emulation.add_argument("--unit", default=None, help="the profile's default unit (cpu, gpu, npu)")
    emulation.add_argument("--links", type=Path, default=None, metavar="FILE", help="emulated links (JSON)")
    emulation.add_argument(
        "--background-load", type=_share, default=0.0, metavar="SHARE", help="background tenant, 0..1"
    )
    emulation.add_argument(
        "--battery-wh",
        type=_watt_hours,
        default=None,
        metavar="WH",
        help="run on an emulated battery of this capacity, drained by the profile's power model",
    )
    emulation.add_argument(
        "--battery-percent", type=_percent, default=100.0, metavar="P", help="its charge at start (%%)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    # The websockets library logs every frame error too; our own lines already say what happened.
    logging.getLogger("websockets").setLevel(logging.WARNING)
    if args.command == "enroll":
        return cmd_enroll(args)
    return cmd_run(args, parser)


def cmd_enroll(args: argparse.Namespace) -> int:
    path = args.config or default_config_path()
    name = args.name or socket.gethostname()
    try:
        config = enroll(args.server, args.token, name, args.profile, collect_inventory())
        save_config(config, path)
    except EnrollError as exc:
        print(f"edgeorch-agent: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"edgeorch-agent: enrolled, but cannot write {path}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"enrolled as {config.name} ({config.device_id}); config written to {path}")
    return 0


def cmd_run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    path = args.config or default_config_path()
    try:
        config = load_config(path)
    except ConfigError as exc:
        print(f"edgeorch-agent: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not is_private(path):
        log.warning("%s is readable by other users; it holds this device's credential (chmod 600 it)", path)
    interval = args.telemetry_interval or _interval_from_env(parser)
    insecure = args.insecure_dataplane or _insecure_from_env(parser)
    if insecure:
        log.warning("the data plane is not encrypted (--insecure-dataplane): for agents on one host only")
    try:
        device = _device(args, config)
        links = LinkTable(load_links(args.links)) if args.links else None
    except (ProfileError, LinkSpecError) as exc:
        print(f"edgeorch-agent: {exc}", file=sys.stderr)
        return EXIT_USAGE
    options = AgentOptions(
        telemetry_interval=interval,
        dataplane_host=args.dataplane_host,
        dataplane_port=args.dataplane_port,
        advertise_host=args.advertise_host or None,
        advertise_port=args.advertise_port or None,
        insecure_dataplane=insecure,
        buffer_size=max(1, args.buffer_size),
        device=device,
        links=links,
        profile=args.profile.removesuffix(".json") if args.profile else None,
        serve_host=args.serve_host,
        serve_port=args.serve_port,
        serve_in_flight=max(1, args.serve_in_flight),
        serve_queue=max(0, args.serve_queue),
        spool_dir=path.with_name(f"{path.stem}.traces"),
        learning_dir=path.with_name(f"{path.stem}.learning"),
    )
    agent = Agent(config, Sampler(_collectors(device)), options)
    return asyncio.run(_run_until_signalled(agent))


def _device(args: argparse.Namespace, config: AgentConfig) -> EmulatedDevice | None:
    """The emulated device to behave as, or None to run as this host."""
    name = args.profile
    if name is None and config.profile:
        if config.profile in list_profiles():
            name = config.profile
        else:
            log.info(
                "profile %r recorded at enrollment is not a shipped profile: no emulation", config.profile
            )
    plain = not args.background_load and args.unit is None and args.battery_wh is None
    if name is None or (name == "host" and plain):
        return None  # the host as it is: nothing to emulate
    device = EmulatedDevice(load_profile(name), args.unit)
    log.info(
        "emulating %s: compute x%.2f on its %s, %s",
        device.profile.name,
        device.scale(),
        device.default_unit,
        "with a thermal model" if device.thermal else "no thermal model",
    )
    if args.background_load:
        device.set_background_load(args.background_load)
    if args.battery_wh is not None:
        device.set_battery(args.battery_wh, args.battery_percent)
    return device


def _collectors(device: EmulatedDevice | None) -> list[Collector]:
    collectors = default_collectors()
    if device is None:
        return collectors
    # The host's power meters and battery are not the emulated device's (its power.watts is the model's).
    collectors = [c for c in collectors if not isinstance(c, POWER_COLLECTORS)]
    if device.thermal is not None:
        # The host's temperatures and clocks are not the emulated device's: report the model's instead.
        host_thermal = (ThermalCollector, HwmonCollector, ThrottleCollector)
        collectors = [c for c in collectors if not isinstance(c, host_thermal)]
    return [*collectors, device]


def _interval_from_env(parser: argparse.ArgumentParser) -> float | None:
    raw = os.environ.get(INTERVAL_ENV)
    if not raw:
        return None
    try:
        return _positive_float(raw)
    except argparse.ArgumentTypeError as exc:
        parser.error(f"{INTERVAL_ENV}: {exc}")  # exits 2: a bad setting must fail loudly, not be ignored


def _insecure_from_env(parser: argparse.ArgumentParser) -> bool:
    raw = os.environ.get(INSECURE_DATAPLANE_ENV, "").strip().lower()
    if raw not in _TRUE | _FALSE:
        parser.error(f"{INSECURE_DATAPLANE_ENV}: {raw!r} is not true or false")  # exits 2
    return raw in _TRUE


async def _run_until_signalled(agent: Agent) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    code = await agent.run(stop)
    log.info("agent stopped (exit %d)", code)
    return code
