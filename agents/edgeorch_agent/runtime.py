"""Segment runtime: fetch model segments, hold their onnxruntime sessions, run one stage, record its trace.

A ``Deployment`` is built once per ``deploy`` message and reused for every request: for each stage this agent
runs it holds the segment's session, the stage's tensor contract (names, dtypes, shapes) and where its output
goes (``NextHop``; None for the final stage). Each stage has its own single thread, so a stage serialises
its frames while different stages (here or on other agents) run concurrently: that is the pipelining.

Trace entries (one per stage, appended to the activation's trace so the last stage holds the timeline)::

    {"stage", "device", "queue_s", "compute_s", "serialize_s", "transfer_s", "start", "end"}

``start``/``end`` are wall-clock seconds (``time.time()``) when the stage began computing and when it handed
its output on (after serialising). ``transfer_s`` is filled in by the receiver as its receipt time minus the
sender's send start, both wall clocks: exact on one machine, and as good as the clock sync (NTP/PTP) across
machines. ``compute_s`` includes the emulation stretch (``compute_scale``).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import os
import threading
import time
import urllib.error
import urllib.request
from collections import OrderedDict, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import numpy as np
from edgeorch_wire.codecs import CODECS

log = logging.getLogger(__name__)

DOWNLOAD_TIMEOUT = 30.0
CHUNK = 1024 * 1024

# onnxruntime's tensor type names (as the catalog records them) and numpy's, both accepted in messages.
_ORT_TYPES = {
    "tensor(float)": "float32",
    "tensor(float16)": "float16",
    "tensor(double)": "float64",
    "tensor(int8)": "int8",
    "tensor(uint8)": "uint8",
    "tensor(int16)": "int16",
    "tensor(int32)": "int32",
    "tensor(int64)": "int64",
    "tensor(bool)": "bool",
    "float": "float32",
    "double": "float64",
}


class DeployError(Exception):
    """A deployment cannot be built (bad message, download, hash or model)."""


class StageError(Exception):
    """One request failed in one stage; the message says why (it goes into ``stage_error``)."""


def normalise_dtype(name: str) -> str:
    try:
        return str(np.dtype(_ORT_TYPES.get(name, name)))
    except TypeError:
        raise DeployError(f"unknown dtype {name!r}") from None


# --- downloads -------------------------------------------------------------------------------------------


def http_get(url: str, credential: str, timeout: float = DOWNLOAD_TIMEOUT) -> bytes:
    """The body at ``url``, fetched with the device credential; ``DeployError`` on any failure."""
    chunks: list[bytes] = []
    _stream_url(url, credential, timeout, chunks.append)
    return b"".join(chunks)


def _stream_url(url: str, credential: str, timeout: float, sink: Any) -> None:
    request = urllib.request.Request(url, headers={"Authorization": f"Device {credential}"})
    try:
        # The timeout bounds every blocking socket operation, so a silent server cannot hang a deploy.
        with urllib.request.urlopen(request, timeout=timeout) as response:
            while chunk := response.read(CHUNK):
                sink(chunk)
    except urllib.error.HTTPError as exc:
        raise DeployError(f"download of {url} failed: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeployError(f"download of {url} failed: {reason}") from None


class SegmentCache:
    """Segments on disk as ``<dir>/<sha256>.onnx``: downloaded once, verified, reused while the hash
    matches."""

    def __init__(
        self, directory: Path, credential: str, timeout: float = DOWNLOAD_TIMEOUT, base_url: str = ""
    ):
        self.directory = Path(directory)
        self.credential = credential
        self.timeout = timeout
        self.base_url = base_url  # a relative segment URL is the control plane's this agent enrolled with
        self.stretches: OrderedDict[str, Stretch] = OrderedDict()  # sha256 -> its runs' history (``stretch``)

    MAX_STRETCHES = 256  # segments whose history is kept (the least recently deployed forgotten first)

    def stretch(self, sha256: str) -> Stretch:
        """The one ``Stretch`` of a segment on this agent, shared by every stage that runs it (``Stretch``:
        one computation, one emulated speed, whichever deployment holds it)."""
        sha256 = sha256.lower()
        stretch = self.stretches.pop(sha256, None) or Stretch()
        self.stretches[sha256] = stretch
        while len(self.stretches) > self.MAX_STRETCHES:
            self.stretches.popitem(last=False)
        return stretch

    async def fetch(self, url: str, sha256: str) -> Path:
        return await asyncio.to_thread(self.fetch_sync, url, sha256)

    def fetch_sync(self, url: str, sha256: str) -> Path:
        sha256 = sha256.lower()
        path = self.directory / f"{sha256}.onnx"
        if path.exists() and _file_sha256(path) == sha256:
            return path
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{sha256}.{os.getpid()}.{time.monotonic_ns()}.tmp")
        try:
            digest = self._download(url, tmp)
            if digest != sha256:
                raise DeployError(f"segment {url} has sha256 {digest}, the deployment expects {sha256}")
            os.replace(tmp, path)  # atomic: a reader never sees half a segment under the final name
        finally:
            tmp.unlink(missing_ok=True)
        return path

    def _download(self, url: str, tmp: Path) -> str:
        digest = hashlib.sha256()
        with tmp.open("wb") as out:

            def sink(chunk: bytes) -> None:
                digest.update(chunk)
                out.write(chunk)

            _stream_url(urljoin(self.base_url, url), self.credential, self.timeout, sink)
        return digest.hexdigest()


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# --- stage contracts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TensorSpec:
    name: str
    dtype: str
    shape: tuple[int | None, ...]  # None (a string or negative dim in messages): any size

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TensorSpec:
        dims = tuple(d if isinstance(d, int) and d >= 0 else None for d in data["shape"])
        return cls(str(data["name"]), normalise_dtype(str(data["dtype"])), dims)

    def describe(self, dtype: str | None = None, shape: tuple[Any, ...] | None = None) -> str:
        dims = self.shape if shape is None else shape
        return f"{dtype or self.dtype}[{', '.join('?' if d is None else str(d) for d in dims)}]"

    def check(self, dtype: str, shape: tuple[int, ...], where: str) -> None:
        """Raise ``StageError`` naming both sides unless ``dtype``/``shape`` is what this tensor must be."""
        fits = len(shape) == len(self.shape) and all(
            e is None or e == g for e, g in zip(self.shape, shape, strict=False)
        )
        if dtype != self.dtype or not fits:
            raise StageError(
                f"{where} input {self.name!r}: expected {self.describe()}, "
                f"received {self.describe(dtype, shape)}"
            )

    def example(self, rng: np.random.Generator) -> np.ndarray:
        """A random tensor of this spec (free dims become 1), for profiling."""
        shape = tuple(1 if d is None else d for d in self.shape)
        if np.dtype(self.dtype).kind == "f":
            return rng.standard_normal(shape).astype(self.dtype)
        if self.dtype == "bool":
            return rng.integers(0, 2, shape).astype(bool)
        return rng.integers(0, 10, shape).astype(self.dtype)


@dataclass(frozen=True)
class NextHop:
    device_id: str
    host: str
    port: int
    codec: str
    stage: int  # the stage that consumes the output (stage + 1 unless the message says otherwise)
    name: str | None = None  # the peer's name, where the control plane says it (emulated links match it)


@dataclass(frozen=True)
class StageSpec:
    stage: int
    url: str
    sha256: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    next: NextHop | None
    unit: str | None = None  # an emulated device's processing unit (cpu, gpu, npu); None: its default

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StageSpec:
        try:
            stage = int(data["stage"])
            hop = data.get("next")
            spec = cls(
                stage,
                str(data["url"]),
                str(data["sha256"]),
                tuple(TensorSpec.from_dict(t) for t in data["inputs"]),
                tuple(TensorSpec.from_dict(t) for t in data["outputs"]),
                None
                if hop is None
                else NextHop(
                    str(hop["device_id"]),
                    str(hop["host"]),
                    int(hop["port"]),
                    str(hop.get("codec") or "raw"),
                    int(hop.get("stage", stage + 1)),
                    hop.get("name"),
                ),
                None if data.get("unit") is None else str(data["unit"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DeployError(f"stage {data.get('stage')!r}: malformed description ({exc!r})") from None
        if spec.next is not None and spec.next.codec not in CODECS:
            raise DeployError(f"stage {stage}: unknown codec {spec.next.codec!r}")
        if not spec.inputs or not spec.outputs:
            raise DeployError(f"stage {stage}: a stage needs at least one input and one output")
        return spec


def session_options(threads: int | None) -> Any:
    import onnxruntime as ort  # imported on first use: the agent runs telemetry without it

    options = ort.SessionOptions()
    # Spinning threads burn a core between frames: on a shared edge device that steals from the other stages.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.intra_op_num_threads = threads or os.cpu_count() or 1
    options.inter_op_num_threads = 1
    return options


def load_session(path: Path, threads: int | None) -> Any:
    import onnxruntime as ort

    try:
        return ort.InferenceSession(str(path), session_options(threads), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types for bad models
        raise DeployError(f"cannot load segment {path.name}: {exc}") from None


class Stretch:
    """Emulate a slower device: stay busy (sleeping, in the caller's thread) until one computation has taken
    ``scale`` times what this host needs for it, as it would take there; returns that time. A scale below 1
    (a faster device) cannot be emulated by waiting and leaves the time as it is.

    "What this host needs" is the run's own time, but no more than the 5th percentile of the last ``WINDOW``
    runs of the same computation (a segment's work is the same every frame; a long memory, so that load that
    lasts a while does not become the device's speed either). A run the host slowed down —
    another process, or another emulated device, holding a core — would otherwise stretch by the whole
    factor (x6 for an rpi4: 5 ms lost to the host becomes 30 ms on the emulated device, which on real hardware
    has its own cores). The host's delay is still waited out; it is just not multiplied.

    One segment is one computation however many deployments hold it: its stages share one history
    (``SegmentCache.stretch``, by the segment's sha256), so that two deployments of the same segment on
    this agent (the ``ans`` local arm and ``adaptive``'s all-local plan, one after the other in a scenario)
    run at the same emulated speed. Each kept its own before, and over a short history the 5th percentile
    is the fastest run (below 21 runs), so a fresh deployment's device ran faster than an older one's: in one
    bench run mobilenetv2 all-local on the emulated rpi4 computed 43.0 ms a frame in ``ans``'s deployment
    up to frame 40 and 47.4 from frame 46 (the index past the fastest run, as inferred from the recorded
    compute times), and took 39-40 ms a frame in ``adaptive``'s fresh one a minute later, for the same
    work.
    """

    WINDOW = 256
    QUANTILE = 0.05

    def __init__(self) -> None:
        self._recent: deque[float] = deque(maxlen=self.WINDOW)
        self._lock = threading.Lock()  # stages of two deployments may run the same segment at once

    def target(self, compute_s: float, scale: float) -> float:
        """The emulated device's time for a run the host took ``compute_s`` for (the run is remembered)."""
        if scale <= 1.0:
            return compute_s
        with self._lock:
            self._recent.append(compute_s)
            usual = sorted(self._recent)[int((len(self._recent) - 1) * self.QUANTILE)]
        return max(compute_s, scale * min(compute_s, usual))

    def remember(self, compute_s: float) -> None:
        """A run outside the timings (``warm_up``'s last): what this host needs for the computation, so
        that the first frames are not stretched by the whole factor where the host still runs them slower
        than it will (mobilenetv2's first three local frames on the emulated rpi4 took 101, 76, 56 ms,
        every later one 56-60: at its x6, host runs of about 17, 13, 9 ms, inferred, not timed)."""
        with self._lock:
            self._recent.append(compute_s)

    def __call__(self, compute_s: float, scale: float) -> float:
        target = self.target(compute_s, scale)
        if target > compute_s:
            time.sleep(target - compute_s)
        return target


@dataclass
class Stage:
    spec: StageSpec
    session: Any
    thread: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(1, "edgeorch-stage"))
    recent_compute_s: float = math.inf  # the last request's compute time (unknown: as if long)
    stretch: Stretch = field(default_factory=Stretch)

    def compute(
        self, feeds: dict[str, np.ndarray], compute_scale: float
    ) -> tuple[dict[str, np.ndarray], float]:
        """Run the segment (in this stage's thread); returns its outputs and the (stretched) compute time."""
        names = [t.name for t in self.spec.outputs]
        started = time.perf_counter()
        try:
            values = self.session.run(names, feeds)
        except Exception as exc:  # onnxruntime's errors have no common base worth naming
            raise StageError(f"stage {self.spec.stage}: onnxruntime failed: {exc}") from None
        compute_s = self.stretch(time.perf_counter() - started, compute_scale)
        self.recent_compute_s = compute_s
        return dict(zip(names, values, strict=True)), compute_s


@dataclass
class Deployment:
    """The stages of one deployment that run on this agent, ready for requests.

    ``compute_scale`` (default 1.0) is the emulation hook: every stage's compute is stretched to
    ``compute_scale`` times the host's time for it by sleeping (``Stretch``), to emulate a slower device on a
    faster one.

    Each stage is run ``WARM_RUNS`` times on an example input as it is loaded (``warm_up``; part of
    ``load_s``), so that a deployment is ready warm: a fresh onnxruntime session's first run takes several
    times its usual time, the next ones still more than later ones, and the emulation would stretch that
    too. The first frame on a deployment (and, for ``ans``, the first on each of its arms) no longer pays
    for it.
    """

    deployment_id: str
    secret: bytes
    stages: dict[int, Stage]
    load_s: float = 0.0
    compute_scale: float = 1.0

    @classmethod
    async def build(
        cls,
        deployment_id: str,
        secret: str,
        stages: list[dict[str, Any]],
        cache: SegmentCache,
        threads: int | None = None,
        compute_scale: float = 1.0,
    ) -> Deployment:
        started = time.perf_counter()
        specs = [StageSpec.from_dict(s) for s in stages]
        if not specs:
            raise DeployError("a deployment needs at least one stage")
        paths = await asyncio.gather(*(cache.fetch(s.url, s.sha256) for s in specs))
        sessions = await asyncio.gather(*(asyncio.to_thread(load_session, p, threads) for p in paths))
        built = {
            s.stage: Stage(s, session, stretch=cache.stretch(s.sha256))
            for s, session in zip(specs, sessions, strict=True)
        }
        await asyncio.gather(*(asyncio.to_thread(warm_up, stage) for stage in built.values()))
        load_s = time.perf_counter() - started
        return cls(deployment_id, secret.encode(), built, load_s, compute_scale)

    def close(self) -> None:
        for stage in self.stages.values():
            stage.thread.shutdown(wait=False, cancel_futures=True)


WARM_RUNS = 3  # runs of a stage as it loads (``warm_up``)


def warm_up(stage: Stage) -> None:
    """Run the stage's session ``WARM_RUNS`` times on an example of its inputs, outside its timings: a
    fresh session's first runs are slower than the ones after them. The last run's time is what the
    stretch remembers as this host's time for the stage (``Stretch.remember``): an emulated device's first
    frames are then stretched from the host's usual time, not from a slower first run (best effort: a
    segment an example cannot feed stays cold)."""
    rng = np.random.default_rng(0)
    try:
        feeds = {t.name: t.example(rng) for t in stage.spec.inputs}
        for _ in range(WARM_RUNS - 1):
            stage.session.run(None, feeds)
        started = time.perf_counter()
        stage.session.run(None, feeds)
        stage.stretch.remember(time.perf_counter() - started)
    except Exception as exc:  # onnxruntime's errors have no common base worth naming
        log.debug("stage %s stays cold: %s", stage.spec.stage, exc)


def trace_entry(stage: int, device_id: str, queue_s: float, compute_s: float, start: float) -> dict[str, Any]:
    return {
        "stage": stage,
        "device": device_id,
        "queue_s": queue_s,
        "compute_s": compute_s,
        "serialize_s": 0.0,
        "transfer_s": 0.0,
        "start": start,
        "end": start + compute_s,
    }
