"""Collectors read fixture trees built in tmp_path, never the host's /proc and /sys."""

from __future__ import annotations

from collections import namedtuple
from pathlib import Path

from edgeorch_agent.collectors import (
    BatteryCollector,
    CpuCollector,
    CpuFreqCollector,
    HwmonCollector,
    Ina3221Collector,
    LoadCollector,
    MemoryCollector,
    NetCollector,
    RaplCollector,
    Sampler,
    ThermalCollector,
    ThrottleCollector,
    clean_metrics,
    default_collectors,
)


def write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


STAT_1 = """cpu  100 0 100 800 0 0 0 0 0 0
cpu0 50 0 50 400 0 0 0 0 0 0
cpu1 50 0 50 400 0 0 0 0 0 0
intr 12345
"""
# +200 jiffies per core: cpu0 was busy for 100 of them (50%), cpu1 for 20 (10%, with 20 more in iowait).
STAT_2 = """cpu  220 0 100 1060 20 0 0 0 0 0
cpu0 150 0 50 500 0 0 0 0 0 0
cpu1 70 0 50 560 20 0 0 0 0 0
intr 12345
"""


def test_cpu_returns_nothing_on_the_first_call_and_percentages_from_deltas_after(tmp_path):
    write(tmp_path, "stat", STAT_1)
    cpu = CpuCollector(proc=str(tmp_path))
    assert cpu.collect() == {}
    write(tmp_path, "stat", STAT_2)
    assert cpu.collect() == {"cpu.percent": 30.0, "cpu.core0.percent": 50.0, "cpu.core1.percent": 10.0}


def test_cpu_without_proc_stat_reports_nothing(tmp_path):
    assert CpuCollector(proc=str(tmp_path)).collect() == {}


def add_cpufreq(sys_root: Path, core: int, cur_khz: int, max_khz: int) -> None:
    base = f"devices/system/cpu/cpu{core}/cpufreq"
    write(sys_root, f"{base}/scaling_cur_freq", f"{cur_khz}\n")
    write(sys_root, f"{base}/cpuinfo_max_freq", f"{max_khz}\n")


def test_cpu_frequency_is_the_mean_over_cores_in_mhz(tmp_path):
    add_cpufreq(tmp_path, 0, 1_000_000, 2_000_000)
    add_cpufreq(tmp_path, 1, 1_500_000, 2_000_000)
    assert CpuFreqCollector(sys=str(tmp_path)).collect() == {
        "cpu.freq_mhz": 1250.0,
        "cpu.freq_max_mhz": 2000.0,
    }


def test_cpu_frequency_and_throttling_are_absent_not_zero_without_cpufreq(tmp_path):
    (tmp_path / "devices/system/cpu/cpu0").mkdir(parents=True)  # a VM: cores, but no cpufreq
    assert CpuFreqCollector(sys=str(tmp_path)).collect() == {}
    assert ThrottleCollector(sys=str(tmp_path)).collect() == {}


def test_throttle_factor_is_max_over_current_frequency(tmp_path):
    add_cpufreq(tmp_path, 0, 600_000, 1_800_000)
    assert ThrottleCollector(sys=str(tmp_path)).collect() == {"cpu.throttle_factor": 3.0}


def test_throttle_factor_never_drops_below_one_when_turbo_runs_above_max(tmp_path):
    add_cpufreq(tmp_path, 0, 2_400_000, 2_000_000)
    assert ThrottleCollector(sys=str(tmp_path)).collect() == {"cpu.throttle_factor": 1.0}


def test_memory_comes_from_meminfo_in_bytes(tmp_path):
    write(tmp_path, "meminfo", "MemTotal:       4000 kB\nMemFree:        1000 kB\nMemAvailable:   3000 kB\n")
    assert MemoryCollector(proc=str(tmp_path)).collect() == {
        "mem.total_bytes": 4000 * 1024,
        "mem.available_bytes": 3000 * 1024,
        "mem.used_percent": 25.0,
    }


def test_memory_without_memavailable_has_no_used_percent(tmp_path):
    write(tmp_path, "meminfo", "MemTotal:       4000 kB\n")
    assert MemoryCollector(proc=str(tmp_path)).collect() == {"mem.total_bytes": 4000 * 1024}


