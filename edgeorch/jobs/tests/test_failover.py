"""Failover without agents: which sessions fail over when a device is lost (its socket closing, or the
liveness sweep finding it silent), and what is recorded; the services called as the gateway and beat would."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone
from edgeorch_wire import protocol as p

from edgeorch.devices.models import Device
from edgeorch.jobs import services
from edgeorch.jobs.choices import DeploymentState, RunState
from edgeorch.jobs.models import Deployment, Failure, Session

pytestmark = [pytest.mark.django_db, pytest.mark.demo]  # the demo runs on SQLite: these queries too


def running(digits, phone, edge, failover: str) -> Session:
    session = services.start_session(
        model=digits,
        source=phone,
        strategy="split",
        params={"cut": 2, "device": str(edge.pk)},
        rate=10,
        frames=100,
        base_url="http://cp",
        failover=failover,
    )
    services.dispatch_session(session.pk)
    session.refresh_from_db()
    assert session.deployment is not None
    for device_id in session.deployment.devices:
        services.record_deploy_status(device_id, p.DeployStatus(str(session.deployment_id), True, None, 0.01))
    session.refresh_from_db()
    assert session.state == RunState.RUNNING
    return session


def test_a_silent_edge_fails_the_plain_session_and_fails_over_the_cold_one(digits, devices):
    phone, edge = devices
    plain, cold = running(digits, phone, edge, "none"), running(digits, phone, edge, "cold")
    assert plain.deployment_id == cold.deployment_id  # one placement, one deployment
    # The liveness sweep marks the edge offline (silent, its socket perhaps still open); the beat's sweep of
    # overdue runs then treats it as gone.
    heard = timezone.now() - timedelta(seconds=20)
    Device.objects.filter(pk=edge.pk).update(status="offline", last_seen=heard)
    services.expire_overdue()
    plain.refresh_from_db()
    cold.refresh_from_db()
    assert plain.state == RunState.FAILED and plain.reason == "device edge disconnected during stage 1"
    assert cold.state == RunState.RUNNING and cold.reason == ""
    failure = Failure.objects.get(session=cold)
    assert (failure.device_id, failure.device_name, failure.stage) == (edge.pk, "edge", 1)
    assert failure.policy == "cold" and failure.outcome == "recovering"
    assert 20 <= failure.detection_s < 30  # from the last time it was heard from
    assert Deployment.objects.get(pk=cold.deployment_id).state == DeploymentState.RETIRED
    assert not Failure.objects.filter(session=plain).exists()
    # Once retired, the deployment is not swept again: one failure per loss.
    services.expire_overdue()
    assert Failure.objects.filter(session=cold).count() == 1


def test_a_lost_source_fails_even_a_failover_session(digits, devices):
    phone, edge = devices
    cold = running(digits, phone, edge, "warm")
    services.device_gone(phone.pk)
    cold.refresh_from_db()
    assert cold.state == RunState.FAILED and "phone" in cold.reason
    assert not Failure.objects.filter(session=cold).exists()


def test_a_loss_reported_twice_is_recorded_once(digits, devices):
    """The data plane's ping finds the source silent, then its socket closes: two reports of one loss."""
    phone, edge = devices
    cold = running(digits, phone, edge, "cold")
    Session.objects.filter(pk=cold.pk).update(backup_sources=[str(edge.pk)])  # a backup source is online
    services.device_gone(phone.pk, detected_by="dataplane")
    services.device_gone(phone.pk)
    cold.refresh_from_db()
    assert cold.state == RunState.RUNNING
    failure = Failure.objects.get(session=cold)  # one, not two
    assert (failure.device_name, failure.stage, failure.detected_by) == ("phone", p.SOURCE_STAGE, "dataplane")


def locks_awaited() -> int:
    """How many connections to this database wait for a lock now (a fresh look: within one transaction
    PostgreSQL otherwise shows the activity as it first read it)."""
    with connection.cursor() as cursor:
        cursor.execute("select pg_stat_clear_snapshot()")
        cursor.execute(
            "select count(*) from pg_stat_activity"
            " where datname = current_database() and wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_two_reports_of_one_loss_at_once_record_it_once(digits, devices):
    """The ping's report and the socket's close at the same moment, each on a thread and database connection
    of its own: both reach the session while another transaction holds its row, so that both wait at the
    check together; the row's lock then lets one record the loss and shows it to the other."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers: SQLite serialises whole transactions itself")
    phone, edge = devices
    cold = running(digits, phone, edge, "cold")
    Session.objects.filter(pk=cold.pk).update(backup_sources=[str(edge.pk)])  # a backup source is online
    errors = []

    def report(detected_by: str) -> None:
        try:
            services.device_gone(phone.pk, detected_by=detected_by)
        except Exception as exc:  # shown by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=report, args=(by,)) for by in ("dataplane", "control")]
    with transaction.atomic():
        Session.objects.select_for_update().filter(pk=cold.pk).exists()
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while locks_awaited() < 2:
            assert time.monotonic() < deadline, "the two reports never both waited for the session's row"
            time.sleep(0.05)
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    cold.refresh_from_db()
    assert cold.state == RunState.RUNNING
    failures = list(Failure.objects.filter(session=cold))
    assert len(failures) == 1, [(f.pk, f.detected_by) for f in failures]  # one, not two
    assert failures[0].device_name == "phone" and failures[0].detected_by in {"dataplane", "control"}


def test_the_api_takes_a_failover_policy_and_refuses_an_unknown_one(client, alice, digits, devices):
    from edgeorch.api.keys import create_key

    auth = {"HTTP_AUTHORIZATION": f"Token {create_key(alice)}"}
    body = {"model": digits.pk, "source": str(devices[0].pk), "strategy": "local", "rate": 5, "frames": 5}
    made = client.post(
        "/api/sessions/", {**body, "failover": "warm"}, content_type="application/json", **auth
    )
    assert made.status_code == 202 and made.json()["failover"] == "warm"
    assert made.json()["failures"] == [] and made.json()["standbys"] == {}  # loaded once it runs
    assert (
        client.post("/api/sessions/", body, content_type="application/json", **auth).json()["failover"]
        == "none"
    )
    bad = client.post("/api/sessions/", {**body, "failover": "hot"}, content_type="application/json", **auth)
    assert bad.status_code == 400 and "failover" in bad.content.decode()
