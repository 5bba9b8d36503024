"""Running it for real, secure by default (#25 items 1 and 4): no secret has a default in a shipped file, the
stack generates its secrets on first start, the compose file's settings pass ``check --deploy``, one public
URL gives the hosts, origins and TLS, and static files go out hashed, compressed and cached for a year."""

from __future__ import annotations

import importlib.util
import os
import re
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
import yaml
from django.core.management import call_command

from edgeorch import secretfiles
from edgeorch.env import ImproperValue

from .support import ROOT, Server

# What a deployment is started from: the compose file, the image, the proxy's configuration, the settings and
# the scripts that start the processes.
SHIPPED = [
    ROOT / "docker-compose.yml",
    ROOT / "Dockerfile",
    ROOT / "deploy" / "Caddyfile",
    ROOT / "agents" / "Dockerfile",
    *sorted((ROOT / "deploy" / "k8s").glob("*.yaml")),
    ROOT / "edgeorch" / "settings.py",
    *sorted((ROOT / "scripts").glob("*.sh")),
]
SECRET_NAME = r"[A-Z0-9_]*(?:SECRET|PASSWORD|TOKEN|_KEY)[A-Z0-9_]*"
# The defaults earlier versions shipped, which anyone who read the repository knew.
KNOWN_DEFAULTS = [
    "change-me",
    "eet_compose-bootstrap-token",
    "insecure-development-key",
    "POSTGRES_PASSWORD: edgeorch",
    "edgeorch:edgeorch@",
]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_no_shipped_file_gives_a_secret_a_default():
    found = []
    for path in SHIPPED:
        text = path.read_text()
        name = path.relative_to(ROOT)
        found += [f"{name}: {known!r}" for known in KNOWN_DEFAULTS if known in text]
        # A shell or compose default of a secret-named variable: ${SECRET_KEY:-...}, unless it is generated
        # on the spot ($(...)).
        for match in re.finditer(r"\$\{(" + SECRET_NAME + r"):?-([^}]*)\}", text):
            if not match.group(2).startswith("$("):
                found.append(f"{name}: {match.group(0)}")
    # The compose file's environments: a secret-named variable holds a literal value nowhere (a *_FILE does).
    for service, spec in compose()["services"].items():
        environment = spec.get("environment") or {}
        for key, value in environment.items():
            if re.fullmatch(SECRET_NAME, key) and not key.endswith("_FILE"):
                found.append(f"docker-compose.yml: {service}: {key}={value!r}")
            if key == "DATABASE_URL" and re.search(r"//[^/@]*:[^/@]*@", str(value)):
                found.append(f"docker-compose.yml: {service}: a password in DATABASE_URL")
    assert found == []


def test_compose_generates_the_key_and_the_database_password_before_anything_starts():
    services = compose()["services"]
    generated = services["secrets"]["command"]
    assert generated[:3] == ["python", "-m", "edgeorch.secretfiles"]
    paths = {arg.partition(":")[0] for arg in generated[3:]}
    app = services["web"]["environment"]
    assert {app["SECRET_KEY_FILE"], app["DATABASE_PASSWORD_FILE"]} == paths
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD_FILE"] == app["DATABASE_PASSWORD_FILE"]
    for name in ("postgres", "web", "worker", "beat"):
        assert services[name]["depends_on"]["secrets"]["condition"] == "service_completed_successfully"
        assert services[name]["environment"].get("DATABASE_PASSWORD_FILE", app["DATABASE_PASSWORD_FILE"])
    # The bootstrap token is made on first start and printed, not written in the file.
    assert "ensure_enrollment_token --generate" in services["web"]["command"]
    # Only the proxy is published; Daphne is behind it.
    assert "ports" not in services["web"]
    caddy = services["caddy"]
    assert caddy["image"].startswith("caddy:2") and "443:443" in caddy["ports"]
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in caddy["volumes"]


