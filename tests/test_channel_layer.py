"""``edgeorch.channel_layer.RedisChannelLayer``: channels-redis's send, in one round trip, against real Redis."""

from __future__ import annotations

import asyncio
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


def make(prefix: str, cls=RedisChannelLayer, **config):
    hosts = [{"address": redis_url(), "connection_class": CountingConnection}]
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
