"""``within``: wait_for's job without Python 3.11's wait_for swallowing a cancel that comes as the awaited
thing completes."""

from __future__ import annotations

import asyncio
import sys

import pytest
from edgeorch_wire.aio import within


def test_it_returns_what_it_awaits_and_times_out_cancelling_it():
    async def scenario():
        assert await within(asyncio.sleep(0, result=7), 1.0) == 7
        assert await within(asyncio.sleep(0, result=8), None) == 8  # no limit
        pending = asyncio.get_running_loop().create_future()
        with pytest.raises(TimeoutError):
            await within(pending, 0.01)
        assert pending.cancelled()  # as wait_for does: what it waited for is cancelled
        done = asyncio.get_running_loop().create_future()
        done.set_result(3)
        assert await within(done, 0) == 3  # done at once: no timeout even at 0

    asyncio.run(scenario())


def cancelled_as_it_completes(wait) -> bool:
    """A task waiting (by ``wait``) for an event is cancelled in the same loop turn as the event is set:
    whether the cancel reaches it."""

    async def scenario() -> bool:
        event = asyncio.Event()
        waiter = asyncio.create_task(wait(event.wait(), 5.0))
        await asyncio.sleep(0.01)
        event.set()
        waiter.cancel()
        await asyncio.wait({waiter}, timeout=2)
        return waiter.cancelled()

    return asyncio.run(scenario())


def test_a_cancel_that_comes_as_the_awaited_thing_completes_is_not_lost():
    assert cancelled_as_it_completes(within)


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="3.12's wait_for is asyncio.timeout")
def test_asyncio_wait_for_loses_that_cancel_on_this_python():
    """Why ``within`` exists: the test above, with wait_for, fails here."""
    assert not cancelled_as_it_completes(asyncio.wait_for)
