"""The jobs state machine and its races, without agents: the services are called as the consumer would."""

from __future__ import annotations

import uuid

import numpy as np
import pytest
from edgeorch_wire import protocol as p
from edgeorch_wire.codecs import encode
from edgeorch_wire.frames import Activation, activation_bytes

from edgeorch.devices import services as device_services
from edgeorch.jobs import inputs, services, stats
from edgeorch.jobs.choices import DeploymentState, RunState
from edgeorch.jobs.models import Deployment, IllegalTransition, Job, Session
from edgeorch.jobs.services import submit

pytestmark = pytest.mark.demo


@pytest.fixture
def planned(digits, devices):
    """A job planned and deployed (a split at cut 2 from phone to edge), waiting for the deploys."""
    phone, edge = devices
    job = services.submit_job(
        model=digits,
        source=phone,
        strategy="split",
        params={"cut": 2, "device": str(edge.pk)},
        sample=0,
        base_url="http://cp",
    )
    services.dispatch_job(job.pk)
    return Job.objects.get(pk=job.pk)


def deploy_all(job):
    for device_id in job.deployment.devices:
        services.record_deploy_status(device_id, p.DeployStatus(str(job.deployment_id), True, None, 0.01))
    return Job.objects.get(pk=job.pk)


def result_for(job, array):
    trace = [
        {"stage": 0, "device": "a", "compute_s": 0.001, "start": 1.0, "end": 1.001},
        {"stage": 1, "device": "b", "compute_s": 0.002, "transfer_s": 0.003, "start": 1.004, "end": 1.006},
    ]
    message = p.Result(str(job.deployment_id), job.pk, None, trace, {"name": "logits", "shape": [1, 10]})
    frame = Activation(
        str(job.deployment_id), job.pk, 1, "logits", "float32", array.shape, "raw", encode("raw", array)[0]
    )
    return message, activation_bytes(frame)


def test_a_planned_job_waits_for_every_deploy_and_then_runs(planned):
    assert planned.state == RunState.DEPLOYING and planned.plan["stages"][1]["first_block"] == 2
    assert planned.deployment.cuts == "1" and len(planned.deployment.stages) == 2
    assert planned.deployment.stages[0]["next"]["port"] == 9001
    first = planned.deployment.devices[0]
    services.record_deploy_status(first, p.DeployStatus(str(planned.deployment_id), True, None, 0.01))
    assert Job.objects.get(pk=planned.pk).state == RunState.DEPLOYING
    job = deploy_all(planned)
    assert job.state == RunState.RUNNING and job.started_at is not None
    assert job.deployment.state == DeploymentState.READY


def test_a_second_job_with_the_same_plan_reuses_the_ready_deployment_and_runs_at_once(
    planned, digits, devices
):
    deploy_all(planned)
    again = services.submit_job(
        model=digits,
        source=devices[0],
        strategy="split",
        params={"cut": 2, "device": str(devices[1].pk)},
        base_url="http://cp",
    )
    services.dispatch_job(again.pk)
    again.refresh_from_db()
    assert again.deployment_id == planned.deployment_id and again.state == RunState.RUNNING


def test_a_result_completes_the_job_with_its_output_trace_and_measured_latency(planned):
    job = deploy_all(planned)
    array = np.arange(10, dtype=np.float32).reshape(1, 10)
    assert services.record_result(job.deployment.devices[-1], *result_for(job, array))
    job.refresh_from_db()
    assert job.state == RunState.COMPLETED and job.measured_latency_s > 0
    assert np.array_equal(np.load(job.output_path), array)
    assert stats.stage_totals(job.trace)["compute_s"] == pytest.approx(0.003)


def test_the_measured_latency_runs_from_the_start_to_the_stored_result(planned):
    job = deploy_all(planned)
    assert services.record_result(job.deployment.devices[-1], *result_for(job, np.zeros((1, 10), np.float32)))
    job.refresh_from_db()
    expected = (job.finished_at - job.started_at).total_seconds()
    assert job.measured_latency_s == pytest.approx(expected, abs=1e-4)


