"""Energy in the plans API: every plan and sweep row carries the source device's joules, consistently."""

from __future__ import annotations

import pytest

from edgeorch.devices.choices import DeviceRole

from .support import auth, make_device, profile_at_rate

pytestmark = pytest.mark.django_db


@pytest.fixture
def camera(db):
    """A Raspberry Pi 4-class camera: 2.7 W idle, 6.4 W busy (its profile's power model)."""
    return make_device("camera", DeviceRole.END_DEVICE, profile="rpi4")


@pytest.fixture
def server(db):
    return make_device("server", DeviceRole.EDGE, profile="edge-server")


@pytest.fixture
def profiled(convnet, camera, server):
    profile_at_rate(camera, convnet, 0.2)
    profile_at_rate(server, convnet, 50)
    return convnet


def post(client, user, url, body):
    return client.post(url, body, content_type="application/json", **auth(user))


def test_a_plan_carries_the_source_joules_per_stage_and_per_device(client, alice, profiled, camera, server):
    body = {"model": profiled.pk, "strategy": "device-edge", "source": str(camera.pk)}
    plan = post(client, alice, "/api/plans/", body).json()
    energy = plan["energy"]
    assert energy["device"] == str(camera.pk) and energy["total"] > 0
    assert energy["total"] == pytest.approx(energy["input"] + sum(s["energy"] for s in plan["stages"]))
    assert energy["total"] == pytest.approx(energy["compute"] + energy["radio"] + energy["idle"])
    own = next(d for d in energy["devices"] if d["device"] == str(camera.pk))
    assert own["total"] == pytest.approx(energy["total"]) and own["known"]
    devices = {d["id"]: d for d in plan["devices"]}
    assert devices[str(camera.pk)]["power"] == {"idle_w": 2.7, "busy_w": 6.4}
    assert {link["radio"] for link in plan["links"]} == {"wifi"}  # assumed: an end device takes part


def test_the_energy_strategy_is_listed_and_lte_changes_what_it_costs(client, alice, profiled, camera, server):
    names = [s["name"] for s in client.get("/api/strategies/", **auth(alice)).json()]
    assert "energy" in names

    def joules(radio):
        body = {"model": profiled.pk, "strategy": "offload", "source": str(camera.pk)}
        body["overrides"] = {"radio": radio, "bandwidth_bps": 10e6}
        return post(client, alice, "/api/plans/", body).json()["energy"]["radio"]

    assert joules("lte") > joules("wifi") > joules("ethernet") == 0.0
    body = {
        "model": profiled.pk,
        "strategy": "energy",
        "source": str(camera.pk),
        "overrides": {"radio": "lte"},
    }
    plan = post(client, alice, "/api/plans/", body).json()
    assert plan["strategy"] == "energy" and all(a["energy"] is not None for a in plan["alternatives"])


def test_a_bad_link_type_is_refused(client, alice, profiled, camera):
    body = {"model": profiled.pk, "source": str(camera.pk), "overrides": {"radio": "carrier-pigeon"}}
    response = post(client, alice, "/api/plans/", body)
    assert response.status_code == 400 and "carrier-pigeon" in str(response.json())


def test_every_sweep_row_carries_energy_and_the_cheapest_cut_is_named(
    client, alice, profiled, camera, server
):
    body = {"model": profiled.pk, "source": str(camera.pk), "edge": str(server.pk)}
    body["overrides"] = {"radio": "lte"}
    sweep = post(client, alice, "/api/plans/sweep/", body).json()
    for row in sweep["cuts"]:
        parts = row["energy_compute"] + row["energy_radio"] + row["energy_idle"]
        assert row["energy"] == pytest.approx(parts)
    n = len(sweep["cuts"]) - 1
    assert sweep["cuts"][n]["energy_radio"] == 0.0  # all local: nothing crosses the network
    assert sweep["best_energy"] == min(sweep["cuts"], key=lambda c: c["energy"])["cut"]


def test_a_runs_estimated_energy_prices_its_traced_compute_and_latency(camera, server):
    from edgeorch.plans.energy import run_energy

    plan = {"energy": {"total": 1.0, "radio": 0.2}}
    trace = [{"device": str(camera.pk), "compute_s": 0.1}, {"device": str(server.pk), "compute_s": 0.5}]
    energy = run_energy(plan, trace, 0.3, camera)
    # 2.7 W over the 0.3 s, 3.7 W more while it computed 0.1 s, and the planned radio
    assert energy["emulated_j"] == pytest.approx(2.7 * 0.3 + 3.7 * 0.1 + 0.2)
    assert energy["joules"] == energy["emulated_j"] and energy["basis"] == "estimated"
    assert energy["predicted_j"] == 1.0 and energy["how"].startswith("estimated")
    assert energy["measured_j"] is None  # the camera reports no power
    assert run_energy(plan, trace, 0.3, server)["emulated_j"] == pytest.approx(60 * 0.3 + 240 * 0.3 + 0.2)
    nothing = run_energy(None, [], None, camera)
    assert nothing["joules"] is None and nothing["basis"] is None and nothing["predicted_j"] is None
    assert run_energy(plan, [], None, camera)["basis"] == "predicted"


