"""A script's day through the generated client (clients/python), against a live Daphne, a Celery worker and
real agents: no raw HTTP, no workaround. What the README's scripting section shows, end to end."""

from __future__ import annotations

import json
import os
import signal
from io import BytesIO

import numpy as np
import onnx
import pytest
from edgeorch_client import AuthenticatedClient
from edgeorch_client.api.devices import (
    device_links,
    device_list,
    device_probe,
    device_profile,
    device_telemetry,
)
from edgeorch_client.api.enrollment_tokens import enrollment_token_create, enrollment_token_list
from edgeorch_client.api.jobs import job_cancel, job_create, job_get, job_output, job_upload
from edgeorch_client.api.measurements import measurement_get
from edgeorch_client.api.models import model_create
from edgeorch_client.api.plans import plan_whatif
from edgeorch_client.api.sessions import session_create, session_frames, session_get, session_stop
from edgeorch_client.models import (
    EnrollmentTokenRequest,
    JobCreateRequest,
    JobUploadRequest,
    MeasurementState,
    ModelUploadRequest,
    ProfileRunRequest,
    RunState,
    SessionCreateRequest,
    WhatIfRequest,
)
from edgeorch_client.types import File

from .support import full_model_output, token_for, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

ENDED = {RunState.COMPLETED, RunState.FAILED, RunState.CANCELLED}


def ended(read, pk, client, timeout=30.0):
    def done():
        run = read.sync(pk, client=client)
        return run if run.state in ENDED else None

    return wait_until(done, timeout=timeout, message=f"run {pk} to end")


def every_page(listing, client, limit):
    """A list's items, page after page, by ``limit`` and ``offset`` (the client never parses ``next``)."""
    items, offset = [], 0
    while True:
        page = listing.sync(client=client, limit=limit, offset=offset)
        items += page.results
        offset += limit
        if offset >= page.count:
            return items


def test_a_script_runs_the_fleet_through_the_generated_client(fleet, live_server_proc, digits, alice):
    api = AuthenticatedClient(
        base_url=live_server_proc.url, token=token_for(alice), prefix="Token", raise_on_unexpected_status=True
    )
    created = enrollment_token_create.sync(client=api, body=EnrollmentTokenRequest(name="lab", max_uses=3))
    assert created.token.startswith("eet_") and created.token in created.install_command
    assert [t.name for t in enrollment_token_list.sync(client=api).results] == ["lab"]

    phone, edge, spare = fleet("phone", "edge", "spare")
    assert {d.name for d in every_page(device_list, api, limit=2)} == {"phone", "edge", "spare"}

    mine = onnx.load(digits.artifact_path)
    mine.doc_string = "a copy of my own"  # other bytes: the catalog refuses a file it already holds
    onnx_file = File(payload=BytesIO(mine.SerializeToString()), file_name="digits.onnx")
    upload = ModelUploadRequest(file=onnx_file, name="my-digits")
    uploaded = model_create.sync_detailed(client=api, body=upload)
    assert uploaded.status_code == 201 and uploaded.parsed.name == "my-digits" and uploaded.parsed.cuts

    cut = {"cut": 3, "device": edge.device_id}
    what_if = WhatIfRequest(model="digits-cnn", source="phone", strategy="split", params=cut)
    plan = plan_whatif.sync(client=api, body=what_if)
    assert [s.device for s in plan.stages] == [phone.device_id, edge.device_id] and plan.latency > 0

    split = {"model": "digits-cnn", "source": "phone", "strategy": "split"}
    accepted = job_create.sync_detailed(client=api, body=JobCreateRequest(**split, params=cut, sample=7))
    assert accepted.status_code == 202
    job = ended(job_get, accepted.parsed.id, api)
    assert job.state == RunState.COMPLETED, job.reason
    assert [s.device for s in job.stages] == [phone.device_id, edge.device_id] and job.plan.latency > 0
    output = np.load(BytesIO(job_output.sync_detailed(job.id, client=api).content))
    tensor = np.random.default_rng(3).random((1, 1, 8, 8), dtype=np.float32)
    buffer = BytesIO()
    np.save(buffer, tensor)
    npy = File(payload=BytesIO(buffer.getvalue()), file_name="x.npy")
    body = JobUploadRequest(**split, params=json.dumps(cut), input_=npy)  # a form field: JSON text
    posted = ended(job_get, job_upload.sync(client=api, body=body).id, api)
    assert posted.state == RunState.COMPLETED and output.shape == (1, 10)
    uploaded_output = np.load(BytesIO(job_output.sync_detailed(posted.id, client=api).content))
    assert np.allclose(uploaded_output, full_model_output(digits, tensor), atol=1e-5)

    stream = SessionCreateRequest(model="digits-cnn", source="phone", strategy="local", rate=50.0, frames=9)
    session = ended(session_get, session_create.sync(client=api, body=stream).id, api)
    assert session.state == RunState.COMPLETED and session.frames_ok == 9
    pages = [session_frames.sync(session.id, client=api, limit=4, offset=k) for k in (0, 4, 8)]
    assert [f.request_id for page in pages for f in page.results] == list(range(9)) and pages[0].count == 9

    profile = device_profile.sync(
        phone.device_id, client=api, body=ProfileRunRequest(model="digits-cnn", warmup=1, repeats=2)
    )
    probe = device_probe.sync(phone.device_id, client=api)
    for measurement in (profile, probe):
        wait_until(
            lambda m=measurement: measurement_get.sync(m.id, client=api).state == MeasurementState.DONE,
            timeout=60,
            message=f"measurement {measurement.id}",
        )
    assert {link.peer_name for link in device_links.sync(phone.device_id, client=api)} >= {"edge", "spare"}

    os.killpg(edge.proc.pid, signal.SIGSTOP)  # the edge stops answering: the next split job cannot end alone
    try:
        stuck = job_create.sync(client=api, body=JobCreateRequest(**split, params=cut, sample=1))
        cancelled = job_cancel.sync_detailed(stuck.id, client=api)
        assert cancelled.status_code == 200 and cancelled.parsed.state == RunState.CANCELLED
        assert job_cancel.sync_detailed(stuck.id, client=api).status_code == 409
    finally:
        os.killpg(edge.proc.pid, signal.SIGCONT)
    endless = SessionCreateRequest(
        model="digits-cnn", source="phone", strategy="local", rate=2.0, frames=10_000
    )
    running = session_create.sync(client=api, body=endless)
    assert session_stop.sync(running.id, client=api).id == running.id
    assert ended(session_get, running.id, api).state == RunState.CANCELLED

    series = device_telemetry.sync(phone.device_id, client=api, metric="cpu.percent")
    assert series.points and series.points[0].n >= 1 and "cpu.percent" in series.metrics
