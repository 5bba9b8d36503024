"""Passes asked for by sessions starting and ending (``coordinator.request_pass``): a burst asks for one pass,
sent to the real broker once the asking transaction commits; the pass clears the mark as it starts, so a later
change asks for another; a pass that finds another running asks again a moment later."""

from __future__ import annotations

import json

import pytest
import redis

from edgeorch.jobs.services import coordinator

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def broker(settings):
    """The broker's queue of ``jobs.coordinate`` messages: ``broker()`` lists their bodies' headers."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    client.delete(coordinator.key(coordinator.PENDING))
    client.delete(coordinator.key(coordinator.LOCK))
    start = client.llen(queue)

    def sent() -> list[dict]:
        raw = client.lrange(queue, 0, -1)  # LPUSHed: the newest first
        messages = [json.loads(m) for m in raw[: len(raw) - start]]
        return [m["headers"] for m in messages if m["headers"]["task"] == "jobs.coordinate"]

    yield sent
    client.delete(coordinator.key(coordinator.PENDING))
    client.delete(coordinator.key(coordinator.LOCK))


def test_a_burst_of_sessions_asks_for_one_pass_and_a_started_pass_lets_the_next_ask(broker):
    for _ in range(5):
        coordinator.request_pass()
    assert len(broker()) == 1
    coordinator.requested_pass()  # the pass starts: the mark is cleared (and nothing to move)
    coordinator.request_pass()
    coordinator.request_pass()
    assert len(broker()) == 2


def test_nothing_is_sent_before_the_asking_transaction_commits(broker):
    from django.db import transaction

    with transaction.atomic():
        coordinator.request_pass()
        assert broker() == []
    assert len(broker()) == 1


def test_a_pass_that_finds_another_running_asks_again_later(broker):
    lock = coordinator.key(coordinator.LOCK)
    assert coordinator.marks().set(lock, 1, nx=True, ex=30)  # another pass holds the lock
    assert coordinator.requested_pass() == []
    again = broker()
    assert len(again) == 1 and again[0]["eta"] is not None  # with its countdown
    coordinator.marks().delete(coordinator.key(coordinator.LOCK))


def test_with_the_coordinator_off_a_requested_pass_does_nothing(broker, settings):
    settings.COORDINATOR = False
    coordinator.marks().set(coordinator.key(coordinator.PENDING), 1, ex=30)
    assert coordinator.requested_pass() == []
    assert coordinator.marks().get(coordinator.key(coordinator.PENDING)) is None and broker() == []


def test_the_mark_is_shared_with_other_processes_through_the_broker(broker, settings):
    """A session ending in Daphne and the worker running the pass see one mark: another client of the
    broker's Redis (another process's) finds it set, and cleared once the pass starts."""
    other = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    coordinator.request_pass()
    mark = coordinator.key(coordinator.PENDING)
    assert other.get(mark) is not None and other.ttl(mark) > 0
    coordinator.requested_pass()
    assert other.get(mark) is None