def power_sample(device, seq: int, ts: float, **metrics):
    from datetime import UTC, datetime

    from edgeorch.telemetry.models import TelemetryRecord

    when = datetime.fromtimestamp(ts, UTC)
    TelemetryRecord.objects.create(device=device, seq=seq, ts=when, received_at=when, metrics=metrics)


def test_a_run_on_a_device_with_a_power_meter_is_measured(camera):
    from edgeorch.plans.energy import mean_energy

    t0 = 1_700_000_000.0
    for k, watts in enumerate((4.0, 6.0, 5.0)):  # RAPL: psys is the platform, package-0.core inside it
        meters = {"power.rapl.psys_w": watts, "power.rapl.package-0.core_w": 1.0}
        power_sample(camera, k, t0 + k + 0.5, **meters)
    power_sample(camera, 9, t0 + 30, **{"power.rapl.psys_w": 99.0})  # long after the run: not its power
    frames = [([{"device": str(camera.pk), "start": t0 + k, "end": t0 + k + 0.2}], 0.2) for k in range(3)]
    energy = mean_energy({"energy": {"total": 1.0, "radio": 0.0}}, frames, camera)
    assert energy["basis"] == "measured" and energy["meter"] == "power.rapl.psys_w"
    assert energy["measured_w"] == pytest.approx(5.0)
    # 5 W over the 2.2 s from the first frame's start to the last one's end, for 3 frames
    assert energy["measured_j"] == pytest.approx(5.0 * 2.2 / 3) and energy["joules"] == energy["measured_j"]
    assert energy["emulated_j"] is not None  # the estimate stays beside it


def test_a_jetson_is_measured_at_its_board_input_rail(camera):
    from edgeorch.plans.power import device_watts

    rails = {"power.ina3221.VDD_IN_w": 7.5, "power.ina3221.VDD_CPU_GPU_CV_w": 3.0, "cpu.percent": 50}
    assert device_watts(rails) == (7.5, "power.ina3221.VDD_IN_w")
    assert device_watts({"power.ina3221.GPU_w": 2.0, "power.ina3221.CPU_w": 1.5})[0] == 3.5
    zones = {"power.rapl.package-0_w": 10.0, "power.rapl.package-0.core_w": 8.0, "power.rapl.dram_w": 2.0}
    assert device_watts(zones) == (12.0, "sum of power.rapl.* zones")  # subzones lie inside packages
    assert device_watts({"power.watts": 4.0}) is None  # an emulated device's thermal model: no meter


def test_multi_device_takes_an_energy_objective(client, alice, profiled, camera, server):
    body = {"model": profiled.pk, "strategy": "multi-device", "source": str(camera.pk)}
    body.update(params={"objective": "energy"}, overrides={"radio": "lte"})
    plan = post(client, alice, "/api/plans/", body).json()
    assert "objective: the source device's energy" in plan["notes"]
    cheapest = post(client, alice, "/api/plans/", {**body, "strategy": "energy", "params": {}}).json()
    assert plan["energy"]["total"] <= cheapest["energy"]["total"] + 1e-12  # any placement vs one cut
    body["params"] = {"objective": "battery"}
    assert post(client, alice, "/api/plans/", body).status_code == 400


@pytest.mark.parametrize("strategy", ["device-edge", "adaptive", "offload", "pipeline"])
def test_every_strategy_takes_the_objective_field(client, alice, profiled, camera, server, strategy):
    body = {"model": profiled.pk, "strategy": strategy, "source": str(camera.pk)}
    body["overrides"] = {"radio": "lte"}
    fastest = post(client, alice, "/api/plans/", body).json()
    frugal = post(client, alice, "/api/plans/", {**body, "objective": "energy"}).json()
    assert (fastest["objective"], frugal["objective"]) == ("latency", "energy")
    assert frugal["energy"]["total"] <= fastest["energy"]["total"] + 1e-12
    assert frugal["latency"] >= fastest["latency"] - 1e-12
    bounded = {**body, "objective": "energy_under_deadline", "deadline_ms": fastest["latency"] * 1e3}
    within = post(client, alice, "/api/plans/", bounded).json()
    assert within["objective"] == "energy_under_deadline" and within["deadline_met"]


def test_an_objective_given_twice_must_agree(client, alice, profiled, camera, server):
    body = {"model": profiled.pk, "source": str(camera.pk), "objective": "energy"}
    assert post(client, alice, "/api/plans/", {**body, "params": {"objective": "energy"}}).status_code == 200
    response = post(client, alice, "/api/plans/", {**body, "params": {"objective": "latency"}})
    assert response.status_code == 400 and "objective" in response.json()
    response = post(client, alice, "/api/plans/", {**body, "objective": "battery"})
    assert response.status_code == 400 and "objective" in response.json()


