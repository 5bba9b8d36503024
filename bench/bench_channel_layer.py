"""Channel layer: one ``send`` with channels-redis's layer (four round trips) and with ours (one Lua script).

In one process and one event loop, the product's layer CONFIG (its own prefix) sends ``--count`` agent
commands (``{"type": "agent.command", "message": ...}``, to a process-local channel as a consumer's is) with
each class in turn, the two interleaved send by send, so both see the same machine and the same Redis. Each
``await layer.send`` is timed alone; with a 20 ms sleep before each send (an agent command between jobs, on
a Redis and connection gone idle) and with none (back to back). A PING shows the cost of one round trip.

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
    message = {"type": "agent.command", "message": json.dumps({"v": 1, "type": "run", "job": str(uuid.uuid4()),
               "stage": 0, "inputs": {"input": [1, 1, 28, 28]}})}  # fmt: skip
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
        rows.append([f"{gap} ms" if gap else "none (back to back)", f"{statistics.median(ping_us[gap]):.0f}",
                     f"{parent:.0f}", f"{ours:.0f}", f"{parent / ours:.1f}×"])  # fmt: skip
    headers = ["sleep before each send", "PING µs", "channels-redis send µs (4 round trips)",
               "edgeorch send µs (1 round trip)", "ratio"]  # fmt: skip
    table = markdown_table(headers, rows)
    print(table)
    if args.write:
        cmd = f"`.venv/bin/python bench/bench_channel_layer.py --count {args.count} --write`"
        body = (
            f"Machine: {machine()}. Command: {cmd}.\n\n"
            "`channel_layer.send` of one agent command (`edgeorch.channel_layer.RedisChannelLayer`, the product's "
            "layer, against channels-redis 4.3's), to a process-local channel on the local Redis, the product's "
            f"layer settings. Medians of {args.count} sends each, in one process and one event loop, the two "
            "classes interleaved send by send; PING is one round trip on the same kind of connection. "
            "channels-redis sends ZREMRANGEBYSCORE, ZCOUNT, ZADD and EXPIRE one after another; ours runs the "
            "same four in one Lua script (EVALSHA).\n\n" + table
        )
        write_section("## Channel layer\n\n" + body)


if __name__ == "__main__":
    main()
