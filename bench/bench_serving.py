"""Serving benchmark: what the agent's inference endpoint adds to a split, against today's one-shot job.

    .venv/bin/python bench/bench_serving.py [--write] [--models digits-cnn,resnet18] [--requests 200]

Starts Daphne, a Celery worker and two agents (agent-a with its endpoint open) against its own PostgreSQL
database (``edgeorch_bench``, recreated) and Redis, and for each model, on the same 2-stage split (the middle
block, agent-a then agent-b) served at agent-a, measures in one run:

* bare: the full model in this process with onnxruntime; TCP: a bare request/response of the same bytes
  (input out, output back) between this process and an echo process on loopback;
* endpoint, one client: the response time of ``--requests`` binary OIP requests one after the other, and its
  overhead = response time - the stages' compute - the data plane's transfer (both from the request's own
  trace, which the control plane stores after the fact); target: median <= 1 ms;
* the control plane's ``/v2`` proxy, one client (target: <= 3 ms more than the endpoint), and
  ``POST /api/jobs/``;
* 1, 4, 16, 64 concurrent clients on the endpoint: throughput, p50 and p99, and throughput against the slowest
  stage's capacity (1 / its median compute; target >= 90%);
* streamed frames from a video source (an MJPG file written here with OpenCV, read and preprocessed by agent-a
  with the model's catalog spec): the per-frame overhead (target <= 0.5 ms), beside a stream of the test
  sample in the same run, and what reading and preprocessing one frame costs in this process.

With --write, replaces the "## Serving" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.bench_jobs import (  # noqa: E402
    Fleet,
    bare_ms,
    environment,
    job_row,
    recreate_database,
    run_jobs,
    stream_row,
    wait_until,
)
from tests import support  # noqa: E402

COMMAND = ".venv/bin/python bench/bench_serving.py --write"
CONCURRENCY = (1, 4, 16, 64)
ECHO = """
import socket, struct, sys
server = socket.create_server(("127.0.0.1", 0)); print(server.getsockname()[1], flush=True)
conn, _ = server.accept(); conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
def exactly(n):
    data = bytearray()
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk: sys.exit(0)
        data += chunk
    return data
while True:
    size, answer = struct.unpack("!II", exactly(8)); exactly(size); conn.sendall(b"x" * answer)
