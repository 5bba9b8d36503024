"""The files an operator deploys with (issue 25): the Kubernetes manifests validate offline against the
Kubernetes API schemas, hold no secret, and run the same commands as compose and the demo; the images install
only their role's pinned set — the agent's without torch, Django or test tools, yet with everything the agent
imports.
"""

from __future__ import annotations

import ast
import importlib.metadata as md
import re
import shlex
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"
MANIFESTS = sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")
KUBERNETES_VERSION = "1.33.0"  # a release current clusters run; the schemas ship with kubernetes-validate
SECRET_NAMES = re.compile(r"SECRET|PASSWORD|TOKEN|_KEY$")
NOT_FOR_DEVICES = {
    "torch",
    "django",
    "celery",
    "daphne",
    "pytest",
    "playwright",
    "mypy",
    "scikit-learn",
    "onnx",
}
NOT_FOR_THE_CONTROL_PLANE_IMAGE = {
    "torch",
    "scikit-learn",
    "pytest",
    "playwright",
    "mypy",
    "ruff",
    "onnxscript",
}


def resources() -> list[tuple[str, dict]]:
    return [(p.name, doc) for p in MANIFESTS for doc in yaml.safe_load_all(p.read_text()) if doc]


def containers(doc: dict) -> list[dict]:
    spec = doc["spec"]
    pod = spec.get("template", {}).get("spec") or spec.get("jobTemplate", {}).get("spec", {}).get(
        "template", {}
    )
    return [*pod.get("initContainers", []), *pod.get("containers", [])]


def pins(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines():
        if m := re.match(r"^([A-Za-z0-9_.-]+)==([^\s;]+)", line):
            found[m[1].lower().replace("_", "-")] = m[2]
    return found


# --- Kubernetes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name,doc", resources(), ids=lambda v: v if isinstance(v, str) else v["kind"])
def test_each_manifest_is_a_valid_kubernetes_resource(name, doc):
    kubernetes_validate.validate(
        doc, KUBERNETES_VERSION, strict=True
    )  # raises ValidationError, naming the field


def test_an_invalid_manifest_is_caught():
    doc = yaml.safe_load((K8S / "beat.yaml").read_text())
    doc["spec"]["replicas"] = "one"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_kustomization_applies_every_manifest_and_nothing_else():
    listed = yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]
    assert sorted(listed) == [p.name for p in MANIFESTS]


def test_no_secret_is_written_in_a_manifest():
    for name, doc in resources():
        assert doc["kind"] != "Secret", f"{name}: secrets are created by the operator (docs/deploy.md)"
        for c in containers(doc) if "spec" in doc else []:
            for var in c.get("env", []):
                if SECRET_NAMES.search(var["name"]):
                    assert "secretKeyRef" in var.get("valueFrom", {}), (
                        f"{name}: {var['name']} is not from a Secret"
                    )
                assert (
                    "value" not in var
                    or "$(" in var["value"]
                    or not re.search(r"://[^:/]+:[^@$]+@", var["value"])
                )
        if doc["kind"] == "ConfigMap":
            assert not [k for k in doc["data"] if SECRET_NAMES.search(k)], f"{name}: a secret in a ConfigMap"


def by_kind_and_name() -> dict[tuple[str, str], dict]:
    return {(doc["kind"], doc["metadata"]["name"]): doc for _, doc in resources()}


def test_one_beat_never_two_and_web_and_workers_scale():
    docs = by_kind_and_name()
    beat = docs["Deployment", "beat"]["spec"]
    assert beat["replicas"] == 1 and beat["strategy"]["type"] == "Recreate"
    assert docs["Deployment", "web"]["spec"]["replicas"] >= 2
    assert docs["Deployment", "worker"]["spec"]["replicas"] >= 2
    web = containers(docs["Deployment", "web"])[0]
    assert web["readinessProbe"]["httpGet"]["path"] == "/healthz"  # edgeorch/dashboard/health.py


def normalised(command: list[str] | str) -> list[str]:
    """A service's command as words, from its last ``exec``/``&&`` step; the demo's ``$V/`` prefix and the
    schedule file's folder (each deployment keeps it in its own data folder) left out."""
    words = shlex.split(command) if isinstance(command, str) else list(command)
    if words[:2] == ["sh", "-c"]:
        words = shlex.split(re.split(r"&&|;", words[2])[-1])
    words = [w.removeprefix('"$V/').removeprefix("$V/").removeprefix("exec") for w in words if w != "exec"]
    return [re.sub(r".*/(celerybeat-schedule)\"?$", r"\1", w) for w in words if w]


def test_kubernetes_compose_and_the_demo_run_the_same_commands():
    docs = by_kind_and_name()
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    demo = (ROOT / "scripts" / "demo.sh").read_text()
    for service in ("web", "worker", "beat"):
        k8s = normalised(containers(docs["Deployment", service])[0]["command"])
        assert normalised(compose[service]["command"]) == k8s, service
        if service == "web":
            assert k8s == ["./scripts/web.sh"] and "scripts/web.sh" in demo
        else:
            line = next(ln for ln in demo.splitlines() if ln.startswith(f"start {service} "))
            assert normalised(line.split(" ", 2)[2]) == k8s, service


# --- images and their dependency sets ------------------------------------------------------------------


