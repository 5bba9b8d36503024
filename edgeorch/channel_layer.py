"""channels-redis's ``RedisChannelLayer`` with ``send`` done in one Redis round trip instead of four.

channels-redis 4.3 sends a message with four commands, each awaited in turn: ZREMRANGEBYSCORE (drop
expired messages), ZCOUNT (capacity), ZADD, EXPIRE. Every one-shot job sends at least one agent command on
its critical path. Here the same four steps run as one Lua script, called by EVALSHA (one round trip;
SCRIPT LOAD and a retry only when a server does not know the script yet). Measured on the 2-core box
(bench/bench_channel_layer.py, "Channel layer" in docs/benchmarks.md), medians: a send after 20 ms idle
2.0-2.1 ms -> 1.3 ms (a PING then costs 0.9 ms: the first round trip after idle is the dear one), back to
back 0.9 ms -> 0.35 ms (PING 0.2 ms).

The same as the parent: the assertions, ``__asgi_channel__`` for process-local (``!``) channels, the key
(prefix + non-local name), the connection (``consistent_hash`` for ``!`` channels, the send index
generator otherwise), messages older than ``expiry`` dropped first, ``ChannelFull`` when the channel
already holds ``get_capacity(channel)`` messages or more (checked *before* adding, nothing is added then),
ZADD with score ``time.time()`` and EXPIRE ``int(expiry)``. The script is atomic where the parent's four
commands were not, so concurrent senders can no longer leak past the capacity between the count and the add.

``group_send`` is the parent's: it already sends to all members with one script per Redis server.
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
