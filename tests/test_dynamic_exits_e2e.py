"""Dynamic inference over a branchy model's early exits, end to end (docs/qos.md "Dynamic inference"): on a
live Daphne, a real Celery worker and a real agent process, a ``dynamic`` session of ``digits-branchy`` gets
a table of its configurations (the model and each early exit, registered as its variants), and its source
answers each frame with the most accurate configuration whose predicted latency meets the deadline: a loose
deadline takes the full model, a deadline the full model cannot meet takes an early exit. Each frame records
the configuration and its accuracy. The agent emulates a slow device so that the exits' costs differ."""

from __future__ import annotations

import json

import pytest

from edgeorch.devices import services as device_services
from edgeorch.devices.models import Device
from edgeorch.jobs.models import Frame, Session

from .support import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.e2e]

# Three hundred times this host's time: the branchy model's exits cost about a hundred ms apart, a frame
# (at 2 a second) computed before the next comes.
SLOW = {
    "name": "dynamic-slow",
    "description": "a slow end device, for the dynamic inference test only",
    "class": "end",
    "speed": 300.0,
    "units": [{"name": "cpu", "speed": 1.0, "shm_bandwidth_bps": 3.2e10}],
}


@pytest.fixture
def branchy(live_server_proc):
    """The zoo's branchy model and its early exits (``register_exits``), in the live server's media."""
    from edgeorch.catalog import services, zoo
    from edgeorch.catalog.choices import ModelSource

    directory = zoo.default_zoo_dir()
    built = next(m for m in zoo.build_zoo(directory) if m.name == "digits-branchy")
    model = services.register_model(
        (directory / built.file).read_bytes(),
        name=built.name,
        version=built.version,
        task=built.task,
        source=ModelSource.BUILTIN,
        accuracy=built.accuracy,
        exits=built.exits,
        labels=zoo.labels_of(built.name),
    )
    return model, services.register_exits(model)


def predicted(config: dict) -> float:
    return config["transfer_s"] + sum(s["compute_s"] for s in config["stages"])


def run_session(api, model, device_id, deadline_s: float) -> tuple[Session, list[Frame]]:
    created = api.post(
        api.base + "/api/sessions/",
        json={
            "model": model.pk,
            "source": device_id,
            "strategy": "local",
            "rate": 2,
            "frames": 24,
            "deadline_s": deadline_s,
            "dynamic": True,
        },
    )
    assert created.status_code == 202, created.text
    done = wait_until(
        lambda: Session.objects.filter(pk=created.json()["id"], state="completed").first(),
        timeout=90,
        message="the session completed",
    )
    return done, list(Frame.objects.filter(session=done).order_by("request_id"))


def test_a_tight_deadline_is_served_by_an_early_exit_and_a_loose_one_by_the_full_model(
    agents, worker, api, branchy, tmp_path
):
    model, (exit1, exit2) = branchy
    profile = tmp_path / "slow.json"
    profile.write_text(json.dumps(SLOW))
    _, token = device_services.create_enrollment_token()
    cam = agents("cam")
    assert cam.enroll(token).returncode == 0
    cam.start("--profile", str(profile))
    wait_until(lambda: Device.objects.filter(pk=cam.device_id, status="online").exists(), message="online")
    for each in (model, exit1, exit2):  # measured block times: the table's predictions are the slow device's
        response = api.post(
            f"{api.base}/api/devices/{cam.device_id}/profile/",
            json={"model": each.pk, "warmup": 1, "repeats": 3},
            timeout=10,
        )
        assert response.status_code == 202, response.text
        pk = response.json()["id"]
        wait_until(
            lambda pk=pk: api.get(f"{api.base}/api/measurements/{pk}/", timeout=10).json()["state"] == "done",
            message=f"profile {pk}",
        )

    loose, loose_frames = run_session(api, model, cam.device_id, 30.0)
    table = {c["variant"]: c for c in loose.dynamic}
    assert set(table) == {model.name, exit1.name, exit2.name}, loose.dynamic
    assert [table[m.name]["exit"] for m in (exit1, exit2, model)] == [0, 1, None]
    assert [table[m.name]["accuracy"] for m in (exit1, exit2, model)] == [
        exit1.accuracy,
        exit2.accuracy,
        model.accuracy,
    ]
    assert exit1.accuracy < model.accuracy and exit2.accuracy < model.accuracy
    chosen = [f for f in loose_frames if f.config]  # frames after the table reached the source
    assert chosen, [(f.request_id, f.ok, f.error) for f in loose_frames]
    assert {f.config for f in chosen} == {table[model.name]["name"]}
    assert {f.accuracy for f in chosen if f.ok} == {model.accuracy} and any(f.ok for f in chosen)

    # A deadline the first exit's predicted latency meets and no other configuration's does.
    first, rest = predicted(table[exit1.name]), min(predicted(table[m.name]) for m in (exit2, model))
    assert first < rest, loose.dynamic
    print(f"predicted: exit1 {first * 1e3:.2f} ms, the next {rest * 1e3:.2f} ms")
    tight, frames = run_session(api, model, cam.device_id, first + 0.75 * (rest - first))
    table = {c["variant"]: c for c in tight.dynamic}
    chosen = [f for f in frames if f.config]
    assert chosen, [(f.request_id, f.ok, f.error) for f in frames]
    assert {f.config for f in chosen} == {table[exit1.name]["name"]}
    assert {f.model_id for f in chosen} == {exit1.pk}
    assert {f.accuracy for f in chosen if f.ok} == {exit1.accuracy} and any(f.ok for f in chosen)
    assert tight.summary["configs"][table[exit1.name]["name"]] == len(chosen)
    assert loose.summary["configs"][table[model.name]["name"]] == len([f for f in loose_frames if f.config])