def test_a_repeated_or_misaddressed_result_keeps_the_stored_output(planned):
    job = deploy_all(planned)
    first = np.arange(10, dtype=np.float32).reshape(1, 10)
    assert services.record_result(job.deployment.devices[-1], *result_for(job, first))
    stored = Job.objects.get(pk=job.pk)
    assert not services.record_result(job.deployment.devices[-1], *result_for(job, first * 0))
    message, data = result_for(job, first)
    message.deployment_id = "not-a-deployment"
    assert not services.record_result(job.deployment.devices[-1], message, data)
    again = Job.objects.get(pk=job.pk)
    assert (again.state, again.finished_at, again.trace) == (stored.state, stored.finished_at, stored.trace)
    assert np.array_equal(np.load(job.output_path), first)
    assert sorted(f.name for f in job.output_path.parent.iterdir()) == ["input.npy", "output.npy"]


def test_a_result_for_a_job_on_another_deployment_does_not_complete_it(planned):
    job = deploy_all(planned)
    message, data = result_for(job, np.zeros((1, 10), np.float32))
    message.deployment_id = str(uuid.uuid4())
    assert not services.record_result(job.deployment.devices[-1], message, data)
    assert Job.objects.get(pk=job.pk).state == RunState.RUNNING and not job.output_path.exists()


def test_a_result_arriving_after_the_timeout_changes_nothing(planned):
    job = deploy_all(planned)
    assert services.expire(Job, job.pk)
    job.refresh_from_db()
    assert job.state == RunState.FAILED and job.failed_stage == 1
    assert job.reason.startswith(
        f"timed out after {job.timeout_s:g} s at stage 1 (edge) waiting for the result"
    )
    assert not services.record_result("x", *result_for(job, np.zeros((1, 10), np.float32)))
    assert Job.objects.get(pk=job.pk).state == RunState.FAILED and not job.output_path.exists()
    assert not services.expire(Job, job.pk)  # a second timeout is a no-op


def test_a_job_stuck_deploying_times_out_naming_the_device_and_its_deployment_is_not_reused(planned):
    assert services.expire(Job, planned.pk)
    planned.refresh_from_db()
    assert "waiting for phone, edge to load its segments" in planned.reason and planned.failed_stage == 0
    assert Deployment.objects.get(pk=planned.deployment_id).state == DeploymentState.FAILED


def test_a_stage_error_from_a_device_outside_the_job_fails_nothing(planned):
    job = deploy_all(planned)
    _, token = device_services.create_enrollment_token()
    stranger = device_services.enroll_device(token, name="stranger").device
    services.record_stage_error(
        stranger.pk, p.StageFailed(str(job.deployment_id), job.pk, None, 1, str(stranger.pk), "boom")
    )
    job.refresh_from_db()
    assert job.state == RunState.RUNNING and not job.reason


def test_a_stage_error_fails_the_job_at_that_stage(planned):
    job = deploy_all(planned)
    edge = job.deployment.devices[1]
    services.record_stage_error(edge, p.StageFailed(str(job.deployment_id), job.pk, None, 1, edge, "boom"))
    job.refresh_from_db()
    assert (
        job.state == RunState.FAILED
        and job.failed_stage == 1
        and job.reason == "stage 1 on edge failed: boom"
    )


def test_a_failed_deploy_fails_the_waiting_job(planned):
    edge = planned.deployment.devices[1]
    services.record_deploy_status(edge, p.DeployStatus(str(planned.deployment_id), False, "no memory", 0.0))
    planned.refresh_from_db()
    assert planned.state == RunState.FAILED and "deploy failed on stage 1: no memory" in planned.reason


def test_a_device_going_away_fails_its_running_jobs_and_retires_its_deployments(planned):
    job = deploy_all(planned)
    assert services.device_gone(job.deployment.devices[1]) == 1
    job.refresh_from_db()
    assert job.state == RunState.FAILED and job.reason == "device edge disconnected during stage 1"
    assert Deployment.objects.get(pk=job.deployment_id).state == DeploymentState.RETIRED


