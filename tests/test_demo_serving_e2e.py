"""The demo's serving story, as a new user meets it after ``make demo``: ``run_scenario --fleet-only`` starts
a fleet whose camera opens its inference endpoint and says where; an application on the camera asks it for an
inference, waits while the control plane plans and deploys, and gets the whole model's answer. Marked demo:
it runs again on SQLite, the configuration ``make demo`` uses."""

from __future__ import annotations

import io
import os
import re
import signal

import numpy as np
import pytest
import requests
import yaml
from django.core.management import call_command

from edgeorch.jobs.models import Frame, Session

from .support import full_model_output, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.demo, pytest.mark.e2e]


@pytest.fixture(autouse=True)
def same_queue(server_env):
    """``run_scenario`` runs in this process and enqueues here: on the test worker's queue."""
    from edgeorch.celery import app

    default = app.conf.task_default_queue
    app.conf.task_default_queue = server_env["EDGEORCH_CELERY_QUEUE"]
    yield
    app.conf.task_default_queue = default


FLEET = {
    "name": "tiny-demo",
    "model": "digits-cnn",
    "devices": [
        {"name": "cam", "role": "end", "profile": "rpi4", "serve_port": 0},
        {"name": "edge", "role": "edge", "profile": "edge-server"},
    ],
    "links": [{"between": ["cam", "edge"], "bandwidth_bps": 1.0e8, "rtt_s": 0.002}],
    "session": {"source": "cam", "rate": 4, "frames": 4},
}


@pytest.mark.usefixtures("worker")
def test_the_demo_camera_serves_inferences_at_the_endpoint_it_prints(live_server_proc, digits, tmp_path):
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump(FLEET))
    run_dir = tmp_path / "run"
    out = io.StringIO()
    server = ["--server", live_server_proc.url, "--run-dir", str(run_dir)]
    call_command("run_scenario", str(path), "--fleet-only", *server, stdout=out)
    try:
        printed = re.search(r"^cam serves inference at (http://\S+/v2) ", out.getvalue(), re.MULTILINE)
        assert printed is not None, out.getvalue()
        assert "edge serves" not in out.getvalue()  # only the devices that open an endpoint
        endpoint = printed[1]
        assert requests.get(endpoint + "/health/live", timeout=5).status_code == 200

        x = np.random.default_rng(3).random(digits.inputs[0]["shape"], dtype=np.float32)
        body = {
            "inputs": [
                {
                    "name": digits.inputs[0]["name"],
                    "shape": list(x.shape),
                    "datatype": "FP32",
                    "data": x.ravel().tolist(),
                }
            ],
            "parameters": {"wait_s": 60},  # the first request waits while the control plane deploys
        }
        answer = requests.post(f"{endpoint}/models/{digits.name}/infer", json=body, timeout=90)
        assert answer.status_code == 200, answer.text
        output = answer.json()["outputs"][0]
        got = np.array(output["data"], dtype=np.float32).reshape(output["shape"])
        assert np.allclose(got, full_model_output(digits, x), atol=1e-5)
        # ... and the control plane hears of it after the fact.
        session = Session.objects.get(serve__isnull=False, source__name="cam")
        wait_until(
            lambda: Frame.objects.filter(session=session).count() == 1,
            timeout=30,
            message="the request's trace stored",
        )
    finally:
        for pid_file in run_dir.glob("agent-*.pid"):
            try:
                os.killpg(int(pid_file.read_text()), signal.SIGTERM)
            except ProcessLookupError:
                pass