def test_a_secret_file_is_generated_once_private_and_kept(tmp_path):
    path = tmp_path / "volume" / "secret_key"
    assert secretfiles.ensure_secret_file(path) is True
    first = path.read_text()
    assert len(first.strip()) >= 40 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert secretfiles.ensure_secret_file(path) is False and path.read_text() == first  # a restart keeps it
    shared = tmp_path / "password"
    assert secretfiles.main([f"{shared}:644"]) == 0
    assert stat.S_IMODE(shared.stat().st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["password", "volume"]  # nothing left aside


def test_processes_starting_at_once_all_read_the_one_secret(tmp_path):
    path = tmp_path / "secret_key"
    start = threading.Barrier(8)
    results: list[bool] = []

    def race():
        start.wait()
        results.append(secretfiles.ensure_secret_file(path))

    threads = [threading.Thread(target=race) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 1 and len(path.read_text().split()) == 1


@pytest.fixture
def settings_of(monkeypatch):
    """Load the settings module afresh, in this process, as a process started with ``env`` over a bare
    production environment would (its module globals)."""

    def load(**env: str) -> dict:
        for name in list(os.environ):
            if name.startswith(("EDGEORCH_", "SECRET_KEY", "ALLOWED_HOSTS", "CSRF_", "DEBUG", "DATABASE_")):
                monkeypatch.delenv(name)
        for name, value in {"EDGEORCH_RUN_DIR": "/nonexistent", "DEBUG": "false", **env}.items():
            monkeypatch.setenv(name, value)
        spec = importlib.util.spec_from_file_location(
            "edgeorch.settings_probe", ROOT / "edgeorch/settings.py"
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return vars(module)

    return load


def test_the_public_url_gives_the_allowed_host_the_trusted_origin_and_tls(settings_of, tmp_path):
    got = settings_of(SECRET_KEY="k" * 50, EDGEORCH_PUBLIC_URL="https://edge.example.org:8443")
    assert got["ALLOWED_HOSTS"] == ["edge.example.org"]
    assert got["CSRF_TRUSTED_ORIGINS"] == ["https://edge.example.org:8443"]
    assert got["TLS"] is True and got["SECURE_SSL_REDIRECT"] is True and got["SESSION_COOKIE_SECURE"] is True
    # ALLOWED_HOSTS adds to it; a plain http:// URL leaves TLS off.
    got = settings_of(SECRET_KEY="k" * 50, EDGEORCH_PUBLIC_URL="http://10.0.0.5", ALLOWED_HOSTS="a.lan")
    assert got["ALLOWED_HOSTS"] == ["a.lan", "10.0.0.5"] and got["TLS"] is False
    with pytest.raises(ImproperValue, match="EDGEORCH_PUBLIC_URL='edge.example.org' is not an http"):
        settings_of(SECRET_KEY="k" * 50, EDGEORCH_PUBLIC_URL="edge.example.org")
    # The database password may come from a file, apart from the URL.
    (tmp_path / "pw").write_text("s3cret\n")
    got = settings_of(
        SECRET_KEY="k" * 50,
        DATABASE_URL="postgres://edgeorch@db:5432/edgeorch",
        DATABASE_PASSWORD_FILE=str(tmp_path / "pw"),
    )
    assert got["DATABASES"]["default"]["PASSWORD"] == "s3cret"


def test_without_a_key_production_refuses_to_start_and_development_makes_up_its_own(settings_of):
    with pytest.raises(ImproperValue, match="SECRET_KEY is not set"):
        settings_of()
    keys = {settings_of(DEBUG="true")["SECRET_KEY"] for _ in range(2)}
    assert len(keys) == 2 and all(len(key) >= 50 for key in keys)  # made up each time: none in a file


def compose_env(tmp_path: Path) -> dict[str, str]:
    """The web service's environment as compose gives it, its defaults taken and its volumes here: the secrets
    generated as the secrets service does."""
    web = compose()["services"]["web"]["environment"]

    def here(value: str) -> str:
        return value.replace("/data/", f"{tmp_path}/data/").replace("/dbsecret/", f"{tmp_path}/dbsecret/")

    env = {key: here(re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(value))) for key, value in web.items()}
    env["EDGEORCH_RUN_DIR"] = str(tmp_path / "data")
    paths = [here(arg) for arg in compose()["services"]["secrets"]["command"][3:]]
    assert secretfiles.main(paths) == 0
    return env


@pytest.mark.e2e  # starts a process
def test_the_compose_files_settings_pass_check_deploy_without_a_warning(tmp_path):
    env = compose_env(tmp_path)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("EDGEORCH_", "SECRET_KEY", "ALLOWED_"))}
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "System check identified no issues (0 silenced)" in done.stdout


@pytest.mark.django_db
def test_the_bootstrap_token_is_made_once_printed_once_and_enrolls_a_few_devices(tmp_path, client):
    from io import StringIO

    from edgeorch.devices.models import EnrollmentToken

    out, path = StringIO(), tmp_path / "bootstrap" / "enrollment_token"
    call_command("ensure_enrollment_token", "--generate", "--write", str(path), "--max-uses", "3", stdout=out)
    (plain,) = re.findall(r"eet_\S+", out.getvalue())
    assert "shown only now" in out.getvalue() and path.read_text().strip() == plain
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    (token,) = EnrollmentToken.objects.all()
    assert token.max_uses == 3 and plain not in (token.token_hash, token.prefix)
    again = StringIO()
    call_command("ensure_enrollment_token", "--generate", stdout=again)
    assert "eet_" not in again.getvalue() and EnrollmentToken.objects.count() == 1
    enrolled = client.post(
        "/api/agent/enroll/", {"token": plain, "name": "pi-1"}, content_type="application/json"
    )
    assert enrolled.status_code == 201, enrolled.content


