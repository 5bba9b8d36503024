"""``edgeorch.channel_layer.RedisChannelLayer``: channels-redis's send and receive, each in one round trip,
against real Redis."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid

import pytest
import redis
from channels.exceptions import ChannelFull
from channels_redis.core import RedisChannelLayer as ParentLayer
from django.conf import settings
from redis.asyncio.connection import Connection

from edgeorch.channel_layer import RedisChannelLayer


class CountingConnection(Connection):
    """A real redis-py connection that counts the replies it reads: one a round trip."""

    replies = 0

    async def read_response(self, *args, **kwargs):
        type(self).replies += 1
        return await super().read_response(*args, **kwargs)


def redis_url() -> str:
    return settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0]["address"]


@pytest.fixture
def prefix():
    """A prefix of this test's own (parallel runs do not collide); its keys are deleted afterwards."""
    prefix = f"test-cl-{uuid.uuid4().hex[:8]}:"
    yield prefix
    client = redis.Redis.from_url(redis_url())
    keys = list(client.scan_iter(match=prefix + "*"))
    if keys:
        client.delete(*keys)


class CancelAtPop(CountingConnection):
    """Once armed, cancels the task that reads the next BZPOPMIN reply at the very moment it is read: the
    cancellation lands at that task's next suspension point, whatever it is."""

    armed = False

    async def read_response(self, *args, **kwargs):
        response = await super().read_response(*args, **kwargs)
        if type(self).armed and isinstance(response, list) and len(response) == 3:  # [key, member, score]
            type(self).armed = False
            asyncio.current_task().cancel()
        return response


def make(prefix: str, cls=RedisChannelLayer, connection_class=CountingConnection, **config):
    hosts = [{"address": redis_url(), "connection_class": connection_class}]
    return cls(hosts=hosts, prefix=prefix, **{"capacity": 100, "expiry": 60, **config})


def run(layer, coroutine_function):
    """Run on a loop of its own, then let the layer's receive clean-ups finish and close its connections."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine_function())
    finally:
        loop.run_until_complete(layer.close_pools())
        loop.close()


def members(prefix: str, channel: str) -> list[bytes]:
    return redis.Redis.from_url(redis_url()).zrange(prefix + channel, 0, -1)


def test_the_project_uses_this_layer():
    from channels.layers import get_channel_layer

    assert type(get_channel_layer()) is RedisChannelLayer


def test_a_message_arrives_intact_on_a_normal_and_a_process_local_channel(prefix):
    layer = make(prefix)
    message = {"type": "agent.command", "payload": {"job": "j-1", "n": [1, 2.5, None], "blob": b"\x00\xff"}}

    async def go():
        await layer.send("agents.normal", message)
        normal = await layer.receive("agents.normal")
        local = await layer.new_channel()
        await layer.send(local, message)
        return normal, await asyncio.wait_for(layer.receive(local), 5)

    normal, local = run(layer, go)
    assert normal == message and local == message  # __asgi_channel__ is stripped again on receipt


def test_capacity_plus_one_raises_channel_full_and_the_channel_holds_exactly_capacity(prefix):
    layer = make(prefix, capacity=3)

    async def go():
        for n in range(3):
            await layer.send("full", {"type": "t", "n": n})
        with pytest.raises(ChannelFull):
            await layer.send("full", {"type": "t", "n": 3})

    run(layer, go)
    held = members(prefix, "full")
    assert len(held) == 3
    assert sorted(layer.deserialize(m)["n"] for m in held) == [0, 1, 2]


def test_per_channel_capacity_is_honoured(prefix):
    layer = make(prefix, capacity=100, channel_capacity={"small.*": 1})

    async def go():
        await layer.send("small.one", {"type": "t"})
        with pytest.raises(ChannelFull):
            await layer.send("small.one", {"type": "t"})
        await layer.send("big.one", {"type": "t"})
        await layer.send("big.one", {"type": "t"})

    run(layer, go)
    assert len(members(prefix, "small.one")) == 1 and len(members(prefix, "big.one")) == 2


def test_a_message_older_than_expiry_is_dropped_on_the_next_send_and_frees_its_place(prefix):
    layer = make(prefix, capacity=1, expiry=10)
    old = layer.serialize({"type": "old"})
    redis.Redis.from_url(redis_url()).zadd(prefix + "exp", {old: time.time() - 15})

    run(layer, lambda: layer.send("exp", {"type": "new"}))  # would be ChannelFull if the old one were counted
    assert [layer.deserialize(m) for m in members(prefix, "exp")] == [{"type": "new"}]


def test_the_key_expires_after_expiry_seconds(prefix):
    layer = make(prefix, expiry=30)
    run(layer, lambda: layer.send("ttl", {"type": "t"}))
    ttl = redis.Redis.from_url(redis_url()).ttl(prefix + "ttl")
    assert 0 < ttl <= 30


@pytest.mark.parametrize(("cls", "per_send"), [(ParentLayer, 4), (RedisChannelLayer, 1)])
def test_one_round_trip_a_send(prefix, cls, per_send):
    layer = make(prefix, cls=cls)

    async def go():
        await layer.send("rt", {"type": "warm-up"})  # connects, and loads the script if Redis lacks it
        local = await layer.new_channel()
        await layer.send(local, {"type": "warm-up"})
        before = CountingConnection.replies
        for n in range(10):
            await layer.send("rt", {"type": "t", "n": n})
            await layer.send(local, {"type": "t", "n": n})
        return CountingConnection.replies - before

    assert run(layer, go) == 20 * per_send
    assert len(members(prefix, "rt")) == 11


def test_the_script_is_loaded_again_when_redis_has_forgotten_it(prefix):
    """A Redis restarted (or SCRIPT FLUSHed) no longer knows the script: the send loads it and succeeds.
    Simulated by giving the layer's script object a sha Redis has never seen."""
    layer = make(prefix)

    async def go():
        await layer.send("reload", {"type": "t", "n": 0})
        layer._send_script.sha = "0" * 40
        await layer.send("reload", {"type": "t", "n": 1})
        return [(await layer.receive("reload"))["n"] for _ in range(2)]

    assert run(layer, go) == [0, 1]


