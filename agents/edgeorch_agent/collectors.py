"""Telemetry collectors: each reads one part of the system and returns the metrics it could read.

A collector is any object with ``collect() -> dict[str, float]``. A metric it cannot read (no such sensor,
file missing, a VM without cpufreq) is ABSENT from the result, never 0: a 0 would be a lie the planner
believes. Collectors take their system paths as constructor arguments (``proc="/proc"``, ``sys="/sys"``) so
tests run them on fixture trees.

Metric names (units in the name or below):

=========================== ==================================================================================
``cpu.percent``             CPU busy %, all cores, from /proc/stat deltas (absent on the first call)
``cpu.core<N>.percent``     the same per logical core N
``cpu.freq_mhz``            mean current frequency over cores (cpufreq ``scaling_cur_freq``)
``cpu.freq_max_mhz``        highest ``cpuinfo_max_freq`` over cores
``cpu.throttle_factor``     cpu0 ``cpuinfo_max_freq / scaling_cur_freq`` (>= 1.0; 2.0 = running at half speed)
``mem.total_bytes``         /proc/meminfo MemTotal
``mem.available_bytes``     /proc/meminfo MemAvailable
``mem.used_percent``        100 * (total - available) / total
``load.1m`` ``load.5m``     /proc/loadavg
``load.15m``
``temp.<type>``             °C per /sys/class/thermal zone; a repeated type gets ``_1``, ``_2``... suffixes
``temp.<chip>.<label>``     °C per psutil.sensors_temperatures() entry, where psutil has it
``net.rx_bytes``            bytes received, summed over non-loopback interfaces (/proc/net/dev counters)
``net.tx_bytes``            bytes sent, same
``net.rx_bps``              receive rate in BYTES per second since the previous call (absent on the first)
``net.tx_bps``              send rate in bytes per second, same
=========================== ==================================================================================

``Sampler`` runs a list of collectors; one that raises is logged (once per outage) and skipped, the others
still report.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

import psutil
from edgeorch_wire.protocol import MAX_METRIC_NAME, MAX_METRICS_PER_RECORD

log = logging.getLogger(__name__)


class Collector(Protocol):
    def collect(self) -> dict[str, float]: ...


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii", errors="replace")
    except OSError:  # absent, unreadable, or a sensor answering EIO/ENODATA: all mean "no value"
        return None


def _read_int(path: Path) -> int | None:
    text = _read(path)
    try:
        return int(text.strip()) if text is not None else None
    except ValueError:
        return None


def _clean(part: str) -> str:
    """A sensor or chip name made safe for a metric name."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", part.strip()).strip("_") or "unknown"


def _unique(name: str, taken: dict[str, float]) -> str:
    candidate, n = name, 0
    while candidate in taken:
        n += 1
        candidate = f"{name}_{n}"
    return candidate


# --- CPU ---------------------------------------------------------------------------------------------


def _parse_stat(text: str) -> dict[str, tuple[int, int]]:
    """``{"cpu": (busy, total), "cpu0": ...}`` in jiffies."""
    times = {}
    for line in text.splitlines():
        parts = line.split()
        if not parts or not parts[0].startswith("cpu"):
            continue
        # user nice system idle iowait irq softirq steal; guest time is already counted in user/nice.
        values = [int(v) for v in parts[1:9]]
        total = sum(values)
        idle = sum(values[3:5])
        times[parts[0]] = (total - idle, total)
    return times


def _cpu_metric(name: str) -> str:
    return "cpu.percent" if name == "cpu" else f"cpu.core{name[3:]}.percent"


class CpuCollector:
    """CPU busy % from /proc/stat deltas; the first call only records a baseline."""

    def __init__(self, proc: str = "/proc"):
        self._path = Path(proc) / "stat"
        self._last: dict[str, tuple[int, int]] = {}

    def collect(self) -> dict[str, float]:
        text = _read(self._path)
        if text is None:
            return {}
        now = _parse_stat(text)
        out = {}
        for name, (busy, total) in now.items():
            prev = self._last.get(name)
            if prev is not None and total > prev[1]:
                share = (busy - prev[0]) / (total - prev[1])
                out[_cpu_metric(name)] = round(100.0 * min(1.0, max(0.0, share)), 2)
        self._last = now
        return out


