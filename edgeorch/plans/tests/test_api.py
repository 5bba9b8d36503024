"""The plans API on PostgreSQL: strategies, what-if plans and sweeps, sources of block times, refusals."""

from __future__ import annotations

import pytest

from edgeorch.plans import assembly, measurements

from .support import auth, profile_at_rate

pytestmark = pytest.mark.django_db


def post(client, user, url, body):
    return client.post(url, body, content_type="application/json", **auth(user))


def what_if(client, user, **body):
    return post(client, user, "/api/plans/", body)


def sweep(client, user, **body):
    return post(client, user, "/api/plans/sweep/", body)


@pytest.fixture
def profiled(convnet, phone, edge):
    """The phone runs at 0.2 GMAC/s, the edge at 50: offloading pays when the network is fast."""
    profile_at_rate(phone, convnet, 0.2)
    profile_at_rate(edge, convnet, 50)
    return convnet


def ids(*devices):
    return [str(d.pk) for d in devices]


def test_the_strategies_are_listed_with_their_descriptions_and_parameters(client, bob):
    response = client.get("/api/strategies/", **auth(bob))
    assert response.status_code == 200
    strategies = {s["name"]: s for s in response.json()}
    assert {"local", "offload", "split", "device-edge", "multi-device", "pipeline"} <= set(strategies)
    assert all(s["description"] for s in strategies.values())
    assert strategies["split"]["params"] == ["cut", "device"]
    # Each parameter with its type, default, choices and what it does: the learners' too, composable.
    for s in strategies.values():
        assert [p["name"] for p in s["parameters"]] == s["params"]
        assert all(
            p["type"] in ("int", "float", "bool", "str", "device", "devices") and p["help"]
            for p in s["parameters"]
        )
    ans = {p["name"]: p for p in strategies["ans"]["parameters"]}
    assert (ans["k"]["type"], ans["k"]["default"], ans["edge"]["type"]) == ("int", 0, "device")
    assert (ans["prune"]["type"], ans["prune"]["default"]) == ("bool", True)
    assert (ans["beside"]["type"], ans["beside"]["default"]) == ("bool", True)
    assert strategies["ans"]["objectives"] == ["latency"]
    qoe = {p["name"]: p for p in strategies["qoe-bandit"]["parameters"]}
    assert set(qoe) == {
        "split",
        "window",
        "w_accuracy",
        "w_latency",
        "w_energy",
        "latency_ref_s",
        "k",
        "edge",
        "prune",
        "beside",
    }
    assert "ans" in qoe["split"]["choices"] and qoe["split"]["default"] == "device-edge"
    assert qoe["window"] == {**qoe["window"], "type": "int", "default": 10}


def test_a_parameter_name_means_one_type_in_every_strategy():
    """plans.services converts a request's parameters by name (JSON gives "3" as readily as 3)."""
    from edgeorch.planning import STRATEGIES

    types: dict[str, set] = {}
    for info in STRATEGIES.values():
        for param in info.params:
            types.setdefault(param.name, set()).add(param.type)
    assert all(len(t) == 1 for t in types.values()), types


def test_the_registrys_split_choices_are_the_ones_qoe_bandit_plans():
    from edgeorch.planning import STRATEGIES
    from edgeorch.planning.strategies import qoe_bandit

    split = next(p for p in STRATEGIES["qoe-bandit"].params if p.name == "split")
    assert split.choices == qoe_bandit.SPLITS and all(c in STRATEGIES for c in split.choices)


def test_a_what_if_plan_has_a_latency_equal_to_the_sum_of_its_breakdown(client, alice, profiled, phone, edge):
    response = what_if(client, alice, model=profiled.pk, strategy="device-edge", source=str(phone.pk))
    assert response.status_code == 200, response.content
    plan = response.json()
    stages = sum(s["queue"] + s["compute"] + s["transfer"] for s in plan["stages"])
    assert plan["latency"] == pytest.approx(plan["input_transfer"] + stages)
    assert plan["throughput"] == pytest.approx(1 / plan["latency"])
    assert plan["alternatives"] and {d["id"] for d in plan["devices"]} == set(ids(phone, edge))
    assert plan["model"] == {"id": profiled.pk, "name": "convnet", "version": "1"}


