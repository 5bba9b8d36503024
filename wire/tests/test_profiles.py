"""Device profiles: shipped as data, loaded and checked against their declared schema, with errors that name
the field."""

from __future__ import annotations

import json

import pytest
from edgeorch_wire.profiles import ProfileError, list_profiles, load_profile, profile_from_dict

SHIPPED = {"host", "jetson-nano", "jetson-orin-nano", "rpi4", "edge-server"}


def test_the_wire_package_ships_the_five_profiles_and_each_one_loads():
    assert SHIPPED <= set(list_profiles())
    for name in SHIPPED:
        profile = load_profile(name)
        assert profile.name == name and profile.units and profile.speed > 0


def test_speeds_are_time_multipliers_relative_to_the_host():
    speeds = {name: load_profile(name).speed for name in SHIPPED}
    assert speeds["rpi4"] > speeds["jetson-nano"] > speeds["jetson-orin-nano"] > speeds["host"] == 1.0
    assert speeds["edge-server"] < 1.0
    for name in SHIPPED - {"host"}:
        assert "relative to the host" in load_profile(name).description


def test_every_emulated_device_has_power_and_a_thermal_model_but_the_host_has_neither():
    for name in SHIPPED - {"host"}:
        profile = load_profile(name)
        assert profile.power and profile.thermal and profile.memory_limit_bytes
        assert profile.thermal.throttle_at_c < profile.thermal.max_c
    host = load_profile("host")
    assert host.power is None and host.thermal is None and host.memory_limit_bytes is None


def test_an_unknown_profile_lists_the_known_ones():
    with pytest.raises(ProfileError, match="unknown device profile 'toaster'.*rpi4"):
        load_profile("toaster")


def test_a_profile_can_be_a_json_file(tmp_path):
    data = load_profile("rpi4").to_dict() | {"name": "my-pi", "speed": 8.0}
    path = tmp_path / "my-pi.json"
    path.write_text(json.dumps(data))
    assert load_profile(str(path)).speed == 8.0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"units": []}, "'units' must not be empty"),
        (
            {"units": [{"name": "tpu", "speed": 1, "shm_bandwidth_bps": 1}]},
            "units\\[0\\]: name must be one of 'cpu', 'gpu', 'npu', not 'tpu'",
        ),
        ({"speed": -1}, "speed must be a finite number > 0, not -1"),
        ({"class": "cloud"}, "class must be one of 'edge', 'end', not 'cloud'"),
        ({"power": {"idle_w": 5, "busy_w": 2}}, "power: 'busy_w' must be at least 'idle_w'"),
        ({"memory_limit_bytes": "4G"}, "'memory_limit_bytes' must be an integer, not str"),
        ({"memory_limit_bytes": 0}, "memory_limit_bytes must be positive"),
    ],
)
def test_a_malformed_profile_is_refused_with_the_field_named(change, message):
    data = load_profile("rpi4").to_dict() | change
    with pytest.raises(ProfileError, match=message):
        profile_from_dict(data, "bad.json")


def test_a_thermal_model_must_throttle_above_its_threshold_and_to_a_real_clock_fraction():
    thermal = load_profile("rpi4").to_dict()["thermal"]
    for change, message in (
        ({"max_c": 70.0}, "'max_c' must be above"),
        ({"clock_floor": 1.5}, "clock_floor must be in \\(0, 1\\]"),
    ):
        data = load_profile("rpi4").to_dict() | {"thermal": thermal | change}
        with pytest.raises(ProfileError, match=message):
            profile_from_dict(data)


def test_a_unit_the_device_lacks_is_a_clear_error():
    with pytest.raises(ProfileError, match="rpi4 has no gpu unit \\(it has cpu\\)"):
        load_profile("rpi4").unit("gpu")
    assert load_profile("jetson-nano").unit().name == "gpu"