def test_load_average_comes_from_loadavg(tmp_path):
    write(tmp_path, "loadavg", "0.50 0.25 0.10 1/234 5678\n")
    assert LoadCollector(proc=str(tmp_path)).collect() == {"load.1m": 0.5, "load.5m": 0.25, "load.15m": 0.1}


def test_thermal_zones_are_converted_to_celsius_and_duplicates_get_a_suffix(tmp_path):
    zones = {
        0: ("acpitz", "45000"),
        1: ("x86_pkg_temp", "52500"),
        2: ("acpitz", "47000"),
        10: ("gpu thermal", ""),
    }
    for index, (kind, temp) in zones.items():
        write(tmp_path, f"class/thermal/thermal_zone{index}/type", kind + "\n")
        write(tmp_path, f"class/thermal/thermal_zone{index}/temp", temp + "\n")
    assert ThermalCollector(sys=str(tmp_path)).collect() == {
        "temp.acpitz": 45.0,
        "temp.x86_pkg_temp": 52.5,
        "temp.acpitz_1": 47.0,
        # zone 10 has no readable temperature: absent, not 0
    }


def test_no_thermal_zones_means_no_temperatures(tmp_path):
    assert ThermalCollector(sys=str(tmp_path)).collect() == {}


Sensor = namedtuple("Sensor", "label current high critical")


def test_psutil_sensors_are_named_by_chip_and_label():
    sensors = {"coretemp": [Sensor("Package id 0", 55.0, 80, 100), Sensor("", 50.0, None, None)]}
    assert HwmonCollector(sensors=lambda: sensors).collect() == {
        "temp.coretemp.Package_id_0": 55.0,
        "temp.coretemp.1": 50.0,
    }


def test_psutil_without_sensors_reports_nothing():
    assert HwmonCollector(sensors=lambda: {}).collect() == {}


NET_DEV = (
    "Inter-|   Receive                                                |  Transmit\n"
    " face |bytes    packets errs drop fifo frame compressed multicast"
    "|bytes    packets errs drop fifo colls carrier compressed\n"
    "    lo: {lo} 10 0 0 0 0 0 0 {lo} 10 0 0 0 0 0 0\n"
    "  eth0: {rx} 10 0 0 0 0 0 0 {tx} 10 0 0 0 0 0 0\n"
    " wlan0: 500 10 0 0 0 0 0 0 700 10 0 0 0 0 0 0\n"
)


def test_network_bytes_skip_loopback_and_rates_come_from_deltas(tmp_path):
    clock = iter([100.0, 102.0])
    net = NetCollector(proc=str(tmp_path), clock=lambda: next(clock))
    write(tmp_path, "net/dev", NET_DEV.format(lo=999_999, rx=1000, tx=2000))
    assert net.collect() == {"net.rx_bytes": 1500.0, "net.tx_bytes": 2700.0}
    write(tmp_path, "net/dev", NET_DEV.format(lo=999_999, rx=3000, tx=2400))
    assert net.collect() == {
        "net.rx_bytes": 3500.0,
        "net.tx_bytes": 3100.0,
        "net.rx_bps": 1000.0,
        "net.tx_bps": 200.0,
    }


# --- power and battery -----------------------------------------------------------------------------


def add_rapl(sys_root: Path, zone: str, name: str, energy_uj: int, max_uj: int = 262_143_328_850) -> None:
    base = f"class/powercap/{zone}"
    write(sys_root, f"{base}/name", f"{name}\n")
    write(sys_root, f"{base}/energy_uj", f"{energy_uj}\n")
    write(sys_root, f"{base}/max_energy_range_uj", f"{max_uj}\n")


def test_rapl_power_is_the_energy_delta_over_time_per_zone_and_subzone(tmp_path):
    clock = iter([10.0, 12.0])
    rapl = RaplCollector(sys=str(tmp_path), clock=lambda: next(clock))
    write(tmp_path, "class/powercap/intel-rapl/enabled", "1\n")  # the control type: no energy, no metric
    add_rapl(tmp_path, "intel-rapl:0", "package-0", 1_000_000)
    add_rapl(tmp_path, "intel-rapl:0:0", "core", 500_000)
    add_rapl(tmp_path, "intel-rapl:1", "psys", 7_000_000)
    assert rapl.collect() == {}  # a baseline only
    add_rapl(tmp_path, "intel-rapl:0", "package-0", 31_000_000)  # 30 J in 2 s
    add_rapl(tmp_path, "intel-rapl:0:0", "core", 20_500_000)  # 20 J
    add_rapl(tmp_path, "intel-rapl:1", "psys", 87_000_000)  # 80 J
    assert rapl.collect() == {
        "power.rapl.package-0_w": 15.0,
        "power.rapl.package-0.core_w": 10.0,
        "power.rapl.psys_w": 40.0,
    }