# --- receive ---


def keys(prefix: str) -> list[bytes]:
    return list(redis.Redis.from_url(redis_url()).scan_iter(match=prefix + "*"))


def test_order_is_kept_over_many_messages_on_normal_and_process_local_channels(prefix):
    layer = make(prefix, capacity=1000)

    async def go():
        locals_ = [await layer.new_channel() for _ in range(3)]
        for n in range(300):
            await layer.send("agents.order", {"type": "t", "n": n})
            await layer.send(locals_[n % 3], {"type": "t", "n": n})
        normal = [(await layer.receive("agents.order"))["n"] for _ in range(300)]

        async def drain(channel):
            return [(await asyncio.wait_for(layer.receive(channel), 5))["n"] for _ in range(100)]

        return normal, await asyncio.gather(*(drain(c) for c in locals_))

    normal, per_local = run(layer, go)
    assert normal == list(range(300))
    assert per_local == [list(range(k, 300, 3)) for k in range(3)]
    assert keys(prefix) == []  # every channel emptied, and no "$inflight" backup left behind


@pytest.mark.parametrize(("cls", "per_receive"), [(ParentLayer, 4), (RedisChannelLayer, 1)])
def test_one_round_trip_a_receive_when_a_message_is_waiting(prefix, cls, per_receive):
    """The parent: clean-up EVAL, BZPOPMIN, backup ZADD, then the cleaner's ZPOPMIN. Ours: BZPOPMIN."""
    layer = make(prefix, cls=cls)

    async def go():
        local = await layer.new_channel()
        for n in range(11):
            await layer.send("rt", {"type": "t", "n": n})
            await layer.send(local, {"type": "t", "n": n})
        await layer.receive("rt")  # connects
        await layer.receive(local)
        await layer.wait_received()
        before = CountingConnection.replies
        for n in range(1, 11):
            assert (await layer.receive("rt"))["n"] == n
            assert (await layer.receive(local))["n"] == n
        await layer.wait_received()  # the parent's cleaners count too
        return CountingConnection.replies - before

    assert run(layer, go) == 20 * per_receive
    assert keys(prefix) == []


@pytest.mark.parametrize("local", [False, True], ids=["normal", "process-local"])
def test_a_receive_cancelled_while_waiting_loses_nothing(prefix, local):
    layer = make(prefix)

    async def go():
        channel = await layer.new_channel() if local else "agents.idle"
        waiting = asyncio.ensure_future(layer.receive(channel))
        await asyncio.sleep(0.3)  # blocked in BZPOPMIN by now
        waiting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiting
        await layer.send(channel, {"type": "t", "n": 1})
        return await asyncio.wait_for(layer.receive(channel), 5)

    assert run(layer, go) == {"type": "t", "n": 1}
    assert keys(prefix) == []


def test_a_waiting_receive_goes_on_when_the_one_holding_the_pop_is_cancelled(prefix):
    """Two process-local channels: the first receive does the BZPOPMIN for both; cancelling it hands the
    pop to the second, which gets its message."""
    layer = make(prefix)

    async def go():
        a, b = await layer.new_channel(), await layer.new_channel()
        receive_a = asyncio.ensure_future(layer.receive(a))
        await asyncio.sleep(0.2)
        receive_b = asyncio.ensure_future(layer.receive(b))
        await asyncio.sleep(0.2)
        receive_a.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await receive_a
        await layer.send(b, {"type": "t", "to": "b"})
        await layer.send(a, {"type": "t", "to": "a"})
        return await asyncio.wait_for(receive_b, 5), await asyncio.wait_for(layer.receive(a), 5)

    assert run(layer, go) == ({"type": "t", "to": "b"}, {"type": "t", "to": "a"})
    assert keys(prefix) == []


@pytest.mark.parametrize("local", [False, True], ids=["normal", "process-local"])
def test_a_cancel_landing_as_the_pop_returns_still_delivers_the_message(prefix, local):
    """The window the parent's backup guards: cancelled just after BZPOPMIN's reply is read. Ours has no
    suspension point between that and the delivery, so the receive returns the message and the
    cancellation lands at the caller's next await. (Checked that it would catch one: an ``await
    asyncio.sleep(0)`` after the pop makes the message vanish here.)"""
    layer = make(prefix, connection_class=CancelAtPop)

    async def go():
        channel = await layer.new_channel() if local else "agents.window"
        await layer.send(channel, {"type": "t", "n": 7})
        got = []

        async def receiver():
            CancelAtPop.armed = True
            got.append(await layer.receive(channel))
            await asyncio.sleep(1)  # the cancellation lands here

        task = asyncio.ensure_future(receiver())
        with contextlib.suppress(asyncio.CancelledError):
            await task
        assert task.cancelled() and not CancelAtPop.armed
        with pytest.raises(asyncio.TimeoutError):  # exactly once
            await asyncio.wait_for(layer.receive(channel), 0.3)
        return got

    assert run(layer, go) == [{"type": "t", "n": 7}]
    assert keys(prefix) == []


def test_a_large_message_arrives_intact(prefix):
    layer = make(prefix)
    message = {"type": "agent.command", "blob": bytes(range(256)) * 2400}  # ~600 KB

    async def go():
        local = await layer.new_channel()
        await layer.send(local, message)
        return await asyncio.wait_for(layer.receive(local), 5)

    assert run(layer, go) == message
