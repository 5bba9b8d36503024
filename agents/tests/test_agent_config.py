from __future__ import annotations

import json
import stat

import pytest
from edgeorch_agent.config import AgentConfig, ConfigError, default_config_path, load_config, save_config

CONFIG = AgentConfig(
    server="http://cp:8000",
    ws_url="ws://cp:8000/ws/agent/",
    device_id="0b3f",
    name="jetson-1",
    credential="0b3f.s3cret",
    profile="jetson-nano",
)


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_config_file_is_private_and_so_are_the_directories_it_creates(tmp_path):
    path = tmp_path / "new" / "edgeorch" / "agent.json"
    save_config(CONFIG, path)
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    assert mode(path.parent.parent) == 0o700
    assert json.loads(path.read_text()) == CONFIG.to_dict()


def test_rewriting_a_world_readable_config_makes_it_private(tmp_path):
    path = tmp_path / "agent.json"
    path.write_text("{}")
    path.chmod(0o644)
    save_config(CONFIG, path)
    assert mode(path) == 0o600
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_a_saved_config_loads_back(tmp_path):
    save_config(CONFIG, tmp_path / "agent.json")
    assert load_config(tmp_path / "agent.json") == CONFIG


def test_a_missing_config_says_to_enroll_first(tmp_path):
    with pytest.raises(ConfigError, match="enroll"):
        load_config(tmp_path / "nope.json")


def test_a_config_without_credential_is_refused(tmp_path):
    path = tmp_path / "agent.json"
    path.write_text(json.dumps({**CONFIG.to_dict(), "credential": ""}))
    with pytest.raises(ConfigError, match="credential"):
        load_config(path)


def test_the_config_path_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("EDGEORCH_AGENT_CONFIG", str(tmp_path / "x.json"))
    assert default_config_path() == tmp_path / "x.json"
    monkeypatch.delenv("EDGEORCH_AGENT_CONFIG")
    assert default_config_path().parts[-3:] == (".config", "edgeorch", "agent.json")