def test_an_ended_job_cannot_be_cancelled_or_moved_again(planned):
    job = services.cancel_job(planned.pk)
    assert job.state == RunState.CANCELLED
    with pytest.raises(IllegalTransition):
        services.cancel_job(planned.pk)
    with pytest.raises(IllegalTransition):
        job.move_to(RunState.RUNNING)


def test_a_job_whose_strategy_cannot_plan_fails_with_the_planners_reason(digits, devices):
    job = services.submit_job(
        model=digits, source=devices[0], strategy="split", params={"cut": 99, "device": "x"}
    )
    services.dispatch_job(job.pk)
    job.refresh_from_db()
    assert job.state == RunState.FAILED and job.reason.startswith("planning failed:")


def test_submitting_refuses_an_offline_source_and_a_wrong_input(digits, devices):
    phone = devices[0]
    with pytest.raises(services.SubmitError, match="must have shape"):
        services.submit_job(model=digits, source=phone, upload=inputs.to_npy(np.zeros((2, 2), np.float32)))
    with pytest.raises(services.SubmitError, match="must be float32"):
        services.submit_job(
            model=digits, source=phone, upload=inputs.to_npy(np.zeros((1, 1, 8, 8), np.int64))
        )
    with pytest.raises(services.SubmitError, match="sample must be between 0 and 449"):
        services.submit_job(model=digits, source=phone, sample=450)
    phone.status = "offline"
    with pytest.raises(services.SubmitError, match="phone is offline"):
        services.submit_job(model=digits, source=phone)


def test_a_sample_is_the_digits_test_image_scaled_as_in_training(digits):
    from sklearn.datasets import load_digits

    array = inputs.sample(digits, 5)
    assert array.shape == (1, 1, 8, 8) and array.dtype == np.float32 and 0 <= array.min() and array.max() <= 1
    assert any(np.allclose(array[0, 0], image / 16.0) for image in load_digits().images)


def test_a_session_summary_has_percentiles_throughput_misses_and_overlap(digits, devices):
    session = services.start_session(
        model=digits, source=devices[0], strategy="local", rate=10, frames=4, deadline_s=0.05
    )
    frames = [
        {
            "request_id": i,
            "ok": True,
            "latency_s": 0.02 * (i + 1),
            "error": None,
            "trace": [{"stage": 0, "compute_s": 0.01, "start": 0.01 * i, "end": 0.01 * i + 0.03}],
        }
        for i in range(4)
    ]
    assert services.record_frames(session.pk, frames, devices[1].pk) == 0  # not the source: ignored
    assert (
        services.record_frames(session.pk, frames + frames[:1], devices[0].pk) == 5
    )  # a duplicate is ignored
    summary = stats.summarise(Session.objects.get(pk=session.pk))
    assert summary["frames"] == 4 and summary["deadline_misses"] == 2 and summary["overlapped"] == 3
    assert summary["latency_s"]["p50"] == pytest.approx(0.05) and summary["throughput_fps"] == pytest.approx(
        4 / 0.06
    )
    assert summary["energy"]["emulated_j"] is None  # the phone has no profile, so no power model


def test_the_periodic_probe_asks_every_connected_agent(devices):
    from edgeorch.jobs.models import Measurement

    assert services.probe_fleet() == 2
    assert sorted(
        Measurement.objects.filter(kind=Measurement.PROBE).values_list("device_id", flat=True)
    ) == sorted(d.pk for d in devices)
    devices[1].status = "offline"
    devices[1].save(update_fields=["status"])
    assert services.probe_fleet() == 1  # a lone agent has no peers, but still a control-plane link


def test_beat_schedules_liveness_roll_up_overdue_runs_and_link_probing():
    from edgeorch.celery import app

    app.loader.import_default_modules()
    app.finalize()
    scheduled = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert {
        "devices.mark_stale_offline",
        "telemetry.roll_up",
        "jobs.expire_overdue",
        "jobs.probe_fleet",
    } <= scheduled
    assert "jobs.probe_fleet" in app.tasks and "jobs.expire_overdue" in app.tasks


def _listen(group: str):
    """A real channel-layer channel in ``group``, and a function that waits for its next dashboard event."""
    import asyncio

    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(group, channel)

    async def next_event():
        return (await asyncio.wait_for(layer.receive(channel), 5))["event"]

    return lambda: async_to_sync(next_event)()


