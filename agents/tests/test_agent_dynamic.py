"""Dynamic inference on real in-process agents (docs/qos.md): a stream with ``dynamic`` configurations picks,
per frame, the most accurate one whose predicted latency meets its deadline, and each frame's record names
the configuration that served it and its accuracy."""

from __future__ import annotations

import asyncio

import numpy as np
from edgeorch_wire.protocol import Deploy, Stream
from execution_fixtures import (
    INPUT_SHAPE,
    OUTPUT_SHAPE,
    chain_stages,
    conv_chain,
    file_server,
    node,
    npy,
    stage,
)

X = np.random.default_rng(7).standard_normal(INPUT_SHAPE).astype(np.float32)


def test_a_tight_deadline_takes_the_cheaper_configuration_and_a_loose_one_the_most_accurate(tmp_path):
    async def scenario(files):
        async with node("alice", tmp_path) as alice, node("bob", tmp_path) as bob:
            # One deployment, two ways through it: the model split alice -> alice -> bob (stages 0-2), or
            # the whole (cheaper, say quantised) model on bob alone (stage 3), entered there.
            split = chain_stages(files, [alice.hop(), bob.hop(), None])
            whole = stage(3, files, "full", ("x", INPUT_SHAPE), ("y", OUTPUT_SHAPE), None)
            await alice.executor.handle(Deploy("dep-1", "secret", split[:2], 1))
            await bob.executor.handle(Deploy("dep-1", "secret", [split[2], whole], 1))
            for who in (alice, bob):
                assert (await who.wait_for("deploy_status"))[-1].ok
            entry = {**bob.hop(), "tensor": "x", "secret": "secret"}
            configs = [
                {
                    "name": "cheap",
                    "accuracy": 0.9,
                    "first_stage": 3,
                    "entry": entry,
                    "stages": [{"stage": 3, "compute_s": 0.01}],
                    "transfer_s": 0.002,
                },
                {
                    "name": "accurate",
                    "accuracy": 0.99,
                    "first_stage": 0,
                    "stages": [{"stage": s, "compute_s": 0.05} for s in range(3)],
                    "transfer_s": 0.002,
                    "exit": None,
                    "split": 2,
                },
            ]
            reports = {}
            for session, deadline in (("loose", 2.0), ("tight", 0.1)):
                stream = Stream(
                    "dep-1",
                    session,
                    0,
                    files.url("input.npy"),
                    50.0,
                    10,
                    2,
                    5,
                    deadline_s=deadline,
                    dynamic={"configs": configs},
                )
                await alice.executor.handle(stream)
                await alice.wait_for("stream_done", count=len(reports) + 1, timeout=20)
                reports[session] = [
                    f for r in alice.of_type("stream_report") if r.session_id == session for f in r.frames
                ]
            return reports

    with file_server({**conv_chain(), "input.npy": npy(X)}) as files:
        reports = asyncio.run(scenario(files))
    loose, tight = reports["loose"], reports["tight"]
    assert len(loose) == len(tight) == 10
    assert {f["config"] for f in loose} == {"accurate"}  # 0.152 s predicted fits 2 s: the most accurate
    assert {f["config"] for f in tight} == {"cheap"}  # it does not fit 0.1 s; the whole model on bob does
    assert all(f["trace"][0]["device"] == "alice" for f in loose if f["ok"])
    assert all([t["device"] for t in f["trace"]] == ["bob"] for f in tight if f["ok"])
    assert {f["accuracy"] for f in loose if f["ok"]} == {0.99} and {
        f["accuracy"] for f in tight if f["ok"]
    } == {0.9}
    assert any(f["ok"] for f in loose) and any(f["ok"] for f in tight)
