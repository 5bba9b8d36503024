"""Sending on the channel layer from sync code (``edgeorch.layer``), against the real Redis channel layer."""

from __future__ import annotations

import asyncio
import os
import threading
import uuid

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from edgeorch import layer


def receive_all(channel: str, count: int) -> list[int]:
    channel_layer = get_channel_layer()

    async def drain():
        return [(await channel_layer.receive(channel))["n"] for _ in range(count)]

    return async_to_sync(drain)()


def test_sends_from_a_thread_arrive_in_the_order_they_were_made_without_waiting():
    channel = f"test.order.{uuid.uuid4().hex}"
    send = get_channel_layer().send

    def burst():
        for n in range(40):
            layer.call(send, channel, {"type": "t", "n": n}, wait=False, lane="agents")

    thread = threading.Thread(target=burst)
    thread.start()
    thread.join()
    assert receive_all(channel, 40) == list(range(40))


def test_sends_after_a_finished_async_to_sync_around_sync_code_still_leave():
    """asgiref records the loop of an ``async_to_sync`` whose coroutine ran sync code back on this thread
    (as a consumer driven from a test does) and leaves it recorded once that loop has finished: sends from
    here must not be handed to it, where they would never run."""
    from asgiref.sync import SyncToAsync, sync_to_async

    async def around_sync_code():
        await sync_to_async(lambda: None)()

    async_to_sync(around_sync_code)()
    assert SyncToAsync.threadlocal.__dict__.get("main_event_loop") is not None  # asgiref left it there
    channel = f"test.after.{uuid.uuid4().hex}"
    send = get_channel_layer().send
    for n in range(3):
        layer.call(send, channel, {"type": "t", "n": n}, wait=False)
    layer.drain()
    assert layer.call(send, channel, {"type": "t", "n": 3}) is None  # waited: returns, does not hang
    channel_layer = get_channel_layer()

    async def received():
        return [(await asyncio.wait_for(channel_layer.receive(channel), 5))["n"] for _ in range(4)]

    assert async_to_sync(received)() == [0, 1, 2, 3]


def test_a_waited_send_returns_its_result_and_raises_its_error():
    async def answer(x):
        return x * 2

    async def broken():
        raise ValueError("redis said no")

    assert layer.call(answer, 21) == 42
    with pytest.raises(ValueError, match="redis said no"):
        layer.call(broken)


def test_a_forked_child_sends_through_a_sender_of_its_own():
    channel = f"test.fork.{uuid.uuid4().hex}"
    send = get_channel_layer().send
    layer.call(send, channel, {"type": "t", "n": 0})  # the parent's sender thread now exists
    pid = os.fork()
    if pid == 0:  # the child: the parent's sender thread did not survive the fork
        try:
            layer.call(send, channel, {"type": "t", "n": 1})
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    assert receive_all(channel, 2) == [0, 1]