class CpuFreqCollector:
    """Current (mean over cores) and maximum CPU frequency from cpufreq; absent where there is no cpufreq."""

    def __init__(self, sys: str = "/sys"):
        self._base = Path(sys) / "devices" / "system" / "cpu"

    def _khz(self, filename: str) -> list[int]:
        values = (_read_int(p) for p in self._base.glob(f"cpu[0-9]*/cpufreq/{filename}"))
        return [v for v in values if v is not None and v > 0]

    def collect(self) -> dict[str, float]:
        out = {}
        current = self._khz("scaling_cur_freq")
        if current:
            out["cpu.freq_mhz"] = round(sum(current) / len(current) / 1000.0, 1)
        maximum = self._khz("cpuinfo_max_freq")
        if maximum:
            out["cpu.freq_max_mhz"] = max(maximum) / 1000.0
        return out


class ThrottleCollector:
    """How far below its maximum cpu0 runs (thermal or power capping shows up here first)."""

    def __init__(self, sys: str = "/sys"):
        self._dir = Path(sys) / "devices" / "system" / "cpu" / "cpu0" / "cpufreq"

    def collect(self) -> dict[str, float]:
        current = _read_int(self._dir / "scaling_cur_freq")
        maximum = _read_int(self._dir / "cpuinfo_max_freq")
        if not current or not maximum or current <= 0 or maximum <= 0:
            return {}
        # Turbo can push cur above the nominal max; that is not throttling, so the factor floors at 1.0.
        return {"cpu.throttle_factor": round(max(1.0, maximum / current), 3)}


# --- memory and load ---------------------------------------------------------------------------------


class MemoryCollector:
    def __init__(self, proc: str = "/proc"):
        self._path = Path(proc) / "meminfo"

    def collect(self) -> dict[str, float]:
        text = _read(self._path)
        if text is None:
            return {}
        kib = {}
        for line in text.splitlines():
            key, _, rest = line.partition(":")
            fields = rest.split()
            if fields and fields[0].isdigit():
                kib[key.strip()] = int(fields[0])
        out: dict[str, float] = {}
        if "MemTotal" in kib:
            out["mem.total_bytes"] = float(kib["MemTotal"] * 1024)
        if "MemAvailable" in kib:
            out["mem.available_bytes"] = float(kib["MemAvailable"] * 1024)
        if kib.get("MemTotal") and "MemAvailable" in kib:
            used = kib["MemTotal"] - kib["MemAvailable"]
            out["mem.used_percent"] = round(100.0 * used / kib["MemTotal"], 2)
        return out


class LoadCollector:
    def __init__(self, proc: str = "/proc"):
        self._path = Path(proc) / "loadavg"

    def collect(self) -> dict[str, float]:
        text = _read(self._path)
        if text is None:
            return {}
        try:
            one, five, fifteen = (float(v) for v in text.split()[:3])
        except ValueError:
            return {}
        return {"load.1m": one, "load.5m": five, "load.15m": fifteen}


# --- temperatures ------------------------------------------------------------------------------------


def _zone_index(path: Path) -> int:
    digits = path.name.removeprefix("thermal_zone")
    return int(digits) if digits.isdigit() else 1 << 30


class ThermalCollector:
    """°C per /sys/class/thermal zone, named by the zone's type (the kernel reports millidegrees)."""

    def __init__(self, sys: str = "/sys"):
        self._base = Path(sys) / "class" / "thermal"

    def collect(self) -> dict[str, float]:
        out: dict[str, float] = {}
        # Sorted by zone number so a repeated type gets the same suffix on every call.
        for zone in sorted(self._base.glob("thermal_zone*"), key=_zone_index):
            millideg = _read_int(zone / "temp")
            if millideg is None:
                continue
            kind = _read(zone / "type")
            name = _unique(f"temp.{_clean(kind or zone.name)}", out)
            out[name] = millideg / 1000.0
        return out


