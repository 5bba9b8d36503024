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


@pytest.mark.e2e  # starts a process
def test_the_server_refuses_to_start_on_a_bad_setting():
    environ = {**os.environ, "EDGEORCH_LIVENESS_TIMEOUT": "soon"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], env=environ, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "EDGEORCH_LIVENESS_TIMEOUT='soon' is not a number" in result.stderr


@pytest.mark.e2e  # starts a process
def test_production_settings_require_a_secret_key(tmp_path):
    # A run dir without the demo's settings file, whether or not this checkout has run `make demo`.
    environ = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "SECRET_KEY_FILE", "DEBUG")}
    environ["EDGEORCH_RUN_DIR"] = str(tmp_path)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], env=environ, capture_output=True, text=True
    )
    assert result.returncode != 0 and "SECRET_KEY is not set" in result.stderr


def demo_env(run_dir, text: str):
    (run_dir / "run").mkdir(parents=True, exist_ok=True)
    (run_dir / "run" / "demo.env").write_text(text)
    return run_dir / "run" / "demo.env"


@pytest.fixture
def bare_env(monkeypatch, tmp_path):
    """An environment with no secret key and a run dir of its own; os.environ as it was afterwards (the
    loader sets variables monkeypatch does not know of)."""
    saved = dict(os.environ)
    for name in ("SECRET_KEY", "SECRET_KEY_FILE", "DEBUG", "REDIS_URL", "X_DEMO"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("EDGEORCH_RUN_DIR", str(tmp_path))
    yield tmp_path
    os.environ.clear()
    os.environ.update(saved)


def test_the_demos_settings_file_fills_in_what_the_environment_leaves_unset(bare_env, monkeypatch):
    path = demo_env(bare_env, "DEBUG='true'\nREDIS_URL='redis://127.0.0.1:6379/7'\nX_DEMO='a $HOME b'\n")
    monkeypatch.setenv("REDIS_URL", "redis://elsewhere:6379/0")
    assert env.load_demo_env(bare_env / "unused") == path
    assert os.environ["DEBUG"] == "true"
    assert os.environ["REDIS_URL"] == "redis://elsewhere:6379/0"  # set explicitly: it wins
    assert os.environ["X_DEMO"] == "a $HOME b"  # read as written, no expansion


def test_the_run_dir_defaults_to_var_beside_the_code(bare_env, monkeypatch):
    monkeypatch.delenv("EDGEORCH_RUN_DIR")
    path = demo_env(bare_env / "var", "X_DEMO='1'\n")
    assert env.load_demo_env(bare_env) == path and os.environ["X_DEMO"] == "1"


@pytest.mark.parametrize("secret", ["SECRET_KEY", "SECRET_KEY_FILE"])
def test_where_a_secret_key_is_set_the_demos_file_is_not_read(bare_env, monkeypatch, secret):
    demo_env(bare_env, "DEBUG='true'\n")
    monkeypatch.setenv(secret, "production")
    assert env.load_demo_env(bare_env) is None and "DEBUG" not in os.environ


def test_without_the_demos_file_nothing_changes(bare_env):
    assert env.load_demo_env(bare_env) is None and "DEBUG" not in os.environ
