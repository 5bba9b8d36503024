"""The REST API as a script reads it: the committed schema is the code's, the committed client is generated
from it, and the generated client (clients/python) parses what the server answers, errors included.

The client talks to the Django application in this process (httpx's WSGI transport), so that these tests
need no server; tests/test_client_e2e.py drives a live one through the same client.
"""

from __future__ import annotations

import filecmp
import importlib
import pkgutil
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

import httpx
import pytest
import yaml
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from edgeorch_client import AuthenticatedClient, Client
from edgeorch_client.api.devices import device_links, device_list, device_telemetry
from edgeorch_client.api.enrollment_tokens import (
    enrollment_token_create,
    enrollment_token_get,
    enrollment_token_list,
)
from edgeorch_client.api.jobs import job_cancel, job_create, job_get, job_list
from edgeorch_client.api.measurements import measurement_list
from edgeorch_client.api.models import model_cuts, model_get, model_list, model_segments
from edgeorch_client.api.plans import plan_whatif
from edgeorch_client.api.sessions import session_create, session_frames, session_list
from edgeorch_client.api.strategies import strategy_list
from edgeorch_client.models import (
    EnrollmentToken,
    EnrollmentTokenCreated,
    EnrollmentTokenRequest,
    Error,
    JobCreateRequest,
    JobDetail,
    Plan,
    SessionCreateRequest,
    SessionDetail,
    WhatIfRequest,
)

