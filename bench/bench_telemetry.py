"""Telemetry ingestion: many simulated agents, each sending a batch a second to one Daphne process.

Reports, per fleet size: records stored per second (sustained), the p50/p99 delay from the moment a batch is
sent to the moment its rows are committed in PostgreSQL, and the connections held. The simulated agents are
lightweight asyncio websocket clients in one process speaking the real protocol; they share the machine's
two cores with Daphne and PostgreSQL.

    .venv/bin/python bench/bench_telemetry.py [--agents 100,300,500] [--records 10] [--seconds 20] [--write]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import ROOT, django_on_fresh_database, machine, markdown_table, write_section  # noqa: E402

DB = "edgeorch_bench"


def setup_django():
    django_on_fresh_database(DB)


def enroll(count: int) -> list[tuple[str, str]]:
    from edgeorch.devices import services

    _, token = services.create_enrollment_token(max_uses=count)
    out = []
    for i in range(count):
        e = services.enroll_device(token, name=f"sim-{i}")
        out.append((str(e.device.pk), e.credential))
    return out


def start_daphne(port: int, prefix: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "PORT": str(port),
        "EDGEORCH_CHANNEL_PREFIX": prefix,
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        "EDGEORCH_LIVENESS_TIMEOUT": "60",
    }
    proc = subprocess.Popen(
        [str(ROOT / "scripts/web.sh")],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=open("/tmp/bench_daphne.log", "wb"),
    )
    for _ in range(100):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        time.sleep(0.2)
    raise SystemExit("Daphne did not start; see /tmp/bench_daphne.log")


METRICS = [f"cpu.core{i}.percent" for i in range(8)] + [
    "cpu.percent",
    "cpu.freq_mhz",
    "mem.total_bytes",
    "mem.available_bytes",
    "mem.used_percent",
    "load.1m",
    "load.5m",
    "load.15m",
    "temp.cpu",
    "net.rx_bytes",
    "net.tx_bytes",
    "net.rx_bps",
]


async def agent(url, device_id, credential, records_per_batch, seconds, counters, all_connected):
    import websockets

    headers = {"Authorization": f"Device {credential}"}
    async with websockets.connect(url, additional_headers=headers, max_size=2**24, open_timeout=60) as ws:
        hello = {"v": 1, "type": "hello", "device_id": device_id, "agent_version": "bench", "inventory": {}}
        await ws.send(json.dumps(hello))
        welcome = json.loads(await ws.recv())
        counters["connected"] += 1
        if counters["connected"] == counters["expected"]:
            counters["storm_s"] = time.time() - counters["t0"]
            counters["steady_from"] = time.time()
            all_connected.set()
        await asyncio.wait_for(all_connected.wait(), 120)
        stop_at = counters["steady_from"] + seconds
        seq = welcome["last_seq"] + 1  # as a real agent does: never reuse a stored seq

        async def reader():
            async for raw in ws:
                msg = json.loads(raw)
                if msg["type"] == "ack":
                    counters["acked"] += len(msg["seqs"])

        read_task = asyncio.create_task(reader())
        await asyncio.sleep(random.random())  # spread the fleet over the second
        while time.time() < stop_at:
            sent = time.time()
            batch = []
            for i in range(records_per_batch):
                m = {name: random.random() * 100 for name in METRICS}
                m["bench.sent_at"] = sent
                batch.append({"seq": seq, "ts": sent - (records_per_batch - i) * 0.1, "metrics": m})
                seq += 1
            await ws.send(json.dumps({"v": 1, "type": "telemetry", "records": batch, "dropped": 0}))
            counters["sent"] += records_per_batch
            await asyncio.sleep(max(0.0, 1.0 - (time.time() - sent)))
        await asyncio.sleep(2.0)  # let the last acks arrive
        read_task.cancel()


async def run_fleet(url, fleet, records, seconds):
    """Connect the whole fleet at once (a reconnect storm), then send for ``seconds`` once all are
    connected. ``url`` may be a list: the agents are spread over those servers in turn (bench_scaleout)."""
    urls = [url] if isinstance(url, str) else list(url)
    counters = {"connected": 0, "sent": 0, "acked": 0, "expected": len(fleet), "t0": time.time()}
    all_connected = asyncio.Event()
    tasks = [
        asyncio.create_task(
            agent(urls[i % len(urls)], device_id, credential, records, seconds + 3, counters, all_connected)
        )
        for i, (device_id, credential) in enumerate(fleet)
    ]
    results = await asyncio.gather(*tasks, return_exceptions=True)
    errors = [r for r in results if isinstance(r, Exception)]
    return counters, errors


def measure(device_ids, window_start, window_end):
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            """select count(*),
                      percentile_cont(0.5) within group (
                          order by extract(epoch from received_at) - (metrics->>'bench.sent_at')::float),
                      percentile_cont(0.99) within group (
                          order by extract(epoch from received_at) - (metrics->>'bench.sent_at')::float)
               from telemetry_telemetryrecord
               where device_id = any(%s) and (metrics->>'bench.sent_at')::float between %s and %s""",
            [device_ids, window_start, window_end],
        )
        return cur.fetchone()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", default="100,300,500")
    parser.add_argument("--records", type=int, default=10, help="records per batch (one batch a second)")
    parser.add_argument("--seconds", type=int, default=20, help="measured window per fleet size")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    setup_django()
    sizes = [int(x) for x in args.agents.split(",")]
    fleet = enroll(max(sizes))
    port = 18800 + random.randint(0, 999)
    daphne = start_daphne(port, f"bench-{uuid.uuid4().hex[:6]}")
    rows = []
    try:
        for size in sizes:
            devices = fleet[:size]
            counters, errors = asyncio.run(
                run_fleet(f"ws://127.0.0.1:{port}/ws/agent/", devices, args.records, args.seconds)
            )
            # The measured window starts 2 s after the last agent connected (the first batches are spread
            # over a second) and lasts --seconds.
            start = counters.get("steady_from", time.time()) + 2
            stored, p50, p99 = measure([d for d, _ in devices], start, start + args.seconds)
            rate = stored / args.seconds
            storm = counters.get("storm_s", float("nan"))
            rows.append(
                [
                    size,
                    args.records,
                    counters["connected"],
                    f"{storm:.1f}",
                    f"{rate:,.0f}",
                    f"{p50 * 1000:.0f}",
                    f"{p99 * 1000:.0f}",
                    counters["sent"] - counters["acked"],
                    len(errors),
                ]
            )
            print(rows[-1], flush=True)
    finally:
        os.killpg(daphne.pid, signal.SIGTERM)
        daphne.wait(10)
    headers = [
        "agents",
        "records/batch",
        "connections held",
        "all connected after s",
        "records stored/s",
        "p50 send→row ms",
        "p99 send→row ms",
        "unacked at end",
        "client errors",
    ]
    table = markdown_table(headers, rows)
    print(table)
    if args.write:
        cmd = (
            f"`.venv/bin/python bench/bench_telemetry.py --agents {args.agents} --records {args.records}"
            f" --seconds {args.seconds} --write`"
        )
        body = (
            f"Machine: {machine()}. Command: {cmd}.\n\n"
            "One Daphne process, PostgreSQL 15 and the simulated agents (asyncio websocket clients in one "
            "process, one batch per agent per second, 20 metrics per record) all share the two cores. Delay "
            "is from the moment a batch is sent to the commit of its rows (`received_at`). All agents "
            "connect at once (a reconnect storm; the time until the last is greeted is shown), then each "
            "sends one batch a second; the window measured starts 2 s after the last agent connected.\n\n"
            + table
        )
        write_section("## Telemetry ingestion\n\n" + body)


if __name__ == "__main__":
    main()