def test_the_agent_set_has_no_torch_django_or_test_tools_and_agrees_with_the_control_plane():
    agent = pins(ROOT / "agents" / "requirements.txt")
    assert agent and not NOT_FOR_DEVICES & set(agent), NOT_FOR_DEVICES & set(agent)
    server = pins(ROOT / "requirements.txt")
    assert {k: v for k, v in agent.items() if server.get(k, v) != v} == {}, (
        "the two sets pin different versions"
    )


def third_party_imports(*packages: Path) -> set[str]:
    """Top-level modules these packages import anywhere (module level or inside a function), outside the
    standard library and themselves; an import under ``try: … except ImportError`` is an optional extra
    (OpenCV for video sources) and not counted."""
    own = {p.name for p in packages}
    found: set[str] = set()
    for package in packages:
        for path in package.rglob("*.py"):
            tree = ast.parse(path.read_text())
            optional = {
                id(n)
                for t in ast.walk(tree)
                if isinstance(t, ast.Try)
                and any("ImportError" in ast.unparse(h.type or ast.Name("")) for h in t.handlers)
                for n in ast.walk(ast.Module(body=t.body, type_ignores=[]))
            }
            for node in ast.walk(tree):
                if id(node) in optional:
                    continue
                if isinstance(node, ast.Import):
                    found |= {a.name.split(".")[0] for a in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found.add(node.module.split(".")[0])
    return {n for n in found if n not in sys.stdlib_module_names and n not in own and n != "__future__"}


def test_the_agent_set_holds_every_package_the_agent_and_wire_import():
    distributions = md.packages_distributions()
    imported = third_party_imports(ROOT / "agents" / "edgeorch_agent", ROOT / "wire" / "edgeorch_wire")
    assert {"onnxruntime", "numpy", "websockets"} <= imported
    needed = {distributions[m][0].lower().replace("_", "-") for m in imported}
    assert needed - set(pins(ROOT / "agents" / "requirements.txt")) == set()


def dockerfile_stages(path: Path) -> list[list[str]]:
    stages: list[list[str]] = []
    for line in re.sub(r"\\\n", " ", path.read_text()).splitlines():
        if line.startswith("FROM "):
            stages.append([])
        if stages and line.strip() and not line.startswith("#"):
            stages[-1].append(line)
    return stages


def test_the_agent_image_installs_only_the_agent_set_on_slim_python():
    (stage,) = dockerfile_stages(ROOT / "agents" / "Dockerfile")
    assert stage[0] == "FROM python:3.11-slim"
    installs = [ln for ln in stage if "pip install" in ln]
    assert (
        "-r /tmp/agent-requirements.txt" in installs[0] and "--no-deps /src/wire /src/agents" in installs[1]
    )
    assert "COPY agents/requirements.txt /tmp/agent-requirements.txt" in stage
    assert not [ln for ln in stage if ln.startswith("COPY . ")], (
        "the agent image copies only wire/ and agents/"
    )


def test_the_control_plane_image_leaves_torch_and_test_tools_in_the_builder_stage():
    final = dockerfile_stages(ROOT / "Dockerfile")[-1]
    installs = " ".join(ln for ln in final if "pip install" in ln)
    assert "zoo.txt" not in installs and "dev.txt" not in installs and "requirements.txt" in installs
    assert not NOT_FOR_THE_CONTROL_PLANE_IMAGE & set(pins(ROOT / "requirements.txt"))


# --- backup and restore (docs/deploy.md) -------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_documented_backup_restores_into_an_empty_database(tmp_path):
    """docs/deploy.md's pg_dump and pg_restore lines, on the test database and a scratch one."""
    import psycopg
    from django.db import connection

    from edgeorch.devices import services
    from edgeorch.devices.models import Device

    if connection.vendor != "postgresql":
        pytest.skip("the backup commands are PostgreSQL's")
    _, token = services.create_enrollment_token(max_uses=1)
    device = services.enroll_device(token, name="pi-in-the-backup").device
    params = connection.get_connection_params()
    user, host, port = (
        params.get("user") or "postgres",
        params.get("host") or "127.0.0.1",
        params.get("port") or 5432,
    )
    base = f"postgresql://{user}@{host}:{port}"
    scratch = f"{connection.settings_dict['NAME']}_restore"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'drop database if exists "{scratch}" with (force)')
        admin.execute(f'create database "{scratch}"')
    try:
        dump = tmp_path / "edgeorch.dump"
        source_url = f"{base}/{connection.settings_dict['NAME']}"
        subprocess.run(["pg_dump", "--format=custom", f"--file={dump}", source_url], check=True)
        subprocess.run(
            ["pg_restore", "--clean", "--if-exists", "--no-owner", f"--dbname={base}/{scratch}", str(dump)],
            check=True,
        )
        with psycopg.connect(f"{base}/{scratch}") as restored:
            row = restored.execute(
                "select name, credential_hash from devices_device where id = %s", [device.pk]
            ).fetchone()
            migrations = restored.execute("select count(*) from django_migrations").fetchone()[0]
        assert row == ("pi-in-the-backup", Device.objects.get(pk=device.pk).credential_hash)
        assert migrations > 0
    finally:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
            admin.execute(f'drop database if exists "{scratch}" with (force)')
