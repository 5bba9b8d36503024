"""Scenario files: every shipped one loads; mistakes are refused with the field named."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgeorch.scenarios.spec import ScenarioError, load, parse

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = sorted((ROOT / "scenarios").rglob("*.yaml"))  # the fault scenarios in scenarios/faults/ too


def minimal(**changes) -> dict:
    data = {
        "model": "mobilenetv2",
        "devices": [
            {"name": "cam", "role": "end", "profile": "rpi4"},
            {"name": "edge", "role": "edge", "profile": "edge-server"},
        ],
        "links": [
            {"between": ["cam", "edge"], "bandwidth_bps": {"steps": [[0, 1e8], [10, 4e6]]}, "rtt_s": 0.004}
        ],
        "session": {"source": "cam", "rate": 4, "duration_s": 10},
    }
    data.update(changes)
    return data


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_scenario_loads(path):
    scenario = load(path)
    assert scenario.session.frames >= 1 and scenario.strategies


def test_the_five_scenarios_the_issue_asks_for_are_shipped():
    names = {p.stem for p in SHIPPED}
    assert {"steady", "bandwidth-collapse", "overheating", "edge-contention", "three-node-pipeline"} <= names
    assert "default" in names


def test_the_bandwidth_random_walk_scenario_replays_its_seeded_walk_one_value_per_window():
    scenario = load(ROOT / "scenarios" / "bandwidth-random-walk.yaml")
    link = scenario.link("cam", "edge")
    walk = link.spec["bandwidth_bps"]["random_walk"]
    assert walk["seed"] == 6 and walk["step_s"] == scenario.window_s
    per_window = [link.value("bandwidth_bps", (w + 0.5) * scenario.window_s) for w in range(8)]
    # The same values as the scenario's description says (what the agents replay from the same seed).
    assert [round(v / 1e6) for v in per_window] == [60, 77, 15, 3, 6, 57, 57, 3]
    # Constant within a window: the oracle's conditions at a window's middle hold for all of it.
    assert all(link.value("bandwidth_bps", w * 4 + 0.01) == v for w, v in enumerate(per_window))
    assert all(walk["min"] <= v <= walk["max"] for v in per_window)
    assert scenario.params["ans"] == {"edge": "edge"} and "adaptive" in scenario.strategies


def test_a_random_walk_link_is_checked_naming_the_field():
    bad = {"random_walk": {"start": 5e7, "min": 1e8, "max": 1e6, "sigma": 1e6}}
    with pytest.raises(ScenarioError, match="links\\[0\\].bandwidth_bps.random_walk"):
        parse(minimal(links=[{"between": ["cam", "edge"], "bandwidth_bps": bad}]))
    missing = {"random_walk": {"start": 5e7, "min": 1e6, "max": 1e8}}
    with pytest.raises(ScenarioError, match="needs 'sigma'"):
        parse(minimal(links=[{"between": ["cam", "edge"], "bandwidth_bps": missing}]))


def test_a_link_trace_gives_the_configured_value_at_each_time():
    scenario = parse(minimal())
    link = scenario.link("edge", "cam")
    assert link.value("bandwidth_bps", 5) == 1e8 and link.value("bandwidth_bps", 12) == 4e6
    assert link.value("loss", 3) == 0.0
    assert scenario.session.frames == 40 and scenario.duration_s == 10


def test_a_csv_trace_is_read_beside_the_file_and_sent_as_steps(tmp_path):
    (tmp_path / "bw.csv").write_text("time,bandwidth\n0,1e8\n5,2e6\n")
    data = minimal(links=[{"between": ["cam", "edge"], "bandwidth_bps": {"csv": "bw.csv"}}])
    path = tmp_path / "s.yaml"
    import yaml

    path.write_text(yaml.safe_dump(data))
    link = load(path).links[0]
    assert link.spec["bandwidth_bps"] == {"steps": [[0.0, 1e8], [5.0, 2e6]]}


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"model": None}, "field 'model' must be a string, not null"),
        ({"devices": []}, "field 'devices' must not be empty"),
        ({"devices": [{"name": "cam", "profile": "rpi4"}, {"name": "cam", "profile": "rpi4"}]}, "unique"),
        (
            {"devices": [{"name": "cam", "role": "cloud", "profile": "rpi4"}]},
            "devices[0]: role must be one of 'edge', 'end', not 'cloud'",
        ),
        ({"devices": [{"name": "cam", "profile": "toaster"}]}, "devices[0].profile"),
        ({"links": [{"between": ["cam", "nas"]}]}, "unknown device 'nas'"),
        (
            {"links": [{"between": ["cam", "edge"], "bandwidth_bps": {"steps": "fast"}}]},
            "links[0].bandwidth_bps",
        ),
        (
            {"links": [{"between": ["cam", "edge"], "bandwith_bps": 1}]},
            "links[0]: unknown field 'bandwith_bps'",
        ),
        ({"background": [{"device": "edge", "share": 1.5}]}, "share must be in [0, 1)"),
        ({"background": [{"device": "edge"}]}, "either share"),
        (
            {
                "background": [
                    {
                        "device": "edge",
                        "session": {"model": "alexnet", "source": "x", "rate": 1, "duration_s": 1},
                    }
                ]
            },
            "unknown device 'x'",
        ),
        ({"session": {"source": "cam", "rate": 0, "frames": 3}}, "session: rate must be positive"),
        ({"session": {"source": "edge2", "rate": 1, "frames": 3}}, "session.source"),
        ({"strategies": ["local", "teleport"]}, "unknown strategy 'teleport'"),
        ({"window_s": "5"}, "'window_s' must be an integer or a number, not str"),
        ({"session": {"source": "cam", "rate": 1}}, "give frames or duration_s"),
        (
            {"devices": [{"name": "cam", "profile": "rpi4", "serve_port": 70000}]},
            "devices[0]: serve_port must be in [0, 65535], not 70000",
        ),
    ],
)
def test_a_bad_scenario_is_refused_naming_the_field(changes, words):
    with pytest.raises(ScenarioError) as exc:
        parse(minimal(**changes))
    assert words in str(exc.value)


def test_a_file_that_is_not_yaml_is_refused_with_its_path(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("devices: [unclosed\n")
    with pytest.raises(ScenarioError, match="broken.yaml: not valid YAML"):
        load(path)


def test_a_device_may_open_its_inference_endpoint_and_the_demo_camera_does():
    spec = parse(
        minimal(
            devices=[{"name": "cam", "profile": "rpi4", "serve_port": 0}, {"name": "edge", "profile": "rpi4"}]
        )
    )
    assert [d.serve_port for d in spec.devices] == [0, None]
    demo = load(ROOT / "scenarios" / "default.yaml")
    assert {d.name: d.serve_port for d in demo.devices} == {"camera-pi": 0, "edge-1": None, "edge-2": None}


# --- faults and failover policies -----------------------------------------------------------------------


def test_faults_are_read_in_time_order_with_each_fault_s_end():
    scenario = parse(
        minimal(
            background=[{"device": "edge", "share": {"steps": [[0, 0.1], [6, 0.3]]}}],
            faults=[
                {"at": 4, "kill": "edge", "for_s": 2},
                {"at": 1, "cut": ["cam", "edge"], "for_s": 0.5},
                {"at": 2, "degrade": ["edge", "cam"], "bandwidth_bps": 1e6, "loss": 0.05},
                {"at": 3, "restore": ["cam", "edge"]},
                {"at": 5, "overload": "edge", "for_s": 2},
            ],
            failover=["none", "cold"],
        )
    )
    assert [(f.at, f.action, f.target) for f in scenario.faults] == [
        (1, "cut", ("cam", "edge")),
        (1.5, "restore", ("cam", "edge")),
        (2, "degrade", ("edge", "cam")),
        (3, "restore", ("cam", "edge")),
        (4, "kill", ("edge",)),
        (5, "overload", ("edge",)),
        (6, "revive", ("edge",)),
        (7, "overload", ("edge",)),
    ]
    degrade = scenario.faults[2]
    assert degrade.spec == {"bandwidth_bps": 1e6, "loss": 0.05}
    overload, relieved = scenario.faults[5], scenario.faults[7]
    assert overload.share == 0.9 and relieved.share == 0.3  # back to the background share at its end
    assert [f.injects for f in scenario.faults] == [True, False, True, False, True, True, False, True]
    assert scenario.faults[0].until(scenario.faults, 99) == 1.5
    assert scenario.failover == ("none", "cold")


def test_a_scenario_without_faults_runs_under_no_failover():
    scenario = parse(minimal())
    assert scenario.faults == () and scenario.failover == ("none",)


def test_a_strategy_may_carry_its_parameters_with_device_names():
    scenario = parse(minimal(strategies=["offload", {"split": {"cut": 3, "device": "edge"}}]))
    assert scenario.strategies == ("offload", "split")
    assert scenario.params == {"split": {"cut": 3, "device": "edge"}}


@pytest.mark.parametrize(
    ("faults", "words"),
    [
        (
            [{"at": 2}],
            "faults[0]: give exactly one of kill, revive, freeze, thaw, cut, degrade, restore, overload "
            "(got 0)",
        ),
        ([{"at": 2, "kill": "edge", "cut": ["cam", "edge"]}], "faults[0]: give exactly one of"),
        ([{"at": 2, "kill": "edge"}, {"at": 3, "kill": "nas"}], "faults[1].kill: unknown device 'nas'"),
        ([{"at": 2, "cut": ["cam"]}], "faults[0]: field 'cut' needs 2+ entries"),
        ([{"at": 2, "cut": ["cam", "cam"]}], "faults[0].cut must name two different devices"),
        ([{"at": 10, "kill": "edge"}], "faults[0].at: 10 s is not before the session ends (10 s)"),
        ([{"at": -1, "kill": "edge"}], "faults[0]: at must be >= 0"),
        ([{"kill": "edge"}], "faults[0]: field 'at' is required"),
        ([{"at": 2, "kill": "edge", "signal": 9}], "faults[0]: unknown field 'signal'"),
        ([{"at": 2, "degrade": ["cam", "edge"]}], "faults[0]: a degrade needs a link field"),
        ([{"at": 2, "kill": "edge", "loss": 0.5}], "faults[0].loss: only a degrade takes link fields"),
        (
            [{"at": 2, "degrade": ["cam", "edge"], "loss": {"steps": "lots"}}],
            "faults[0].loss",
        ),
        ([{"at": 2, "overload": "edge", "share": 1.5}], "faults[0]: share must be in [0, 1), not 1.5"),
        (
            [{"at": 2, "cut": ["cam", "edge"], "share": 0.5}],
            "faults[0].share: only an overload takes a share",
        ),
        ([{"at": 2, "revive": "edge", "for_s": 1}], "faults[0].for_s: a revive is the end of a fault"),
        ([{"at": 2, "kill": "edge", "for_s": 0}], "faults[0]: for_s must be positive"),
    ],
)
def test_a_bad_fault_is_refused_naming_the_field(faults, words):
    with pytest.raises(ScenarioError) as exc:
        parse(minimal(faults=faults))
    assert words in str(exc.value)


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"failover": ["hot"]}, "failover: unknown policy 'hot' (known: none, cold"),
        ({"failover": []}, "field 'failover' must not be empty"),
        ({"failover": ["cold", "cold"]}, "failover: each policy once"),
        ({"failover": "cold"}, "field 'failover' must be an array"),
        ({"strategies": [{"split": {"device": "nas"}}]}, "strategies[0].split.device: unknown device 'nas'"),
        ({"strategies": [{"ans": {"edge": "nas"}}]}, "strategies[0].ans.edge: unknown device 'nas'"),
        ({"strategies": [{"split": {}, "local": {}}]}, "strategies[0]: one strategy per entry"),
        (
            {"strategies": [{"ans": {"edge": "edge", "cut": 2}}]},
            "strategies[0].ans: ans takes no parameter cut",
        ),
        (
            {"strategies": [{"qoe-bandit": {"split": "device-edge", "edge": "edge"}}]},
            "strategies[0].qoe-bandit: qoe-bandit: edge is ans's: give split ans",
        ),
        (
            {"strategies": [{"qoe-bandit": {"split": "ans", "objective": "energy"}}]},
            "qoe-bandit with split ans learns delays: its objective is latency",
        ),
        ({"strategies": ["local", "local"]}, "strategies: each strategy once"),
        (
            {"session": {"source": "cam", "rate": 1, "frames": 3, "sample": -1}},
            "session: sample must be >= 0",
        ),
    ],
)
def test_a_bad_failover_or_strategy_entry_is_refused_naming_the_field(changes, words):
    with pytest.raises(ScenarioError) as exc:
        parse(minimal(**changes))
    assert words in str(exc.value)


def test_a_session_may_name_an_objective_and_a_low_battery_policy_on_a_battery_camera():
    data = minimal(session={"source": "cam", "rate": 4, "duration_s": 10, "objective": "energy"})
    data["devices"][0]["battery"] = {"wh": 0.5, "percent": 40}
    data["session"]["battery_below"] = 20
    scenario = parse(data)
    assert scenario.session.objective == "energy" and scenario.session.battery_below == 20
    assert scenario.device("cam").battery == (0.5, 40.0) and scenario.device("edge").battery is None
    assert parse(minimal()).session.objective is None


@pytest.mark.parametrize(
    "session, words",
    [
        ({"objective": "battery"}, "session: objective must be one of"),
        ({"battery_below": 120}, "session: battery_below must be in"),
    ],
)
def test_a_bad_objective_or_battery_threshold_is_refused_naming_the_field(session, words):
    data = minimal()
    data["session"].update(session)
    with pytest.raises(ScenarioError, match=words):
        parse(data)


def test_a_device_battery_needs_a_capacity():
    data = minimal()
    data["devices"][0]["battery"] = {"percent": 50}
    with pytest.raises(ScenarioError, match="battery"):
        parse(data)


def test_the_runner_gives_every_strategy_the_sessions_objective_unless_its_own_names_one(db):
    from edgeorch.scenarios.runner import Runner

    data = minimal(strategies=["local", {"multi-device": {"objective": "latency"}}])
    data["session"]["objective"] = "energy_under_deadline"
    runner = Runner.__new__(Runner)
    runner.scenario, runner.devices = parse(data), {}
    assert runner.params("local") == {"objective": "energy_under_deadline"}
    assert runner.params("multi-device") == {"objective": "latency"}


def test_the_runner_gives_ans_its_edge_as_a_device_id(db):
    from types import SimpleNamespace

    from edgeorch.scenarios.runner import Runner

    runner = Runner.__new__(Runner)
    runner.scenario = parse(minimal(strategies=[{"ans": {"edge": "edge", "k": 4}}]))
    runner.devices = {"edge": SimpleNamespace(pk="5f0c7c52-0000-4000-8000-000000000001")}
    assert runner.params("ans") == {"edge": "5f0c7c52-0000-4000-8000-000000000001", "k": 4}


def test_a_scenario_may_compose_the_two_learners_and_the_runner_names_the_edge_by_id(db):
    """{qoe-bandit: {split: ans, edge: ...}}: the variant learned by the QoE bandit, the cut by ans."""
    from types import SimpleNamespace

    from edgeorch.scenarios.runner import Runner

    entry = {"qoe-bandit": {"split": "ans", "edge": "edge", "k": 3, "window": 8}}
    runner = Runner.__new__(Runner)
    runner.scenario = parse(minimal(model="digits-cnn", strategies=["ans", entry]))
    assert runner.scenario.strategies == ("ans", "qoe-bandit")
    runner.devices = {"edge": SimpleNamespace(pk="5f0c7c52-0000-4000-8000-000000000001")}
    params = runner.params("qoe-bandit")
    assert params == {"split": "ans", "edge": "5f0c7c52-0000-4000-8000-000000000001", "k": 3, "window": 8}
