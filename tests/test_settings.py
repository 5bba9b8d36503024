"""Settings come from the environment and fail loudly on a bad value."""

import os
import subprocess
import sys

import pytest

from edgeorch import env


def test_envbool_reads_the_usual_spellings(monkeypatch):
    for raw, want in [("1", True), ("yes", True), ("ON", True), ("0", False), ("false", False), ("", True)]:
        monkeypatch.setenv("X_FLAG", raw)
        assert env.envbool("X_FLAG", True) is want


def test_bad_values_name_the_variable(monkeypatch):
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(env.ImproperValue, match="X_FLAG='maybe' is not a boolean"):
        env.envbool("X_FLAG", False)
    monkeypatch.setenv("X_INT", "ten")
    with pytest.raises(env.ImproperValue, match="X_INT='ten' is not an integer"):
        env.envint("X_INT", 1)
    monkeypatch.setenv("X_INT", "-3")
    with pytest.raises(env.ImproperValue, match="below the minimum"):
        env.envint("X_INT", 1, minimum=0)


def test_a_secret_may_come_from_a_file(monkeypatch, tmp_path):
    (tmp_path / "secret").write_text("s3cret\n")
    monkeypatch.setenv("X_SECRET_FILE", str(tmp_path / "secret"))
    assert env.envstr("X_SECRET") == "s3cret"


def test_the_server_refuses_to_start_on_a_bad_setting():
    environ = {**os.environ, "EDGEORCH_LIVENESS_TIMEOUT": "soon"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], env=environ, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "EDGEORCH_LIVENESS_TIMEOUT='soon' is not a number" in result.stderr


def test_production_settings_require_a_secret_key():
    environ = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], env=environ, capture_output=True, text=True
    )
    assert result.returncode != 0 and "SECRET_KEY is not set" in result.stderr