def test_rapl_unwraps_a_counter_that_wrapped_at_its_max_energy_range(tmp_path):
    clock = iter([0.0, 1.0, 2.0])
    rapl = RaplCollector(sys=str(tmp_path), clock=lambda: next(clock))
    add_rapl(tmp_path, "intel-rapl:0", "package-0", 995_000_000, max_uj=1_000_000_000)
    assert rapl.collect() == {}
    # 5 J to the wrap point, then 7 J more: 12 J in 1 s, not a negative or huge power.
    add_rapl(tmp_path, "intel-rapl:0", "package-0", 7_000_000, max_uj=1_000_000_000)
    assert rapl.collect() == {"power.rapl.package-0_w": 12.0}
    add_rapl(tmp_path, "intel-rapl:0", "package-0", 10_000_000, max_uj=1_000_000_000)
    assert rapl.collect() == {"power.rapl.package-0_w": 3.0}


def test_rapl_reports_nothing_for_a_wrap_without_a_known_range_or_when_absent(tmp_path):
    clock = iter([0.0, 1.0])
    rapl = RaplCollector(sys=str(tmp_path), clock=lambda: next(clock))
    write(tmp_path, "class/powercap/intel-rapl:0/name", "package-0\n")
    write(tmp_path, "class/powercap/intel-rapl:0/energy_uj", "900\n")
    assert rapl.collect() == {}
    write(tmp_path, "class/powercap/intel-rapl:0/energy_uj", "100\n")
    assert rapl.collect() == {}
    assert RaplCollector(sys=str(tmp_path / "nothing")).collect() == {}


def test_rapl_an_unreadable_energy_counter_is_absent_not_zero(tmp_path):
    clock = iter([0.0, 1.0])
    rapl = RaplCollector(sys=str(tmp_path), clock=lambda: next(clock))
    # Linux >= 5.10 makes energy_uj root-only; a directory in its place reads as an error just the same.
    write(tmp_path, "class/powercap/intel-rapl:0/name", "package-0\n")
    (tmp_path / "class/powercap/intel-rapl:0/energy_uj").mkdir()
    assert rapl.collect() == {}
    assert rapl.collect() == {}


def test_ina3221_l4t_iio_rails_are_milliwatts(tmp_path):
    base = "bus/i2c/drivers/ina3221x/1-0040/iio:device0"
    write(tmp_path, f"{base}/rail_name_0", "VDD_IN\n")
    write(tmp_path, f"{base}/in_power0_input", "4836\n")
    write(tmp_path, f"{base}/rail_name_1", "VDD_CPU\n")
    write(tmp_path, f"{base}/in_power1_input", "1234\n")
    write(tmp_path, f"{base}/in_current1_input", "287\n")  # mA: not a power, not reported
    assert Ina3221Collector(sys=str(tmp_path)).collect() == {
        "power.ina3221.VDD_IN_w": 4.836,
        "power.ina3221.VDD_CPU_w": 1.234,
    }


def test_ina3221_mainline_hwmon_power_is_bus_millivolts_times_milliamps(tmp_path):
    base = "bus/i2c/drivers/ina3221/1-0040/hwmon/hwmon3"
    write(tmp_path, f"{base}/in1_label", "VDD_IN\n")
    write(tmp_path, f"{base}/in1_input", "5000\n")  # mV
    write(tmp_path, f"{base}/curr1_input", "1200\n")  # mA -> 6 W
    write(tmp_path, f"{base}/in2_label", "VDD_CPU_GPU_CV\n")
    write(tmp_path, f"{base}/in2_input", "5000\n")
    write(tmp_path, f"{base}/curr2_input", "300\n")  # 1.5 W
    write(tmp_path, f"{base}/in3_label", "VDD_SOC\n")
    write(tmp_path, f"{base}/in3_enable", "0\n")  # disabled: absent
    write(tmp_path, f"{base}/in3_input", "0\n")
    write(tmp_path, f"{base}/curr3_input", "0\n")
    write(tmp_path, f"{base}/in4_input", "12000\n")  # shunt µV of channel 1: not a rail
    assert Ina3221Collector(sys=str(tmp_path)).collect() == {
        "power.ina3221.VDD_IN_w": 6.0,
        "power.ina3221.VDD_CPU_GPU_CV_w": 1.5,
    }