SensorsFn = Callable[[], dict[str, Iterable[Any]]]


class HwmonCollector:
    """°C from psutil.sensors_temperatures() (hwmon chips), where this platform's psutil offers it."""

    def __init__(self, sensors: SensorsFn | None = None):
        self._sensors = sensors if sensors is not None else getattr(psutil, "sensors_temperatures", None)

    def collect(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for chip, entries in (self._sensors() if self._sensors else {}).items():
            for index, entry in enumerate(entries):
                current = getattr(entry, "current", None)
                if not isinstance(current, (int, float)) or not math.isfinite(current):
                    continue
                label = getattr(entry, "label", "") or str(index)
                out[_unique(f"temp.{_clean(chip)}.{_clean(label)}", out)] = float(current)
        return out


# --- network -----------------------------------------------------------------------------------------


def _net_totals(text: str) -> tuple[int, int]:
    rx = tx = 0
    for line in text.splitlines():
        name, sep, rest = line.partition(":")
        fields = rest.split()
        if not sep or name.strip() == "lo" or len(fields) < 9 or not fields[0].isdigit():
            continue
        rx += int(fields[0])
        tx += int(fields[8])
    return rx, tx


class NetCollector:
    """Byte counters over non-loopback interfaces and their rates since the previous call."""

    def __init__(self, proc: str = "/proc", clock: Callable[[], float] = time.monotonic):
        self._path = Path(proc) / "net" / "dev"
        self._clock = clock
        self._last: tuple[float, int, int] | None = None

    def collect(self) -> dict[str, float]:
        text = _read(self._path)
        if text is None:
            return {}
        rx, tx = _net_totals(text)
        now = self._clock()
        out = {"net.rx_bytes": float(rx), "net.tx_bytes": float(tx)}
        if self._last is not None:
            then, last_rx, last_tx = self._last
            elapsed = now - then
            # A counter that went backwards (interface removed or reset) gives no honest rate this round.
            if elapsed > 0 and rx >= last_rx and tx >= last_tx:
                out["net.rx_bps"] = round((rx - last_rx) / elapsed, 1)
                out["net.tx_bps"] = round((tx - last_tx) / elapsed, 1)
        self._last = (now, rx, tx)
        return out


# --- running them ------------------------------------------------------------------------------------


def default_collectors(proc: str = "/proc", sys: str = "/sys") -> list[Collector]:
    return [
        CpuCollector(proc),
        CpuFreqCollector(sys),
        ThrottleCollector(sys),
        MemoryCollector(proc),
        LoadCollector(proc),
        ThermalCollector(sys),
        HwmonCollector(),
        NetCollector(proc),
    ]


def clean_metrics(metrics: dict[str, Any]) -> dict[str, float]:
    """Keep what the protocol accepts (finite numbers, short names, bounded count), so no batch is refused."""
    out: dict[str, float] = {}
    for name, value in metrics.items():
        if len(out) >= MAX_METRICS_PER_RECORD:
            break
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            continue
        if 0 < len(name) <= MAX_METRIC_NAME:
            out[name] = float(value)
    return out


class Sampler:
    """Runs every collector; one that raises never stops the others."""

    def __init__(self, collectors: Iterable[Collector]):
        self._collectors = list(collectors)
        self._failing: set[int] = set()

    def sample(self) -> dict[str, float]:
        metrics: dict[str, float] = {}
        for collector in self._collectors:
            try:
                metrics.update(collector.collect())
            except Exception:
                self._failed(collector)
            else:
                self._recovered(collector)
        return clean_metrics(metrics)

    def _failed(self, collector: Collector) -> None:
        # Logged once per outage: a broken sensor must not flood the log at 1 Hz.
        if id(collector) not in self._failing:
            self._failing.add(id(collector))
            log.warning(
                "collector %s failed; skipping it until it recovers", type(collector).__name__, exc_info=True
            )

    def _recovered(self, collector: Collector) -> None:
        if id(collector) in self._failing:
            self._failing.discard(id(collector))
            log.info("collector %s recovered", type(collector).__name__)