from .support import token_for

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "docs" / "openapi.yaml"
CLIENT = ROOT / "clients" / "python"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _one_connection():
    """The application runs in this thread, in the test's transaction: as in Django's test client, a request
    must not close the connection when it starts or ends."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def as_user(user) -> AuthenticatedClient:
    return AuthenticatedClient(
        base_url="http://testserver", token=token_for(user), prefix="Token", httpx_args=in_process()
    )


def in_process() -> dict:
    return {"transport": httpx.WSGITransport(app=get_wsgi_application())}


@pytest.fixture
def devices(db):
    """phone and edge, online (no agents: nothing here runs)."""
    from edgeorch.devices import services

    made = []
    for name in ("phone", "edge"):
        _, token = services.create_enrollment_token()
        device = services.enroll_device(token, name=name).device
        device.status, device.channel_name = "online", f"fake.{name}"
        device.save(update_fields=["status", "channel_name"])
        made.append(device)
    return made


# --- the committed files are the code's ----------------------------------------------------------------


def test_the_committed_schema_is_what_the_code_declares():
    out = StringIO()
    call_command("spectacular", "--fail-on-warn", stdout=out)
    assert out.getvalue() == SCHEMA.read_text(), "docs/openapi.yaml is stale: run `make client` and commit it"


def test_the_committed_client_is_generated_from_the_committed_schema(tmp_path):
    bin_dir = Path(sys.executable).parent
    subprocess.run(
        [
            str(bin_dir / "openapi-python-client"),
            "generate",
            "--path",
            str(SCHEMA),
            "--output-path",
            str(tmp_path / "python"),
            "--config",
            str(ROOT / "clients" / "python-client.yaml"),
            "--meta",
            "setup",
            "--fail-on-warning",
        ],
        check=True,
        capture_output=True,
        env={"PATH": f"{bin_dir}:/usr/bin:/bin"},
    )
    generated = filecmp.dircmp(tmp_path / "python", CLIENT, ignore=[*filecmp.DEFAULT_IGNORES, ".ruff_cache"])
    assert _differences(generated) == [], "clients/python is stale: run `make client` and commit it"


def _differences(cmp: filecmp.dircmp) -> list[str]:
    found = [f for f in cmp.left_only + cmp.right_only + cmp.diff_files if f != "__pycache__"]
    found = [f for f in found if not f.endswith(".egg-info")]
    for sub in cmp.subdirs.values():
        found += _differences(sub)
    return found


def test_the_schema_reads_as_a_script_author_needs():
    schema = yaml.safe_load(SCHEMA.read_text())
    operations = [op for item in schema["paths"].values() for op in item.values() if "operationId" in op]
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)+", op["operationId"]) for op in operations)
    assert all(op.get("summary") for op in operations)
    bodies = [op["requestBody"]["content"] for op in operations if "requestBody" in op]
    assert all(len(content) == 1 for content in bodies)  # one content type a body
    names = set(schema["components"]["schemas"])
    assert not [n for n in names if n.endswith("RequestRequest") or n.endswith("Enum")]
    for op in operations:  # every error status answers the Error shape
        for code, response in op["responses"].items():
            if code >= "400":
                error = response["content"]["application/json"]["schema"]
                assert error == {"$ref": "#/components/schemas/Error"}, (op["operationId"], code)
    ids = {op["operationId"] for op in operations}
    assert {"plan_whatif", "job_create", "job_cancel", "session_stop", "device_revoke", "job_input"} <= ids


def test_every_generated_module_imports():
    import edgeorch_client

    names = [m.name for m in pkgutil.walk_packages(edgeorch_client.__path__, "edgeorch_client.")]
    assert len(names) > 80
    for name in names:
        importlib.import_module(name)


def test_the_generated_client_passes_ruff():
    ruff = Path(sys.executable).parent / "ruff"
    result = subprocess.run([str(ruff), "check", str(CLIENT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


# --- what the schema says is what the server answers ---------------------------------------------------


def test_a_job_created_through_the_client_is_accepted(alice, digits, devices):
    phone, _ = devices
    body = JobCreateRequest(model="digits-cnn", source="phone", sample=1)
    response = job_create.sync_detailed(client=as_user(alice), body=body)
    assert response.status_code == 202 and isinstance(response.parsed, JobDetail)
    assert response.parsed.source == phone.pk and response.parsed.model == digits.pk


def test_every_list_parses(alice, digits, devices):
    api = as_user(alice)
    created = enrollment_token_create.sync(client=api, body=EnrollmentTokenRequest(name="lab", max_uses=2))
    assert isinstance(created, EnrollmentTokenCreated) and created.token.startswith("eet_")
    tokens = enrollment_token_list.sync(client=api)
    assert [t.name for t in tokens.results if t.name == "lab"] == ["lab"]
    assert isinstance(enrollment_token_get.sync(created.id, client=api), EnrollmentToken)
    assert {d.name for d in device_list.sync(client=api).results} == {"phone", "edge"}
    assert [m.name for m in model_list.sync(client=api).results] == ["digits-cnn"]
    assert model_get.sync(digits.pk, client=api).name == "digits-cnn"
    cuts = model_cuts.sync(digits.pk, client=api)
    assert [c.index for c in cuts] == list(range(len(cuts))) and cuts
    manifest = model_segments.sync(digits.pk, client=api, cuts="1")
    assert manifest.cuts == [1] and len(manifest.segments) == 2
    assert {s.name for s in strategy_list.sync(client=api)} >= {"local", "device-edge", "pipeline"}
    assert device_links.sync(devices[0].pk, client=api) == []
    series = device_telemetry.sync(devices[0].pk, client=api, metric="cpu.percent")
    assert series.points == [] and series.metric == "cpu.percent"
    for listing in (job_list, session_list, measurement_list):
        assert listing.sync(client=api).count == 0


def test_a_sessions_frames_page_through_the_client(alice, digits, devices):
    from edgeorch.jobs import services

    api = as_user(alice)
    body = SessionCreateRequest(model=str(digits.pk), source=str(devices[0].pk), rate=5.0, frames=5)
    session = session_create.sync(client=api, body=body)
    assert isinstance(session, SessionDetail)
    frames = [{"request_id": k, "ok": True, "latency_s": 0.01, "trace": []} for k in range(5)]
    assert services.record_frames(session.id, frames, devices[0].pk) == 5
    first = session_frames.sync(session.id, client=api, limit=2)
    rest = session_frames.sync(session.id, client=api, limit=10, offset=2)
    assert first.count == 5 and [f.request_id for f in first.results + rest.results] == list(range(5))
    assert session_list.sync(client=api).results[0].id == session.id


def test_a_what_if_takes_the_model_and_devices_by_name(alice, digits, devices):
    body = WhatIfRequest(model="digits-cnn", source="phone", strategy="device-edge")
    plan = plan_whatif.sync(client=as_user(alice), body=body)
    assert isinstance(plan, Plan) and plan.model.name == "digits-cnn"
    assert {stage.device for stage in plan.stages} <= {str(d.pk) for d in devices}


def test_each_error_status_parses_into_the_error_shape(alice, bob, digits, devices):
    api = as_user(alice)
    refused = job_create.sync_detailed(client=api, body=JobCreateRequest(model="nope", source="phone"))
    assert refused.status_code == 400 and isinstance(refused.parsed, Error)
    assert refused.parsed.additional_properties["model"] == ["no model 'nope' in the catalog"]
    unknown = job_get.sync_detailed(999_999, client=api)
    assert unknown.status_code == 404 and "No Job matches" in unknown.parsed.detail
    anonymous = Client(base_url="http://testserver", httpx_args=in_process())
    nobody = job_list.sync_detailed(client=anonymous)  # type: ignore[arg-type]  # what a script gets
    assert nobody.status_code == 401 and isinstance(nobody.parsed, Error) and nobody.parsed.detail
    viewer = job_create.sync_detailed(client=as_user(bob), body=JobCreateRequest(model="1", source="phone"))
    assert viewer.status_code == 403 and "read-only" in viewer.parsed.detail
    job = job_create.sync(client=api, body=JobCreateRequest(model="digits-cnn", source="phone"))
    assert job_cancel.sync_detailed(job.id, client=api).status_code == 200
    again = job_cancel.sync_detailed(job.id, client=api)
    assert again.status_code == 409 and isinstance(again.parsed, Error) and again.parsed.detail
    body = WhatIfRequest(model="digits-cnn", source="nowhere")
    nowhere = plan_whatif.sync_detailed(client=api, body=body)
    assert nowhere.status_code == 400 and nowhere.parsed.additional_properties["source"] == [
        "no device 'nowhere'"
    ]