def test_ina3221_a_hwmon_power_file_is_microwatts(tmp_path):
    base = "bus/i2c/drivers/ina3221/1-0041/hwmon/hwmon0"
    write(tmp_path, f"{base}/in1_label", "VDD_GPU\n")
    write(tmp_path, f"{base}/power1_input", "2500000\n")  # µW
    write(tmp_path, f"{base}/in1_input", "5000\n")
    write(tmp_path, f"{base}/curr1_input", "1\n")
    assert Ina3221Collector(sys=str(tmp_path)).collect() == {"power.ina3221.VDD_GPU_w": 2.5}


def test_ina3221_absent_reports_nothing(tmp_path):
    assert Ina3221Collector(sys=str(tmp_path)).collect() == {}
    write(tmp_path, "bus/i2c/drivers/ina3221/1-0040/hwmon/hwmon0/in1_label", "VDD_IN\n")  # no readings
    assert Ina3221Collector(sys=str(tmp_path)).collect() == {}


Battery = namedtuple("Battery", "percent secsleft power_plugged")


def test_battery_percent_and_plugged_where_psutil_has_a_battery():
    assert BatteryCollector(lambda: Battery(81.5, 3600, False)).collect() == {
        "battery.percent": 81.5,
        "battery.plugged": 0.0,
    }
    assert BatteryCollector(lambda: Battery(100, -2, True)).collect() == {
        "battery.percent": 100.0,
        "battery.plugged": 1.0,
    }
    # psutil: power_plugged None when it cannot tell.
    assert BatteryCollector(lambda: Battery(40.0, 100, None)).collect() == {"battery.percent": 40.0}


def test_no_battery_reports_nothing():
    assert BatteryCollector(lambda: None).collect() == {}


def test_the_default_collectors_include_power_and_battery_and_report_no_power_on_an_empty_tree(tmp_path):
    collectors = default_collectors(proc=str(tmp_path), sys=str(tmp_path))
    assert {RaplCollector, Ina3221Collector, BatteryCollector} <= {type(c) for c in collectors}
    sysfs = [c for c in collectors if isinstance(c, (RaplCollector, Ina3221Collector))]
    sampler = Sampler(sysfs)
    assert sampler.sample() == {}
    assert sampler.sample() == {}


class Broken:
    def collect(self) -> dict[str, float]:
        raise RuntimeError("sensor on fire")


class Fixed:
    def collect(self) -> dict[str, float]:
        return {"ok.value": 1.0}


def test_one_failing_collector_does_not_stop_the_others_and_is_logged_once(caplog):
    sampler = Sampler([Broken(), Fixed()])
    assert sampler.sample() == {"ok.value": 1.0}
    assert sampler.sample() == {"ok.value": 1.0}
    assert sum("Broken failed" in r.getMessage() for r in caplog.records) == 1


def test_metrics_the_protocol_would_refuse_are_dropped():
    metrics = {"fine": 1, "nan": float("nan"), "inf": float("inf"), "flag": True, "x" * 65: 2.0}
    assert clean_metrics(metrics) == {"fine": 1.0}


def test_an_emulated_device_reports_no_host_power_or_battery():
    from edgeorch_agent.cli import _collectors
    from edgeorch_agent.emulation.device import EmulatedDevice
    from edgeorch_wire.profiles import load_profile

    kinds = {type(c) for c in _collectors(EmulatedDevice(load_profile("rpi4")))}
    assert not kinds & {RaplCollector, Ina3221Collector, BatteryCollector}
    assert {RaplCollector, Ina3221Collector, BatteryCollector} <= {type(c) for c in _collectors(None)}