@pytest.mark.django_db
def test_a_stack_upgraded_from_the_published_bootstrap_token_gets_it_revoked_and_a_new_one(client):
    """Earlier versions' compose made ``eet_compose-bootstrap-token-change-me`` (100 uses), which the
    repository printed: the first start of this version revokes it and makes a token of its own."""
    from io import StringIO

    from edgeorch.devices.models import EnrollmentToken

    published = "eet_compose-bootstrap-token-change-me"
    call_command("ensure_enrollment_token", published, "--max-uses", "100", stdout=StringIO())
    out = StringIO()
    call_command("ensure_enrollment_token", "--generate", stdout=out)
    assert "Revoked" in out.getvalue() and len(re.findall(r"eet_\S+", out.getvalue())) == 1
    assert EnrollmentToken.objects.filter(revoked=False).count() == 1
    refused = client.post(
        "/api/agent/enroll/", {"token": published, "name": "intruder"}, content_type="application/json"
    )
    assert refused.status_code in (400, 401, 403)


@pytest.fixture(scope="module")
def collected(tmp_path_factory) -> Path:
    """collectstatic as the image runs it (Dockerfile), into a folder of this module's."""
    root = tmp_path_factory.mktemp("static")
    env = {
        **os.environ,
        "EDGEORCH_STATIC_ROOT": str(root),
        "EDGEORCH_STATIC_MANIFEST": "true",
        "SECRET_KEY": "",
        "EDGEORCH_ALLOW_INSECURE_KEY": "true",
    }
    done = subprocess.run(
        # Django's admin, DRF's, the API docs' and the vendored libraries' files left out: the same storage,
        # the build's time down to a few seconds (Brotli at its best is slow on large files).
        [sys.executable, "manage.py", "collectstatic", "--noinput"]
        + ["-i", "admin", "-i", "rest_framework", "-i", "drf_spectacular_sidecar", "-i", "vendor"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return root


@pytest.mark.e2e  # starts Daphne
@pytest.mark.django_db(transaction=True)
def test_collected_static_files_go_out_hashed_compressed_and_cached_for_a_year(
    collected, server_env, tmp_path
):
    server = Server({**server_env, "EDGEORCH_STATIC_ROOT": str(collected)}, tmp_path / "daphne.log").start()
    try:
        page = requests.get(server.url + "/accounts/login/", timeout=10).text
        (css,) = re.findall(r'href="(/static/css/[^"]+\.[0-9a-f]{12}\.css)"', page)
        for encoding in ("br", "gzip"):
            response = requests.get(server.url + css, headers={"Accept-Encoding": encoding}, timeout=10)
            assert response.status_code == 200
            assert response.headers["Content-Encoding"] == encoding
            assert "immutable" in response.headers["Cache-Control"]
            max_age = int(re.search(r"max-age=(\d+)", response.headers["Cache-Control"]).group(1))
            assert max_age >= 365 * 24 * 3600
        name = css.removeprefix("/static/")
        sent = requests.head(server.url + css, headers={"Accept-Encoding": "br"}, timeout=10)
        assert int(sent.headers["Content-Length"]) < (collected / name).stat().st_size / 2
        # A name without its hash is served too, but briefly cached: it changes with the next release.
        plain = requests.get(server.url + "/static/charts/figures.js", timeout=10)
        assert plain.status_code == 200 and "immutable" not in plain.headers["Cache-Control"]
    finally:
        server.stop()


@pytest.mark.e2e  # starts Daphne
@pytest.mark.django_db(transaction=True)
def test_without_collectstatic_static_files_are_served_by_name(live_server_proc):
    """The demo and the tests: no build step, the app folders' files under their own names."""
    page = requests.get(live_server_proc.url + "/accounts/login/", timeout=10).text
    (css,) = re.findall(r'href="(/static/css/[^"]+)"', page)
    assert not re.search(r"\.[0-9a-f]{12}\.css$", css)
    assert requests.get(live_server_proc.url + css, timeout=10).status_code == 200
    assert requests.get(live_server_proc.url + "/static/charts/figures.js", timeout=10).status_code == 200


def test_the_image_collects_static_files_at_build():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"EDGEORCH_STATIC_MANIFEST=true .*manage\.py collectstatic --noinput", dockerfile)
    assert "EDGEORCH_STATIC_ROOT=" in dockerfile