def test_state_changes_and_frames_reach_the_dashboard(
    planned, devices, digits, django_capture_on_commit_callbacks
):
    next_event = _listen("dashboard")
    with django_capture_on_commit_callbacks(execute=True):
        job = deploy_all(planned)
    event = next_event()
    assert event["kind"] == "job.running" and event["data"]["id"] == str(job.pk)
    assert event["topics"] == ["runs", f"job:{job.pk}"]

    session = services.start_session(
        model=digits, source=devices[0], strategy="local", rate=10, frames=2, base_url="http://cp"
    )
    frames_of_session = _listen(f"dashboard.session.{session.pk}")
    services.record_frames(
        session.pk, [{"request_id": 0, "ok": True, "latency_s": 0.01, "trace": []}], devices[0].pk
    )
    event = frames_of_session()
    assert event["kind"] == "session.frames" and event["data"]["frames"][0]["request_id"] == 0


def test_a_relay_to_an_agent_that_is_not_connected_fails_the_job_at_once_naming_the_stage(planned):
    job = deploy_all(planned)
    array = np.zeros((1, 8, 4, 4), dtype=np.float32)
    act = Activation(
        str(job.deployment_id), job.pk, 1, "x", "float32", array.shape, "raw", encode("raw", array)[0]
    )
    edge = job.deployment.devices[-1]
    assert services.relay_failed(p.Relay(str(job.deployment_id), job.pk, edge), activation_bytes(act))
    job.refresh_from_db()
    assert job.state == RunState.FAILED and job.failed_stage == 1
    assert "stage 1 on edge is unreachable" in job.reason


def test_a_lost_relay_of_a_stream_frame_or_another_deployment_fails_no_job(planned):
    job = deploy_all(planned)
    array = np.zeros((1, 4), dtype=np.float32)
    frame = Activation(
        str(job.deployment_id),
        job.pk,
        1,
        "x",
        "float32",
        array.shape,
        "raw",
        encode("raw", array)[0],
        session_id="s-1",
    )
    edge = job.deployment.devices[-1]
    assert not services.relay_failed(p.Relay(str(job.deployment_id), job.pk, edge), activation_bytes(frame))
    for other_id in (str(uuid.uuid4()), "not-a-deployment"):
        other = Activation(other_id, job.pk, 1, "x", "float32", array.shape, "raw", encode("raw", array)[0])
        assert not services.relay_failed(p.Relay(other_id, job.pk, edge), activation_bytes(other))
        assert services.relay_channel(p.Relay(other_id, job.pk, edge)) is None
    job.refresh_from_db()
    assert job.state == RunState.RUNNING


def test_a_measurement_never_answered_fails_at_the_sweep_and_an_answered_one_stays(devices, settings):
    from datetime import timedelta

    from django.utils import timezone

    from edgeorch.jobs.choices import MeasurementState
    from edgeorch.jobs.models import Measurement

    settings.MEASUREMENT_TIMEOUT_S = 60
    silent = services.probe_links(devices[0])
    answered = services.probe_links(devices[1])
    answered.state = MeasurementState.DONE
    answered.save(update_fields=["state"])
    services.expire_overdue(now=timezone.now() + timedelta(seconds=30))
    assert Measurement.objects.get(pk=silent.pk).state == MeasurementState.PENDING  # still within its time
    services.expire_overdue(now=timezone.now() + timedelta(seconds=61))
    silent.refresh_from_db()
    assert silent.state == MeasurementState.FAILED and "no answer from the agent within 60 s" in silent.error
    assert Measurement.objects.get(pk=answered.pk).state == MeasurementState.DONE


def test_a_job_whose_input_cannot_be_stored_is_not_left_behind(digits, devices, monkeypatch):
    def disk_full(path, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(submit, "_write", disk_full)
    before = Job.objects.count()
    with pytest.raises(OSError, match="No space left"):
        services.submit_job(model=digits, source=devices[0], strategy="local", base_url="http://cp")
    assert Job.objects.count() == before
