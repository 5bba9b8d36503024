"""An uploaded model's test run, in a child process with memory and time limits.

A few hundred bytes of ONNX can ask for gigabytes (``ConstantOfShape`` to a huge shape) or loop for long:
run in the web process, the test run of an upload took that process's memory. Here it runs in a fresh
Python (this file run as a script: onnxruntime and numpy only, no Django) under ``RLIMIT_AS`` (address
space) and ``RLIMIT_CPU``, and the parent waits at most ``timeout_s``. What comes back is only the shape and
dtype of each output asked for.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np


class SandboxLimitExceeded(Exception):
    """The test run went past its memory or time limit; the message says which, for the uploader."""


class SandboxFailed(Exception):
    """The test run raised; the message is onnxruntime's first line."""


@dataclass(frozen=True)
class Limits:
    memory_bytes: int  # address space of the child, libraries included (about 250 MB of it)
    timeout_s: float


def run_isolated(
    model_bytes: bytes, feeds: dict[str, np.ndarray], outputs: list[str], limits: Limits
) -> dict[str, tuple[np.dtype, list[int]] | None]:
    """Run the model once on ``feeds`` in a limited child: {output: (dtype, shape), or None (no tensor)}."""
    with tempfile.TemporaryDirectory(prefix="edgeorch-testrun-") as tmp:
        work = Path(tmp)
        (work / "model.onnx").write_bytes(model_bytes)
        np.savez(work / "feeds.npz", **feeds)  # type: ignore[arg-type]  # numpy's stub: names as **kwds
        (work / "outputs.json").write_text(json.dumps(outputs))
        command = [
            sys.executable,
            "-I",
            __file__,
            tmp,
            str(limits.memory_bytes),
            str(int(limits.timeout_s) + 1),
        ]
        try:
            done = subprocess.run(command, capture_output=True, timeout=limits.timeout_s, check=False)
        except subprocess.TimeoutExpired:
            raise SandboxLimitExceeded(f"it took longer than {limits.timeout_s:g} s") from None
        result = work / "result.json"
        if not result.exists():
            raise SandboxLimitExceeded(_death(done, limits))
        answer = json.loads(result.read_text())
    if "memory" in answer:
        raise SandboxLimitExceeded(f"it needs more than {limits.memory_bytes / 2**20:.0f} MB of memory")
    if "error" in answer:
        raise SandboxFailed(answer["error"])
    return {
        name: None if found is None else (np.dtype(found[0]), list(found[1]))
        for name, found in answer["outputs"].items()
    }


def _death(done: subprocess.CompletedProcess, limits: Limits) -> str:
    """A child that left no result was killed: out of memory (abort, segfault) or of CPU time (SIGXCPU)."""
    if done.returncode == -24:  # SIGXCPU
        return f"it took longer than {limits.timeout_s:g} s"
    return f"it needs more than {limits.memory_bytes / 2**20:.0f} MB of memory (stopped: {done.returncode})"


def _child(work: Path, memory_bytes: int, cpu_s: int) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))
    result = work / "result.json"
    try:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = 1, 1
        options.log_severity_level = 3
        session = ort.InferenceSession(str(work / "model.onnx"), options, providers=["CPUExecutionProvider"])
        outputs = json.loads((work / "outputs.json").read_text())
        with np.load(work / "feeds.npz") as feeds:
            values = session.run(outputs, dict(feeds))
    except MemoryError as exc:
        result.write_text(json.dumps({"memory": str(exc)}))
        return
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises many types; all mean "does not run"
        text = (str(exc).strip() or type(exc).__name__).splitlines()[0][:400]
        kind = "memory" if "alloc" in text.lower() else "error"
        result.write_text(json.dumps({kind: text}))
        return
    shapes = {
        name: [value.dtype.str, list(value.shape)] if hasattr(value, "dtype") else None
        for name, value in zip(outputs, values, strict=True)
    }
    result.write_text(json.dumps({"outputs": shapes}))


if __name__ == "__main__":
    _child(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))