"""


def tcp_ms(request_bytes: int, answer_bytes: int, count: int) -> float:
    """Median ms of a bare request/response of these sizes with an echo process over loopback."""
    import struct

    proc = subprocess.Popen([sys.executable, "-c", ECHO], stdout=subprocess.PIPE, text=True)
    try:
        port = int(proc.stdout.readline())
        sock = socket.create_connection(("127.0.0.1", port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        payload = struct.pack("!II", request_bytes, answer_bytes) + b"y" * request_bytes
        times = []
        for _ in range(count):
            started = time.perf_counter()
            sock.sendall(payload)
            got = 0
            while got < answer_bytes:
                got += len(sock.recv(answer_bytes - got))
            times.append(time.perf_counter() - started)
        sock.close()
        return statistics.median(times) * 1e3
    finally:
        proc.kill()


def infer_body(model, x: np.ndarray) -> tuple[bytes, dict[str, str]]:
    head = json.dumps(
        {
            "inputs": [
                {
                    "name": model.inputs[0]["name"],
                    "shape": list(x.shape),
                    "datatype": "FP32",
                    "parameters": {"binary_data_size": x.nbytes},
                }
            ],
            "parameters": {"binary_data_output": True},
        }
    ).encode()
    headers = {"Inference-Header-Content-Length": str(len(head)), "Content-Type": "application/octet-stream"}
    return head + x.tobytes(), headers


def requests_over(host: str, port: int, path: str, body: bytes, headers: dict, count: int) -> list[tuple]:
    """``count`` requests one after the other on one kept-alive connection: (seconds, edgeorch request id)."""
    conn = http.client.HTTPConnection(host, port)
    done = []
    for _ in range(count):
        started = time.perf_counter()
        conn.request("POST", path, body, headers)
        response = conn.getresponse()
        data = response.read()
        elapsed = time.perf_counter() - started
        if response.status != 200:
            raise SystemExit(f"{path}: {response.status} {data[:300]!r}")
        length = int(response.getheader("Inference-Header-Content-Length") or len(data))
        done.append((elapsed, json.loads(data[:length])["parameters"]["edgeorch_request_id"]))
    conn.close()
    return done


def concurrent(host: str, port: int, path: str, body: bytes, headers: dict, clients: int, seconds: float):
    """``clients`` threads, each on its own connection, for ``seconds``: (requests/s, p50 ms, p99 ms)."""
    latencies: list[float] = []
    stop = time.perf_counter() + seconds
    lock = threading.Lock()

    def client():
        conn = http.client.HTTPConnection(host, port)
        mine = []
        while time.perf_counter() < stop:
            started = time.perf_counter()
            conn.request("POST", path, body, headers)
            response = conn.getresponse()
            response.read()
            if response.status == 200:
                mine.append(time.perf_counter() - started)
        conn.close()
        with lock:
            latencies.extend(mine)

    begin = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - begin
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    return len(latencies) / elapsed, statistics.median(ordered) * 1e3, p99 * 1e3


def traced(session_id: str, ids: list[int]) -> dict[int, tuple[list, float]]:
    """request id -> (its trace, the latency its agent measured from entering the route to the answer)."""
    from edgeorch.jobs.models import Frame

    wanted = set(ids)
    return wait_until(
        lambda: (
            (
                found := {
                    f.request_id: (f.trace, f.latency_s)
                    for f in Frame.objects.filter(session_id=session_id, request_id__in=wanted)
                }
            )
            and len(found) == len(wanted)
            and found
        ),
        what="the requests' traces",
        interval=0.1,
    )


def work_s(trace: list) -> tuple[float, float, float]:
    """The trace's compute, data-plane transfer and encoding-for-the-hop seconds."""
    return (
        sum(t.get("compute_s", 0.0) for t in trace),
        sum(t.get("transfer_s", 0.0) or 0.0 for t in trace),
        sum(t.get("serialize_s", 0.0) or 0.0 for t in trace),
    )


def write_video(path: Path, frames: int, size: tuple[int, int]) -> None:
    """An MJPG video of ``frames`` random-noise frames of ``size`` (height, width): an incompressible worst
    case for the decoder."""
    import cv2

    height, width = size
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30, (width, height))
    rng = np.random.default_rng(0)
    for _ in range(frames):
        writer.write(rng.integers(0, 256, (height, width, 3), dtype=np.uint8))
    writer.release()


