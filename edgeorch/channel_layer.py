"""channels-redis's ``RedisChannelLayer`` with ``send`` and ``receive`` each one Redis round trip, not four.

``send`` runs the parent's four commands (drop expired, count, ZADD, EXPIRE) as one Lua script: the same
checks and errors (``ChannelFull`` before anything is added), atomic where the parent's were not.
``receive_single`` is one BZPOPMIN, without the parent's backup of each popped message: nothing awaits
between the pop and the delivery, so no cancellation can land in the window the backup guarded
(tests/test_channel_layer.py cancels a receive at that very moment). ``group_send`` and ``receive`` are the
parent's. This overrides private internals of channels-redis 4.3 (pinned; tests/test_private_internals.py
fails when they change). Measurements, and the designs rejected: docs/benchmarks.md, "Channel layer" and
"Notes: the channel layer".
"""

from __future__ import annotations

import time

from channels.exceptions import ChannelFull
from channels_redis.core import RedisChannelLayer as _RedisChannelLayer

# KEYS[1]: the channel's key. ARGV: message, score (now), drop scores up to, capacity, expiry in seconds.
# Returns 1 when the message was added, 0 when the channel was full.
SEND_SCRIPT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, ARGV[3])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then
    return 0
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


class RedisChannelLayer(_RedisChannelLayer):
    _send_script = None  # redis-py's AsyncScript, made on the first send; it works with any connection

    async def send(self, channel, message):
        """Send a message onto a (general or specific) channel: one EVALSHA."""
        assert isinstance(message, dict), "message is not a dict"
        assert self.require_valid_channel_name(channel), "Channel name not valid"
        assert "__asgi_channel__" not in message
        channel_non_local_name = channel
        if "!" in channel:
            message = dict(message.items())
            message["__asgi_channel__"] = channel
            channel_non_local_name = self.non_local_name(channel)
        channel_key = self.prefix + channel_non_local_name
        if "!" in channel:
            index = self.consistent_hash(channel)
        else:
            index = next(self._send_index_generator)
        connection = self.connection(index)
        if self._send_script is None:
            self._send_script = connection.register_script(SEND_SCRIPT)
        now = time.time()
        added = await self._send_script(
            keys=[channel_key],
            args=[
                self.serialize(message),
                now,
                int(now) - int(self.expiry),
                self.get_capacity(channel),
                int(self.expiry),
            ],
            client=connection,
        )
        if not added:
            raise ChannelFull()

    async def receive_single(self, channel):
        """Receive one message off ``channel``: one BZPOPMIN, no backup (see the module docstring)."""
        assert self.require_valid_channel_name(channel, receive=True), "Channel name invalid"
        if "!" in channel:
            assert channel.endswith("!")
            index = self.consistent_hash(channel)
        else:
            index = next(self._receive_index_generator)
        channel_key = self.prefix + channel
        popped = None
        while popped is None:
            # Cancelled here, nothing is lost: redis-py drops the connection and Redis pops nothing for it.
            popped = await self.connection(index).bzpopmin(channel_key, timeout=self.brpop_timeout)
        # No await from here to the message reaching the caller (or the parent's receive buffer): a cancel
        # cannot land between the pop and the delivery, which is all the parent's backup ZADD guarded.
        message = self.deserialize(popped[1])
        if "__asgi_channel__" in message:
            channel = message.pop("__asgi_channel__")
        return channel, message