def test_a_fast_network_offloads_more_and_a_slow_one_keeps_more_local(client, alice, profiled, phone, edge):
    def best_cut(bandwidth_bps):
        overrides = {"bandwidth_bps": bandwidth_bps, "rtt_ms": 1}
        body = sweep(
            client, alice, model=profiled.pk, source=str(phone.pk), edge=str(edge.pk), overrides=overrides
        )
        assert body.status_code == 200, body.content
        return body.json()["best"]

    fast, slow = best_cut(1e9), best_cut(1e6)
    assert fast < slow
    assert fast == 0 and slow == len(profiled.blocks)  # full offload at 1 Gbit/s, all local at 1 Mbit/s

    def devices_used(bandwidth_bps):
        overrides = {"bandwidth_bps": bandwidth_bps}
        plan = what_if(
            client,
            alice,
            model=profiled.pk,
            strategy="device-edge",
            source=str(phone.pk),
            overrides=overrides,
        )
        return {s["device"] for s in plan.json()["stages"]}

    assert devices_used(1e9) == {str(edge.pk)}
    assert devices_used(1e6) == {str(phone.pk)}


def test_the_sweep_breaks_every_cut_into_device_compute_transfer_and_edge_compute(
    client, alice, profiled, phone, edge
):
    body = sweep(client, alice, model=profiled.pk, source=str(phone.pk), edge=str(edge.pk)).json()
    n = len(profiled.blocks)
    assert [c["cut"] for c in body["cuts"]] == list(range(n + 1))
    for c in body["cuts"]:
        parts = c["device_compute"] + c["transfer"] + c["queue"] + c["edge_compute"]
        assert c["latency"] == pytest.approx(parts)
    assert body["cuts"][0]["device_compute"] == 0 and body["cuts"][n]["edge_compute"] == 0
    assert body["cuts"][0]["label"] == "offload" and body["cuts"][1]["cut_point"] == 0
    assert body["best"] == min(body["cuts"], key=lambda c: c["latency"])["cut"]


def test_an_offline_device_is_never_used(client, alice, profiled, phone, edge, dead_edge):
    profile_at_rate(dead_edge, profiled, 500)  # ten times faster than edge1, but offline
    for strategy in ("multi-device", "offload", "device-edge", "pipeline"):
        response = what_if(
            client,
            alice,
            model=profiled.pk,
            strategy=strategy,
            source=str(phone.pk),
            devices=ids(phone, edge, dead_edge),
            overrides={"bandwidth_bps": 1e9},
        )
        assert response.status_code == 200, response.content
        assert str(dead_edge.pk) not in {s["device"] for s in response.json()["stages"]}, strategy
    refused = what_if(
        client,
        alice,
        model=profiled.pk,
        strategy="split",
        source=str(phone.pk),
        params={"cut": 2, "device": str(dead_edge.pk)},
    )
    assert refused.status_code == 400 and "offline" in refused.json()["detail"]


def test_by_default_every_online_device_is_considered(client, alice, profiled, phone, edge, dead_edge):
    plan = what_if(client, alice, model=profiled.pk, source=str(phone.pk)).json()
    assert {d["id"] for d in plan["devices"]} == set(ids(phone, edge))