def read_ms(path: Path, spec: dict) -> float:
    """Median ms to read one frame of ``path`` with OpenCV and make it the model's input (``spec``): the
    source's own work per frame, which a frame's latency (from entering stage 0) does not include."""
    import cv2
    from edgeorch_wire import preprocess

    parsed = preprocess.parse(spec)
    capture, times = cv2.VideoCapture(str(path)), []
    while True:
        started = time.perf_counter()
        ok, frame = capture.read()
        if not ok:
            break
        preprocess.apply(parsed, frame)
        times.append(time.perf_counter() - started)
    capture.release()
    return statistics.median(times) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--write", action="store_true", help="record the table in docs/benchmarks.md")
    parser.add_argument("--models", default="digits-cnn,mobilenetv2,resnet18", help="zoo names")
    parser.add_argument("--requests", type=int, default=200, help="requests per one-client row")
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds per concurrency level")
    parser.add_argument("--jobs", type=int, default=10, help="one-shot jobs per model")
    parser.add_argument("--frames", type=int, default=200, help="frames per streamed row")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-serving-"))
    env = environment(workdir, 1)
    for key in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "EDGEORCH_RUN_DIR"):
        os.environ[key] = env[key]
    for key in ("EDGEORCH_MEDIA_ROOT", "EDGEORCH_CHANNEL_PREFIX"):
        os.environ[key] = env[key]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "edgeorch.settings")
    recreate_database(env)
    import django

    django.setup()
    import requests
    from django.contrib.auth.models import User

    from bench._common import machine, markdown_table, write_section
    from edgeorch.api.keys import create_key
    from edgeorch.catalog import services as catalog
    from edgeorch.devices import services as devices
    from edgeorch.devices.models import Device
    from edgeorch.jobs import inputs

    wanted = [m for m in args.models.split(",") if m]
    models = [m for m in catalog.register_zoo() if m.name in wanted]
    admin = User.objects.create_superuser("bench", password="bench-pass-123")
    token = create_key(admin)
    api = requests.Session()
    api.headers["Authorization"] = f"Token {token}"
    serve_port = support.free_port()
    fleet = Fleet(env, workdir)
    rows, load_rows, video_rows = [], [], []
    try:
        a, b = fleet.start(
            [devices.create_enrollment_token()[1] for _ in range(2)],
            [["--serve-port", str(serve_port), "--serve-in-flight", "8", "--serve-queue", "128"], []],
        )
        wait_until(
            lambda: Device.objects.filter(status="online", dataplane_port__isnull=False).count() == 2,
            what="both agents online",
            interval=0.2,
        )
        cp_port = fleet.port
        for model in models:
            cut = len(model.blocks) // 2
            split = {"strategy": "split", "params": {"cut": cut, "device": b}}
            created = api.post(
                fleet.url + "/api/sessions/", json={"model": model.pk, "source": a, "serve": True, **split}
            )
            created.raise_for_status()
            session_id = created.json()["id"]
            ready = f"http://127.0.0.1:{serve_port}/v2/models/{model.name}/ready"
            wait_until(
                lambda ready=ready: requests.get(ready).status_code == 200,
                what=f"{model} served",
                interval=0.1,
            )
            x = inputs.random(model, 1)
            body, headers = infer_body(model, x)
            path = f"/v2/models/{model.name}/infer"
            requests_over("127.0.0.1", serve_port, path, body, headers, 10)  # warm-up
            direct = requests_over("127.0.0.1", serve_port, path, body, headers, args.requests)
            plane_headers = {**headers, "Authorization": f"Token {token}", "Edgeorch-Source": a}
            proxied = requests_over("127.0.0.1", cp_port, path, body, plane_headers, args.requests)
            traces = traced(session_id, [rid for _, rid in direct + proxied])
            output_bytes = sum(int(np.prod(o["shape"])) * 4 for o in model.outputs)  # float32 outputs

            def overhead(samples, traces=traces):
                """Response time - compute - transfer (the issue's definition)."""
                return [t - sum(work_s(traces[rid][0])[:2]) for t, rid in samples]

            def breakdown(traces=traces, direct=direct):
                """Medians (ms) of where one client's untraced time goes."""
                http = [t - traces[rid][1] for t, rid in direct]  # HTTP in and out, parsing, checks
                encode = [work_s(traces[rid][0])[2] for _, rid in direct]
                route = [traces[rid][1] - sum(work_s(traces[rid][0])) for _, rid in direct]
                return [statistics.median(v) * 1e3 for v in (http, encode, route)]

            stage_compute = [
                statistics.median(traces[rid][0][k]["compute_s"] for _, rid in direct) for k in range(2)
            ]
            bare = bare_ms(model, 20, 1)
            tcp = tcp_ms(len(body), output_bytes, 200)
            jobs = job_row(
                run_jobs(api, fleet.url, {"model": model.pk, "source": a, "seed": 1, **split}, args.jobs)
            )
            endpoint_ms = statistics.median(t for t, _ in direct) * 1e3
            proxy_ms = statistics.median(t for t, _ in proxied) * 1e3
            rows.append(
                [
                    model.name,
                    f"{bare:.2f}",
                    f"{tcp:.3f}",
                    f"{endpoint_ms:.2f}",
                    f"{statistics.median(overhead(direct)) * 1e3:.3f}",
                    *(f"{v:.3f}" for v in breakdown()),
                    f"{proxy_ms:.2f}",
                    f"{proxy_ms - endpoint_ms:.2f}",
                    f"{jobs['total_ms']:.2f}",
                ]
            )
            print(rows[-1], flush=True)
            # Streams on the same split: the test sample, then a video read and preprocessed at the source.
            rate = min(200.0, 0.5 / max(sum(stage_compute), 1e-4))
            stream = {"model": model.pk, "source": a, "seed": 1, **split, "rate": rate, "frames": args.frames}
            video = workdir / f"{model.name}.avi"
            _, _, height, width = model.inputs[0]["shape"]
            write_video(video, args.frames, (max(height, 64), max(width, 64)))
            sample = stream_row(api, fleet.url, stream)
            video_input = {"kind": "video", "path": str(video)}
            from_video = stream_row(api, fleet.url, {**stream, "input": video_input})
            video_rows.append(
                [
                    model.name,
                    from_video["frames"],
                    f"{rate:.0f}",
                    f"{sample['frame_overhead_ms']:.3f}",
                    f"{from_video['frame_overhead_ms']:.3f}",
                    f"{from_video['fps']:.1f}",
                    f"{read_ms(video, model.preprocess):.3f}",
                ]
            )
            print(video_rows[-1], flush=True)
            capacity = 1.0 / max(stage_compute)
            for clients in CONCURRENCY:
                rate, p50, p99 = concurrent(
                    "127.0.0.1", serve_port, path, body, headers, clients, args.seconds
                )
                load_rows.append(
                    [
                        model.name,
                        clients,
                        f"{rate:.0f}",
                        f"{capacity:.0f}",
                        f"{rate / capacity:.0%}",
                        f"{p50:.2f}",
                        f"{p99:.2f}",
                    ]
                )
                print(load_rows[-1], flush=True)
    finally:
        fleet.stop()
    one = markdown_table(
        [
            "model",
            "bare ms",
            "bare TCP ms",
            "endpoint ms",
            "endpoint overhead ms",
            "of which: HTTP, parse, answer ms",
            "encode for the hop ms",
            "hand-overs, DONE hop ms",
            "/v2 proxy ms",
            "proxy − endpoint ms",
            "POST /api/jobs/ ms",
        ],
        rows,
    )
    load = markdown_table(
        ["model", "clients", "requests/s", "slowest stage's capacity /s", "of capacity", "p50 ms", "p99 ms"],
        load_rows,
    )
    streamed = markdown_table(
        [
            "model",
            "frames",
            "rate /s",
            "test-sample stream: overhead ms/frame",
            "video stream: overhead ms/frame",
            "video stream fps",
            "read + preprocess ms/frame",
        ],
        video_rows,
    )
    section = f"""## Serving

`{COMMAND}` — {machine()}. Daphne, one Celery worker and two agents on this host (loopback data plane; one
onnxruntime thread each); each model served at agent-a on a 2-stage split at its middle block (agent-a, then
agent-b), binary OIP requests from this process over a kept-alive connection. Medians over {args.requests}
requests per one-client column. *endpoint overhead*: the response time minus the stages' compute and the
data plane's transfer, from each request's own trace, and where it goes: the HTTP exchange (response time
minus the agent's own enter-to-answer latency), encoding the activation for the hop, and the rest of the
route (thread hand-overs, queues, the DONE frame back to the source). *bare TCP*: the same bytes out and back
between two processes. *POST /api/jobs/*: submission to stored result of a one-shot job on the same split
(median of {args.jobs}). Concurrency: {args.seconds:g} s per level, each client on its own connection; the
slowest stage's capacity is 1 / its median compute in the one-client run.

{one}

{load}

Streamed frames on the same split ({args.frames} per session): per-frame overhead = frame latency (from
entering stage 0 to the source hearing its DONE) minus its stages' compute and transfer, median. The video is
an MJPG file of random frames at the model's input size (at least 64×64) that agent-a decodes with OpenCV and
preprocesses with the model's catalog spec; *read + preprocess* is that work per frame, timed in the benchmark
process on the same file (it precedes a frame's latency).

{streamed}
"""
    print(section)
    if args.write:
        write_section(section)


if __name__ == "__main__":
    main()
