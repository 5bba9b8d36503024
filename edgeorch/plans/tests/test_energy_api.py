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


def test_a_runs_emulated_energy_prices_its_traced_compute_and_latency(camera, server):
    from edgeorch.plans.energy import run_energy

    plan = {"energy": {"total": 1.0, "radio": 0.2}}
    trace = [{"device": str(camera.pk), "compute_s": 0.1}, {"device": str(server.pk), "compute_s": 0.5}]
    energy = run_energy(plan, trace, 0.3, camera)
    # 2.7 W over the 0.3 s, 3.7 W more while it computed 0.1 s, and the planned radio
    assert energy["emulated_j"] == pytest.approx(2.7 * 0.3 + 3.7 * 0.1 + 0.2)
    assert energy["predicted_j"] == 1.0 and energy["how"].startswith("emulated")
    assert run_energy(plan, trace, 0.3, server)["emulated_j"] == pytest.approx(60 * 0.3 + 240 * 0.3 + 0.2)
    assert run_energy(None, [], None, camera) == {
        "predicted_j": None,
        "emulated_j": None,
        "how": energy["how"],
    }


def test_multi_device_takes_an_energy_objective(client, alice, profiled, camera, server):
    body = {"model": profiled.pk, "strategy": "multi-device", "source": str(camera.pk)}
    body.update(params={"objective": "energy"}, overrides={"radio": "lte"})
    plan = post(client, alice, "/api/plans/", body).json()
    assert "objective: the source device's energy" in plan["notes"]
    cheapest = post(client, alice, "/api/plans/", {**body, "strategy": "energy", "params": {}}).json()
    assert plan["energy"]["total"] <= cheapest["energy"]["total"] + 1e-12  # any placement vs one cut
    body["params"] = {"objective": "battery"}
    assert post(client, alice, "/api/plans/", body).status_code == 400