def test_measured_profile_times_are_preferred_over_predictions(client, alice, register, phone, edge):
    from .support import make_device

    others = [register(f"other{c}", channels=c, size=32) for c in (8, 12, 16)]
    for model in others:  # enough phone-class samples for a regression
        profile_at_rate(phone, model, 0.2)
        profile_at_rate(edge, model, 50)
    target = register("target", channels=24, size=32)
    blocks = [{"block": i, "median_s": 0.007, "p90_s": 0.008} for i in range(len(target.blocks))]
    measurements.record_profile(phone, target, blocks, {"cpu.throttle_factor": 1.0})
    twin = make_device("phone-twin", phone.role, profile="phone")  # same class, never profiled

    plan = what_if(
        client, alice, model=target.pk, strategy="local", source=str(phone.pk), devices=ids(phone, edge, twin)
    ).json()
    sources = {d["name"]: d["times"] for d in plan["devices"]}
    assert sources == {"phone": "measured", "edge1": "predicted", "phone-twin": "predicted"}
    assert plan["stages"][0]["compute"] == pytest.approx(0.007 * len(target.blocks))
    assert any(n.startswith("phone: block times measured") for n in plan["notes"])
    assert any(n.startswith("edge1: block times predicted") for n in plan["notes"])


def test_with_no_profiles_at_all_times_are_estimated_and_links_assumed(client, alice, convnet, phone, edge):
    plan = what_if(client, alice, model=convnet.pk, strategy="device-edge", source=str(phone.pk)).json()
    assert {d["times"] for d in plan["devices"]} == {"estimated"}
    assert any("EDGEORCH_DEFAULT_GMACS" in n for n in plan["notes"])
    assert any(n.startswith("assumed link 100 Mbit/s, 5 ms") for n in plan["notes"])
    assert plan["links"][0]["source"] == "assumed"


def test_a_device_profiled_only_on_other_models_is_estimated_at_its_measured_rate(
    convnet, register, phone, edge
):
    small = register("small", channels=8, size=32)
    profile_at_rate(phone, small, 0.5, overhead_s=0)
    planned = {d["name"]: d for d in assembly.assemble(convnet, [edge], phone).devices}
    assert planned["phone"]["times"] == "estimated" and "0.50 GMAC/s measured" in planned["phone"]["detail"]


def test_a_measured_link_is_used_and_an_override_wins_over_it(convnet, phone, edge):
    measurements.record_link(phone, edge, 20e6, 0.030)
    measurements.record_link(phone, None, 1e6, 0.1)  # to the control plane: not a link between devices
    links = assembly.assemble(convnet, [edge], phone).links
    assert [(lk["bandwidth_bps"], lk["rtt_ms"], lk["source"]) for lk in links] == [(20e6, 30.0, "measured")]
    over = {"links": [{"a": str(edge.pk), "b": str(phone.pk), "bandwidth_bps": 5e6}]}
    links = assembly.assemble(convnet, [edge], phone, overrides=over).links
    assert [(lk["bandwidth_bps"], lk["rtt_ms"], lk["source"]) for lk in links] == [
        (5e6, 30.0, "measured, bandwidth overridden")
    ]


def test_throttling_scales_compute_and_a_queue_adds_waiting(client, alice, profiled, phone, edge):
    def local(**overrides):
        body = what_if(
            client, alice, model=profiled.pk, strategy="local", source=str(phone.pk), overrides=overrides
        )
        return body.json()["stages"][0]

    base = local()
    assert local(throttle={str(phone.pk): 2.0})["compute"] == pytest.approx(2 * base["compute"])
    queued = local(queue={str(phone.pk): 3})
    assert queued["queue"] == pytest.approx(3 * base["compute"]) and queued["compute"] == base["compute"]


def test_a_profile_measured_while_throttled_is_scaled_to_full_speed(convnet, phone):
    from edgeorch.plans import timing

    cool = profile_at_rate(phone, convnet, 0.2)
    profile_at_rate(phone, convnet, 0.1, thermal={"cpu.throttle_factor": 2.0})  # the latest: half speed, hot
    times = timing.block_times(phone, convnet, lambda: None).seconds
    assert times == pytest.approx([t - 5e-6 for t in cool.median_s])  # the overhead was halved too


