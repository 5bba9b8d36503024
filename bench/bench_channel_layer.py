"""Channel layer: one ``send`` with channels-redis's layer (four round trips) and with ours (one Lua script).

In one process and one event loop, the product's layer CONFIG (its own prefix) sends ``--count`` agent
commands (``{"type": "agent.command", "message": ...}``, to a process-local channel as a consumer's is) with
each class in turn, the two interleaved send by send, so both see the same machine and the same Redis. Each
``await layer.send`` is timed alone; with a 20 ms sleep before each send (an agent command between jobs, on
a Redis and connection gone idle) and with none (back to back). A PING shows the cost of one round trip.

Then send -> receive: per class a receiver task loops ``await layer.receive(channel)`` on a process-local
channel (as a consumer does) in the same loop as the sender, which sends one message, waits for its
arrival, sleeps the gap, sends the next; the time is from before ``send`` to the receiver having it. Three
classes, interleaved message by message (the order flipped every round): channels-redis's, edgeorch's
previous one (our send, the parent's receive) and ours. The agent command with a 20 ms gap and none, and a
~600 KB message (a job's inline input) back to back.

    .venv/bin/python bench/bench_channel_layer.py [--count 300] [--write]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import machine, markdown_table, write_section  # noqa: E402

GAPS_MS = (20, 0)


def layer_config(prefix: str) -> dict:
    os.environ.setdefault("SECRET_KEY", "bench")
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/2")
    os.environ["DJANGO_SETTINGS_MODULE"] = "edgeorch.settings"
    from django.conf import settings

    return {**settings.CHANNEL_LAYERS["default"]["CONFIG"], "prefix": prefix}


async def measure(count: int, prefix: str) -> tuple[dict, dict]:
    from channels_redis.core import RedisChannelLayer as Parent

    from edgeorch.channel_layer import RedisChannelLayer as Ours

    layers = {"channels-redis 4.3": Parent(**layer_config(prefix)), "edgeorch": Ours(**layer_config(prefix))}
    message = {
        "type": "agent.command",
        "message": json.dumps(
            {"v": 1, "type": "run", "job": str(uuid.uuid4()), "stage": 0, "inputs": {"input": [1, 1, 28, 28]}}
        ),
    }
    send_us: dict = {(name, gap): [] for name in layers for gap in GAPS_MS}
    ping_us: dict = {gap: [] for gap in GAPS_MS}
    for layer in layers.values():  # connect, and load the script into Redis, before timing
        await layer.send(f"specific.{uuid.uuid4().hex}!warm", message)
    connection = next(iter(layers.values())).connection(0)
    for gap in GAPS_MS:
        channels = {name: f"specific.{uuid.uuid4().hex}!{uuid.uuid4().hex}" for name in layers}
        for _ in range(count):
            for name, layer in layers.items():
                await asyncio.sleep(gap / 1000)
                t0 = time.perf_counter()
                await layer.send(channels[name], message)
                send_us[name, gap].append((time.perf_counter() - t0) * 1e6)
            await asyncio.sleep(gap / 1000)
            t0 = time.perf_counter()
            await connection.ping()
            ping_us[gap].append((time.perf_counter() - t0) * 1e6)
    keys = [key async for key in connection.scan_iter(match=prefix + "*")]
    if keys:
        await connection.delete(*keys)
    for layer in layers.values():
        await layer.close_pools()
    return send_us, ping_us


async def measure_latency(count: int, prefix: str) -> dict:
    from channels_redis.core import RedisChannelLayer as Parent

    from edgeorch.channel_layer import RedisChannelLayer as Ours

    class SendOnly(Ours):  # edgeorch's layer before the receive change: our send, the parent's receive
        receive_single = Parent.receive_single

    layers = {
        "channels-redis 4.3": Parent(**layer_config(prefix)),
        "send only": SendOnly(**layer_config(prefix)),
        "edgeorch": Ours(**layer_config(prefix)),
    }
    command = {
        "type": "agent.command",
        "message": json.dumps(
            {"v": 1, "type": "run", "job": str(uuid.uuid4()), "stage": 0, "inputs": {"input": [1, 1, 28, 28]}}
        ),
    }
    large = {"type": "agent.command", "message": "x" * 600_000}
    cases = [("agent command", command, 20), ("agent command", command, 0), ("600 KB message", large, 0)]
    latency_us: dict = {(name, case): [] for name in layers for case in range(len(cases))}
    channels = {name: await layer.new_channel() for name, layer in layers.items()}
    arrivals: dict = {}

    async def receiver(name):
        while True:
            await layers[name].receive(channels[name])
            arrivals[name].set_result(time.perf_counter())

    receivers = [asyncio.ensure_future(receiver(name)) for name in layers]
    loop = asyncio.get_running_loop()
    for case, (_, message, gap) in enumerate(cases):
        for n in range(count + 5):  # the first 5 rounds warm up (connections, the script) and are not kept
            for name in list(layers)[:: 1 if n % 2 else -1]:
                await asyncio.sleep(gap / 1000)
                arrivals[name] = loop.create_future()
                t0 = time.perf_counter()
                await layers[name].send(channels[name], message)
                t1 = await asyncio.wait_for(arrivals[name], 10)
                if n >= 5:
                    latency_us[name, case].append((t1 - t0) * 1e6)
    await stop(receivers)
    for layer in layers.values():
        await layer.close_pools()
    return {"cases": cases, "latency_us": latency_us, "names": list(layers)}


async def stop(tasks: list) -> None:
    """Cancel ``tasks`` and wait for them, cancelling again each second until they end. With redis-py 8.1 on
    Python 3.11 a receive cancelled while its BZPOPMIN waits now and then goes on waiting, the task left
    "cancelling" (seen 1 in 150-300 cancels on a loaded host; a second cancel ends it, as Daphne's close
    timeout does for a consumer): one cancel and a gather hung this benchmark for good."""
    pending = set(tasks)
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300, help="sends per class and gap")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    send_us, ping_us = asyncio.run(measure(args.count, f"bench-cl-{uuid.uuid4().hex[:6]}:"))
    rows = []
    for gap in GAPS_MS:
        parent = statistics.median(send_us["channels-redis 4.3", gap])
        ours = statistics.median(send_us["edgeorch", gap])
        rows.append(
            [
                f"{gap} ms" if gap else "none (back to back)",
                f"{statistics.median(ping_us[gap]):.0f}",
                f"{parent:.0f}",
                f"{ours:.0f}",
                f"{parent / ours:.1f}×",
            ]
        )
    headers = [
        "sleep before each send",
        "PING µs",
        "channels-redis send µs (4 round trips)",
        "edgeorch send µs (1 round trip)",
        "ratio",
    ]
    table = markdown_table(headers, rows)
    print(table)
    latency = asyncio.run(measure_latency(args.count, f"bench-cl-{uuid.uuid4().hex[:6]}:"))
    lrows = []
    for case, (label, _, gap) in enumerate(latency["cases"]):
        medians = [statistics.median(latency["latency_us"][name, case]) for name in latency["names"]]
        lrows.append(
            [
                label,
                f"{gap} ms" if gap else "none",
                *(f"{m:.0f}" for m in medians),
                f"{medians[0] / medians[2]:.1f}×",
                f"{medians[1] / medians[2]:.1f}×",
            ]
        )
    lheaders = [
        "message",
        "sleep before each send",
        "channels-redis send → receive µs",
        "edgeorch send only µs",
        "edgeorch send + receive µs",
        "ratio to channels-redis",
        "ratio to send only",
    ]
    ltable = markdown_table(lheaders, lrows)
    print(ltable)
    if args.write:
        cmd = f"`.venv/bin/python bench/bench_channel_layer.py --count {args.count} --write`"
        body = (
            f"Machine: {machine()}. Command: {cmd}.\n\n"
            "`channel_layer.send` of one agent command (`edgeorch.channel_layer.RedisChannelLayer`, the "
            "product's layer, against channels-redis 4.3's), to a process-local channel on the local Redis, "
            f"the product's layer settings. Medians of {args.count} sends each, in one process and one event "
            "loop, the two classes interleaved send by send; PING is one round trip on the same kind of "
            "connection. channels-redis sends ZREMRANGEBYSCORE, ZCOUNT, ZADD and EXPIRE one after another; "
            "ours runs the same four in one Lua script (EVALSHA).\n\n" + table + "\n\n"
            "Send → receive: a receiver task per class loops `await layer.receive(channel)` on a "
            "process-local channel in the same loop as the sender, which sends a message, waits for it to "
            "arrive, sleeps, sends the next; the time runs from before `send` to the receiver having the "
            f"message; medians of {args.count} messages a class, the three interleaved message by message. "
            "channels-redis receives with an EVAL (move the backup back), BZPOPMIN and a ZADD of the whole "
            "message into a backup before delivering it, then a ZPOPMIN to delete it from the backup again, "
            'which the next receive waits for; "send only" is our send with that receive (this layer '
            "before the receive change); ours receives with the BZPOPMIN alone.\n\n" + ltable
        )
        write_section("## Channel layer\n\n" + body)


if __name__ == "__main__":
    main()
