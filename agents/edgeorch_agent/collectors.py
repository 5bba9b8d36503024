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
``power.rapl.<zone>_w``     W per Linux RAPL zone, from ``energy_uj`` deltas (absent on the first call)
``power.ina3221.<rail>_w``  W per Jetson INA3221 rail
``battery.percent``         charge % from psutil.sensors_battery(), where this platform has a battery
``battery.plugged``         1.0 on mains power, 0.0 on battery (absent where psutil cannot tell)
``qos.queued``              work waiting in the stage queues; ``qos.queued.<class>``: per class, while > 0
``qos.slack_s``             the least slack of queued work with a deadline (absent: none); ``qos.dropped``:
                            work dropped since the agent started (``executor.qos.QosCollector``, docs/qos.md)
=========================== ==================================================================================

Power. RAPL (``/sys/class/powercap/intel-rapl:*``): W = the ``energy_uj`` delta (µJ) over the time between
two calls; a counter that went backwards wrapped and is unwrapped with the zone's ``max_energy_range_uj``
(no range, no reading that round). ``<zone>`` is the zone's ``name`` (``package-0``, ``dram``, ``psys``), a
subzone's ``<parent>.<name>`` (``package-0.core``). Zones overlap (core is inside package, psys is the
platform): never sum them. Since Linux 5.10 ``energy_uj`` is readable by root only; unreadable means absent.
INA3221 has two kernel interfaces with two units: NVIDIA's L4T ``ina3221x`` IIO driver (JetPack 4) gives
``iio:device*/in_power<N>_input`` in MILLIWATTS, the rail in ``rail_name_<N>``; the mainline hwmon
``ina3221`` driver (JetPack 5+, Documentation/hwmon/ina3221.rst) has no power file, so a rail's power is
``in<N>_input`` (bus voltage, mV) times ``curr<N>_input`` (mA), named by ``in<N>_label``, channels 1-3 only
(in4-7 are shunt voltages) and not a disabled one (``in<N>_enable`` 0); a hwmon ``power<N>_input``, where a
driver has one, is MICROWATTS (Documentation/hwmon/sysfs-interface.rst). An emulated device reports none of
these (the host's meters are not its own): its ``power.watts`` comes from its thermal model.

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


# --- power and battery -----------------------------------------------------------------------------


def _rapl_zone_key(path: Path) -> tuple[int, ...]:
    # intel-rapl:0 before intel-rapl:0:0 before intel-rapl:1, so names and order are stable between calls.
    parts = path.name.split(":")[1:]
    return tuple(int(p) if p.isdigit() else 1 << 30 for p in parts)


class RaplCollector:
    """W per RAPL zone from ``energy_uj`` deltas; the first call (and a zone's first reading) only records."""

    def __init__(self, sys: str = "/sys", clock: Callable[[], float] = time.monotonic):
        self._base = Path(sys) / "class" / "powercap"
        self._clock = clock
        self._last: dict[str, tuple[float, int]] = {}  # metric -> (time, energy_uj)

    def _zones(self) -> list[tuple[str, Path]]:
        """``(metric, zone directory)`` in a stable order, a subzone named under its parent."""
        names: dict[str, str] = {}  # directory name -> name part
        taken: dict[str, float] = {}
        out: list[tuple[str, Path]] = []
        for zone in sorted(self._base.glob("intel-rapl:*"), key=_rapl_zone_key):
            own = _clean(_read(zone / "name") or zone.name)
            parent = zone.name.rpartition(":")[0]
            names[zone.name] = f"{names[parent]}.{own}" if parent in names else own
            metric = _unique(f"power.rapl.{names[zone.name]}_w", taken)
            taken[metric] = 0.0
            out.append((metric, zone))
        return out

    def collect(self) -> dict[str, float]:
        now = self._clock()
        out: dict[str, float] = {}
        seen: dict[str, tuple[float, int]] = {}
        for metric, zone in self._zones():
            energy = _read_int(zone / "energy_uj")
            if energy is None or energy < 0:
                continue
            seen[metric] = (now, energy)
            previous = self._last.get(metric)
            if previous is None:
                continue
            then, last_energy = previous
            delta = energy - last_energy
            if delta < 0:  # the counter wrapped at max_energy_range_uj
                span = _read_int(zone / "max_energy_range_uj")
                if not span or span <= 0:
                    continue
                delta += span
            elapsed = now - then
            if elapsed > 0 and delta >= 0:
                out[metric] = round(delta / 1e6 / elapsed, 3)
        self._last = seen
        return out


class Ina3221Collector:
    """W per Jetson INA3221 rail, from the L4T IIO driver (mW) or the mainline hwmon driver (mV x mA)."""

    def __init__(self, sys: str = "/sys"):
        self._drivers = Path(sys) / "bus" / "i2c" / "drivers"

    def collect(self) -> dict[str, float]:
        out: dict[str, float] = {}
        # L4T (JetPack 4): drivers/ina3221x/<bus-addr>/iio:device<N>/in_power<C>_input, in mW.
        for device in sorted(self._drivers.glob("ina3221*/*/iio:device*")):
            for power in sorted(device.glob("in_power*_input")):
                channel = power.name.removeprefix("in_power").removesuffix("_input")
                milliwatts = _read_int(power)
                if milliwatts is None or milliwatts < 0:
                    continue
                rail = _read(device / f"rail_name_{channel}") or f"{device.parent.name}_ch{channel}"
                out[_unique(f"power.ina3221.{_clean(rail)}_w", out)] = milliwatts / 1000.0
        # Mainline (JetPack 5+): drivers/ina3221/<bus-addr>/hwmon/hwmon<N>/; channels 1-3.
        for hwmon in sorted(self._drivers.glob("ina3221*/*/hwmon/hwmon*")):
            for number in (1, 2, 3):
                watts = self._hwmon_watts(hwmon, number)
                if watts is None:
                    continue
                label = _read(hwmon / f"in{number}_label") or f"{hwmon.parent.parent.name}_ch{number}"
                out[_unique(f"power.ina3221.{_clean(label)}_w", out)] = watts
        return out

    @staticmethod
    def _hwmon_watts(hwmon: Path, channel: int) -> float | None:
        microwatts = _read_int(hwmon / f"power{channel}_input")  # hwmon ABI: µW
        if microwatts is not None:
            return microwatts / 1e6 if microwatts >= 0 else None
        if (_read(hwmon / f"in{channel}_enable") or "1").strip() != "1":
            return None  # a disabled channel reads stale or zero values
        millivolts = _read_int(hwmon / f"in{channel}_input")
        milliamps = _read_int(hwmon / f"curr{channel}_input")
        if millivolts is None or milliamps is None:
            return None
        return round(millivolts * milliamps / 1e6, 4)


BatteryFn = Callable[[], Any]


class BatteryCollector:
    """Battery charge and whether mains power is plugged in, where psutil finds a battery."""

    def __init__(self, battery: BatteryFn | None = None):
        self._battery = battery if battery is not None else getattr(psutil, "sensors_battery", None)

    def collect(self) -> dict[str, float]:
        state = self._battery() if self._battery else None
        if state is None:
            return {}
        out: dict[str, float] = {}
        percent = getattr(state, "percent", None)
        if isinstance(percent, (int, float)) and not isinstance(percent, bool) and math.isfinite(percent):
            out["battery.percent"] = round(float(percent), 2)
        plugged = getattr(state, "power_plugged", None)
        if isinstance(plugged, bool):
            out["battery.plugged"] = 1.0 if plugged else 0.0
        return out


POWER_COLLECTORS = (RaplCollector, Ina3221Collector, BatteryCollector)


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
        RaplCollector(sys),
        Ina3221Collector(sys),
        BatteryCollector(),
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

    def add(self, collector: Collector) -> None:
        """One more collector (the agent's own: its stage queues' ``qos.*``, docs/qos.md)."""
        self._collectors.append(collector)

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
