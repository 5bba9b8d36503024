"""channels-redis's ``RedisChannelLayer`` with ``send`` and ``receive`` each one Redis round trip, not four.

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

``receive_single`` is one BZPOPMIN a message, where the parent's costs four round trips: an EVAL that moves
the channel's backup ("$inflight") sorted set back into the channel, the BZPOPMIN, a ZADD of the popped
message (the whole serialized message, up to ~1 MB for a job's inline input) into the backup, all three
before the message is delivered, and then a ZPOPMIN "cleaner" task that deletes it from the backup again,
whose per-channel lock the next receive on that channel waits for. The backup is there so that a receive
cancelled after BZPOPMIN returned and before the message was delivered does not lose it. But the only
suspension point in that window is the backup's own ZADD: from redis-py handing back BZPOPMIN's reply to
``receive`` returning the message (or putting it in the process-local buffer) nothing awaits anything that
suspends, so a cancellation cannot land there; without the ZADD there is no window left to protect.
(tests/test_channel_layer.py checks this against the installed redis-py: it cancels the receiving task at
the very moment BZPOPMIN's reply is read and the message is still delivered.) What the backup never
covered, neither covers now: BZPOPMIN's reply still on the wire when the receive is cancelled (redis-py
drops the connection, the popped message with it) or a process dying with messages in its buffer.
A receive cancelled while waiting in BZPOPMIN loses nothing: redis-py closes the connection, and Redis
pops nothing for a client that is gone. Candidates rejected: an atomic Lua ZPOPMIN + backup ZADD first
(Lua cannot block, so the idle case still needs BZPOPMIN, and every message still needs the clean-up round
trip); shielding the pop from cancellation (a cancelled consumer's BZPOPMIN would then go on blocking,
holding a connection, and the message it pops would need putting back). Measured (the same benchmark),
medians of send -> receive on one loop, our send with the parent's receive -> ours: an agent command after
20 ms idle 1.9 ms -> 1.45 ms, back to back 0.9 ms -> 0.6 ms, a 600 KB message 6.2 ms -> 4.7 ms.

The same as the parent's receive: the order (BZPOPMIN pops the oldest score first), ``__asgi_channel__``
unpacked, the connection (``consistent_hash`` for ``!`` channels, the receive index generator otherwise),
the ``brpop_timeout`` loop, and ``receive`` itself, the process-local buffer and its lock, untouched. Not
the same: no "$inflight" keys are written or read, so a backup left by a parent-class process (only ever
for a shared, non-``!`` channel, which this project does not receive on) is not moved back; nor is the
parent's per-channel clean-up lock taken (it only kept a receive from moving back a backup still being
cleaned), so concurrent receives of one normal channel each block in their own BZPOPMIN, served in turn.
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