def test_an_energy_objective_needs_the_sources_power_model(client, alice, profiled, server):
    bare = make_device("bare", DeviceRole.END_DEVICE, profile="")
    profile_at_rate(bare, profiled, 0.2)
    body = {"model": profiled.pk, "source": str(bare.pk), "objective": "energy"}
    response = post(client, alice, "/api/plans/", body)
    assert response.status_code == 400 and "power model" in response.json()["detail"]


def test_the_strategies_say_their_default_objective(client, alice):
    strategies = {s["name"]: s for s in client.get("/api/strategies/", **auth(alice)).json()}
    assert strategies["energy"]["objective"] == "energy_under_deadline"
    assert strategies["device-edge"]["objective"] == "latency"
    assert strategies["multi-device"]["params"] == []  # objective is every strategy's, not a parameter


def test_a_sweep_names_the_cut_its_objective_picks(client, alice, profiled, camera, server):
    body = {"model": profiled.pk, "source": str(camera.pk), "edge": str(server.pk)}
    body["overrides"] = {"radio": "lte"}
    sweep = post(client, alice, "/api/plans/sweep/", body).json()
    assert sweep["objective"] == "latency" and sweep["chosen"] == sweep["best"]
    by_energy = post(client, alice, "/api/plans/sweep/", {**body, "objective": "energy"}).json()
    assert by_energy["chosen"] == by_energy["best_energy"]
    deadline = sweep["cuts"][sweep["best"]]["latency"] * 1e3
    bounded = {**body, "objective": "energy_under_deadline", "deadline_ms": deadline}
    within = post(client, alice, "/api/plans/sweep/", bounded).json()
    meeting = [c for c in within["cuts"] if c["latency"] is not None and c["latency"] * 1e3 <= deadline]
    assert within["chosen"] == min(meeting, key=lambda c: (c["energy"], c["latency"]))["cut"]


def test_a_device_with_a_power_meter_has_its_profiles_power_model_calibrated(
    client, alice, profiled, camera, server
):
    from edgeorch.plans.assembly import device_power

    t0 = 1_700_000_000.0
    for k, load in enumerate((0, 20, 50, 80, 100, 100)):  # the meter reads 1.2x what the rpi4 profile says
        watts = 1.2 * (2.7 + 3.7 * load / 100)
        power_sample(camera, k, t0 + k, **{"power.rapl.psys_w": watts, "cpu.percent": load})
    power = device_power(camera)
    assert (power.idle_w, power.busy_w) == (pytest.approx(3.24), pytest.approx(7.68))
    body = {"model": profiled.pk, "strategy": "local", "source": str(camera.pk)}
    plan = post(client, alice, "/api/plans/", body).json()
    assert any("power model x1.20 from power.rapl.psys_w (6 samples)" in n for n in plan["notes"])
    assert {d["id"]: d["power"] for d in plan["devices"]}[str(camera.pk)] == {
        "idle_w": pytest.approx(3.24),
        "busy_w": pytest.approx(7.68),
    }
    assert plan["energy"]["total"] == pytest.approx(7.68 * plan["stages"][0]["compute"])


def test_a_partial_meter_calibrates_nothing(camera):
    from edgeorch.plans.assembly import device_power

    for k in range(6):  # the processor's packages alone: not the whole device's power
        power_sample(camera, k, 1_700_000_000.0 + k, **{"power.rapl.package-0_w": 1.0, "cpu.percent": 50})
    power = device_power(camera)
    assert (power.idle_w, power.busy_w) == (2.7, 6.4)


def test_a_device_with_a_meter_but_no_power_model_gets_one_fitted(camera):
    from edgeorch.plans.assembly import device_power

    laptop = make_device("laptop", DeviceRole.END_DEVICE, profile="host")
    assert device_power(laptop) is None
    for k, load in enumerate((5, 10, 40, 60, 90, 95)):
        power_sample(laptop, k, 1_700_000_000.0 + k, **{"power.ina3221.VDD_IN_w": 4.0 + 6.0 * load / 100})
        power_sample(laptop, 100 + k, 1_700_000_000.5 + k, **{"cpu.percent": load})  # apart: not paired
    assert device_power(laptop) is None
    for k, load in enumerate((5, 10, 40, 60, 90, 95)):
        power_sample(
            laptop,
            200 + k,
            1_700_000_010.0 + k,
            **{"power.ina3221.VDD_IN_w": 4.0 + 6.0 * load / 100, "cpu.percent": load},
        )
    power = device_power(laptop)
    assert (power.idle_w, power.busy_w) == (pytest.approx(4.0), pytest.approx(10.0))