def test_the_latest_telemetry_throttle_factor_is_applied(convnet, phone, edge):
    from django.utils import timezone

    from edgeorch.telemetry.models import TelemetryRecord

    now = timezone.now()
    TelemetryRecord.objects.create(
        device=phone, seq=1, ts=now, received_at=now, metrics={"cpu.throttle_factor": 1.5}
    )
    planned = {d["name"]: d for d in assembly.assemble(convnet, [edge], phone).devices}
    assert planned["phone"]["throttle"] == 1.5 and planned["edge1"]["throttle"] == 1.0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"model": 999999}, "no model '999999' in the catalog"),
        ({"strategy": "teleport"}, "unknown strategy 'teleport'"),
        ({"source": "00000000-0000-0000-0000-000000000000"}, "no device '00000000-"),
        ({"devices": ["00000000-0000-0000-0000-000000000000"]}, "no device '00000000-"),
        ({"overrides": {"bandwidth_bps": -5}}, "greater than or equal to 1"),
        ({"overrides": {"rtt_ms": -1}}, "greater than or equal to 0"),
        ({"overrides": {"throttle": {"x": 0.5}}}, "greater than or equal to 1"),
        ({"overrides": {"queue": {"00000000-0000-0000-0000-000000000000": 2}}}, "not in this plan"),
        ({"strategy": "split", "params": {"cut": "many", "device": "x"}}, "'cut' has a bad value"),
        ({"strategy": "split", "params": {"cut": 99}}, "split: "),
        ({"strategy": "ans", "params": {"prune": "yes"}}, "'prune' has a bad value"),
        ({"strategy": "ans", "params": {"beside": 2}}, "'beside' has a bad value"),
        ({"strategy": "local", "params": {"k": 2}}, "local takes no parameter k"),
    ],
    ids=[
        "model",
        "strategy",
        "source",
        "device",
        "bandwidth",
        "rtt",
        "throttle",
        "queue-device",
        "param-type",
        "param-missing",
        "param-bool",
        "param-bool-beside",
        "param-unknown",
    ],
)
def test_bad_input_is_refused_with_a_message(client, alice, convnet, phone, edge, change, message):
    body = {"model": convnet.pk, "strategy": "device-edge", "source": str(phone.pk), **change}
    response = what_if(client, alice, **body)
    assert response.status_code == 400
    assert message in str(response.json())


def test_a_sweep_refuses_the_same_device_as_source_and_edge(client, alice, convnet, phone):
    response = sweep(client, alice, model=convnet.pk, source=str(phone.pk), edge=str(phone.pk))
    assert response.status_code == 400 and "must differ" in response.json()["detail"]


def test_bob_the_viewer_may_ask_what_ifs(client, bob, profiled, phone, edge):
    assert what_if(client, bob, model=profiled.pk, source=str(phone.pk)).status_code == 200
    assert sweep(client, bob, model=profiled.pk, source=str(phone.pk), edge=str(edge.pk)).status_code == 200


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/api/strategies/"),
        ("post", "/api/plans/"),
        ("post", "/api/plans/sweep/"),
        ("get", "/api/plans/predictor/"),
    ],
)
def test_charlie_without_credentials_is_refused(client, method, url):
    response = getattr(client, method)(url)
    assert response.status_code in (401, 403)


def test_a_never_measured_device_of_a_known_class_is_estimated_at_that_class_speed(client, alice, convnet):
    from .support import make_device

    pi = make_device("pi", "end", profile="rpi4")  # its shipped profile: 6x this host's time
    plain = make_device("plain", "end")  # no class: the default rate as is

    def local_compute(device):
        plan = what_if(
            client, alice, model=convnet.pk, strategy="local", source=str(device.pk), devices=[str(device.pk)]
        ).json()
        return plan["stages"][0]["compute"], plan["notes"]

    (pi_s, notes), (plain_s, _) = local_compute(pi), local_compute(plain)
    assert pi_s == pytest.approx(6 * plain_s)
    assert any("relative speed of its device class 'rpi4'" in n for n in notes)
