"""Dispatch: the one-transaction path for a ready deployment, the plan cache and its invalidation, and
commits that do not wait for the disk."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from edgeorch_wire import protocol as p

from edgeorch.devices.choices import DeviceStatus
from edgeorch.jobs import services
from edgeorch.jobs.choices import DeploymentState, RunState
from edgeorch.jobs.models import Deployment, Job
from edgeorch.jobs.services import deployments, dispatch, transactions
from edgeorch.plans import measurements


@pytest.fixture
def ready(digits, devices):
    """A first split job from phone to edge, its deployment ready: later jobs find it."""
    job = split_job(digits, devices)
    services.dispatch_job(job.pk)
    job.refresh_from_db()
    for device_id in job.deployment.devices:
        services.record_deploy_status(device_id, p.DeployStatus(str(job.deployment_id), True, None, 0.01))
    job.refresh_from_db()
    assert job.state == RunState.RUNNING
    return job


def split_job(digits, devices):
    phone, edge = devices
    return services.submit_job(
        model=digits,
        source=phone,
        strategy="split",
        params={"cut": 2, "device": str(edge.pk)},
        base_url="http://cp",
    )


def dispatch_counting(job) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        services.dispatch_job(job.pk)
    return [q["sql"] for q in queries.captured_queries]


def test_a_job_on_a_ready_deployment_starts_without_a_lock_from_the_cached_plan(ready, digits, devices):
    job = split_job(digits, devices)
    sql = dispatch_counting(job)
    job.refresh_from_db()
    assert job.state == RunState.RUNNING and job.deployment_id == ready.deployment_id
    assert job.plan["stages"] == ready.plan["stages"] and job.started_at is not None
    # The run, its devices with the fleet's version, the deployment, and one UPDATE that checks both rows:
    # no transaction, no lock, and none of the problem's ~20 reads.
    assert len(sql) <= 4 and not [s for s in sql if "SAVEPOINT" in s or "FOR UPDATE" in s]
    (update,) = [s for s in sql if "UPDATE" in s]
    assert "EXISTS" in update
    if connection.vendor == "postgresql":  # SQLite has no commit without a flush to ask for
        assert update.startswith("SET LOCAL synchronous_commit TO OFF; UPDATE")
    assert not [s for s in sql if "telemetry" in s or 'plans_blockprofile"."median_s' in s]


def _read_for_dispatch(job):
    run = Job.objects.select_related("source", "model").get(pk=job.pk)
    devices = deployments.candidate_devices(run)
    plan = dispatch.plan_run(run, devices)
    return run, devices, plan, deployments.live_deployments(run, plan, devices).first()


def test_a_deployment_retired_after_it_was_read_does_not_start_the_run(ready, digits, devices):
    job = split_job(digits, devices)
    run, rows, plan, deployment = _read_for_dispatch(job)
    assert deployment.state == DeploymentState.READY
    Deployment.objects.filter(pk=deployment.pk).update(state=DeploymentState.RETIRED)  # a device left
    assert not dispatch._start_on_ready(Job, run, plan, deployment, rows)
    assert Job.objects.get(pk=job.pk).state == RunState.PENDING
    services.dispatch_job(job.pk)  # the locked path plans a new deployment instead
    job.refresh_from_db()
    assert job.state == RunState.DEPLOYING and job.deployment_id != deployment.pk


def test_a_run_cancelled_after_it_was_read_is_not_started(ready, digits, devices):
    job = split_job(digits, devices)
    run, rows, plan, deployment = _read_for_dispatch(job)
    services.cancel_job(job.pk)
    assert not dispatch._start_on_ready(Job, run, plan, deployment, rows)
    job.refresh_from_db()
    assert job.state == RunState.CANCELLED and job.started_at is None


def test_a_device_going_offline_is_planned_around_at_once_despite_the_cache(ready, digits, devices):
    phone, edge = devices
    edge.status = DeviceStatus.OFFLINE
    edge.save(update_fields=["status"])
    job = split_job(digits, devices)
    services.dispatch_job(job.pk)
    job.refresh_from_db()
    assert job.state == RunState.FAILED and job.reason.startswith("planning failed")


def test_a_new_link_measurement_makes_the_next_dispatch_plan_again(ready, digits, devices):
    phone, edge = devices
    assert {link["source"] for link in ready.plan["links"]} == {"assumed"}
    measurements.record_link(phone, edge, 5e6, 0.02)
    job = split_job(digits, devices)
    services.dispatch_job(job.pk)
    job.refresh_from_db()
    assert job.state == RunState.RUNNING
    assert {link["source"] for link in job.plan["links"]} == {"measured"}
    assert job.predicted_latency_s > ready.predicted_latency_s  # 5 Mbit/s and 20 ms, not 100 and 5


def test_without_the_cache_every_dispatch_assembles_its_problem(ready, digits, devices, settings):
    settings.PLAN_CACHE_S = 0
    sql = dispatch_counting(split_job(digits, devices))
    assert [s for s in sql if "telemetry" in s]  # the throttle is read again


def test_a_job_whose_deployment_is_new_is_seen_planning_while_it_deploys(
    digits, devices, settings, monkeypatch
):
    events = []
    settings.PLAN_CACHE_S = 0
    job = split_job(digits, devices)
    real = deployments.create_deployment

    def watching(run, plan, devices):
        events.append(Job.objects.get(pk=run.pk).state)
        return real(run, plan, devices)

    monkeypatch.setattr(deployments, "create_deployment", watching)
    services.dispatch_job(job.pk)
    job.refresh_from_db()
    assert events == [RunState.PLANNING] and job.state == RunState.DEPLOYING


@pytest.mark.parametrize("durable, expected", [(False, "off"), (True, "on")])
def test_run_transactions_wait_for_the_disk_only_when_configured(db, settings, durable, expected):
    if connection.vendor != "postgresql":
        pytest.skip("synchronous_commit is PostgreSQL's; SQLite commits as its PRAGMA synchronous says")
    settings.JOB_SYNCHRONOUS_COMMIT = durable
    with transactions.run_transaction(), connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == expected


def test_a_jobs_prediction_adds_what_recent_jobs_on_its_deployment_took_beyond_their_plan(
    ready, digits, devices
):
    """The plan models compute and transfer, not the run message's and the result's way through the control
    plane: the median of the last jobs' excess on the deployment is added, once there are three."""
    import statistics
    from datetime import timedelta

    import numpy as np
    from django.utils import timezone

    from .test_services import result_for

    jobs, added = [], []
    for k, excess in enumerate([0.030, 0.010, 0.012, 0.500]):  # the last one an outlier
        job = ready if k == 0 else split_job(digits, devices)
        if k:
            services.dispatch_job(job.pk)
            job.refresh_from_db()
            added.append(job.predicted_latency_s - job.plan["latency"])
        started = timezone.now() - timedelta(seconds=job.plan["latency"] + excess)
        Job.objects.filter(pk=job.pk).update(started_at=started)
        job.refresh_from_db()
        zeros = np.zeros((1, 10), np.float32)
        assert services.record_result(job.deployment.devices[-1], *result_for(job, zeros))
        job.refresh_from_db()
        jobs.append(job)
    overheads = jobs[-1].deployment.job_overheads
    # Each is the job's measured latency beyond its plan (the excess above, plus this test's own moments).
    assert overheads == [round(j.measured_latency_s - j.plan["latency"], 6) for j in jobs]
    assert all(o >= e for o, e in zip(overheads, [0.030, 0.010, 0.012, 0.500], strict=True))
    assert added[:2] == [0.0, 0.0]  # fewer than three jobs: the plan's latency alone
    assert added[2] == pytest.approx(statistics.median(overheads[:3]), abs=1e-6)
    last = split_job(digits, devices)
    services.dispatch_job(last.pk)
    last.refresh_from_db()
    excess = last.predicted_latency_s - last.plan["latency"]
    assert excess == pytest.approx(statistics.median(overheads), abs=1e-6)
    assert excess < statistics.mean(overheads) / 2  # a median: the 500 ms outlier does not carry it
