"""A failover stream at its source, in-process: the stage device dies mid-stream, the control plane's
failover switch moves the stream, and every frame cut off on the old route is sent again once; an answer
never comes twice; with no switch in time a cut-off frame fails saying why."""

from __future__ import annotations

import asyncio

import numpy as np
from edgeorch_wire.protocol import Deploy, Stream, StreamSwitch
from execution_fixtures import INPUT_SHAPE, chain_stages, conv_chain, file_server, node, npy

X = np.random.default_rng(7).standard_normal(INPUT_SHAPE).astype(np.float32)


async def wait_deployed(node, deployment_id) -> None:
    for _ in range(400):
        if any(s.deployment_id == deployment_id and s.ok for s in node.of_type("deploy_status")):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{deployment_id} not deployed on {node.device_id}")


def frames_of(reports) -> list[dict]:
    return sorted((f for r in reports for f in r.frames), key=lambda f: f["request_id"])


def test_frames_cut_off_by_a_dead_stage_device_are_sent_again_once_on_the_failover_route(tmp_path):
    async def scenario(files):
        async with node("alice", tmp_path) as alice, node("bob", tmp_path) as bob:
            await alice.executor.handle(
                Deploy("dep-1", "s1", chain_stages(files, [alice.hop(), bob.hop(), None])[:2], 1)
            )
            await bob.executor.handle(
                Deploy("dep-1", "s1", chain_stages(files, [alice.hop(), bob.hop(), None])[2:], 1)
            )
            await alice.executor.handle(
                Deploy("dep-2", "s2", chain_stages(files, [alice.hop(), alice.hop(), None]), 1)
            )
            for n, d in ((alice, "dep-1"), (bob, "dep-1"), (alice, "dep-2")):
                await wait_deployed(n, d)
            stream = Stream("dep-1", "s", 0, files.url("input.npy"), 40.0, 40, 3, 5, failover=True)
            await alice.executor.handle(stream)
            await asyncio.sleep(0.3)
            await bob.server.close()  # bob dies: its stage's frames never come back
            await bob.executor.close()
            await asyncio.sleep(0.3)  # frames go on being sent towards bob meanwhile
            await alice.executor.handle(StreamSwitch("s", "dep-2", 0, "sw-1", None, True))
            (done,) = await alice.wait_for("stream_done", timeout=30)
            return done, alice.of_type("stream_report")

    with file_server({**conv_chain(), "input.npy": npy(X)}) as files:
        done, reports = asyncio.run(scenario(files))
    frames = frames_of(reports)
    assert [f["request_id"] for f in frames] == list(range(40))  # each reported once
    assert all(f["ok"] for f in frames), [f["error"] for f in frames if not f["ok"]]
    assert (done.frames_sent, done.frames_ok) == (40, 40)
    resent = [f for f in frames if f.get("resent")]
    assert resent and all(f["failover_s"] >= 0 for f in resent)
    assert all({t["device"] for t in f["trace"]} == {"alice"} for f in resent)  # answered on the new route
    tops = {f["output"]["top_k"][0][0] for f in frames}
    assert len(tops) == 1  # the same answer, on either route


def test_a_cut_off_frame_with_no_failover_route_in_time_fails_saying_why(tmp_path):
    async def scenario(files):
        async with node("alice", tmp_path, frame_timeout=0.5) as alice, node("bob", tmp_path) as bob:
            await alice.executor.handle(
                Deploy("dep-1", "s1", chain_stages(files, [alice.hop(), bob.hop(), None])[:2], 1)
            )
            await bob.executor.handle(
                Deploy("dep-1", "s1", chain_stages(files, [alice.hop(), bob.hop(), None])[2:], 1)
            )
            for n in (alice, bob):
                await wait_deployed(n, "dep-1")
            await bob.server.close()
            await bob.executor.close()
            await alice.executor.handle(
                Stream("dep-1", "s", 0, files.url("input.npy"), 20.0, 2, 1, 5, failover=True)
            )
            (done,) = await alice.wait_for("stream_done", timeout=30)
            return done, alice.of_type("stream_report")

    with file_server({**conv_chain(), "input.npy": npy(X)}) as files:
        done, reports = asyncio.run(scenario(files))
    frames = frames_of(reports)
    assert [f["request_id"] for f in frames] == [0, 1] and not any(f["ok"] for f in frames)
    assert all("no failover route within 0.5 s" in f["error"] for f in frames), frames
    assert (done.frames_sent, done.frames_ok) == (2, 0)


def test_frames_for_an_unreachable_first_stage_are_kept_and_sent_on_the_failover_route(tmp_path):
    """Offloaded: the source runs no stage, and the device of the first one dies; the frames it could not
    hand on are kept and go to the failover route (here the source itself) once it comes."""

    async def scenario(files):
        async with node("alice", tmp_path) as alice, node("bob", tmp_path) as bob:
            on_bob = chain_stages(files, [bob.hop(), bob.hop(), None])
            await bob.executor.handle(Deploy("dep-1", "s1", on_bob, 1))
            await alice.executor.handle(
                Deploy("dep-2", "s2", chain_stages(files, [alice.hop(), alice.hop(), None]), 1)
            )
            await wait_deployed(bob, "dep-1")
            await wait_deployed(alice, "dep-2")
            entry = {**bob.hop(), "tensor": on_bob[0]["inputs"][0]["name"], "secret": "s1"}
            stream = Stream("dep-1", "s", 0, files.url("input.npy"), 40.0, 30, 2, 5, entry, failover=True)
            await alice.executor.handle(stream)
            await asyncio.sleep(0.25)
            await bob.server.close()  # the first stage's device dies
            await bob.executor.close()
            await asyncio.sleep(0.3)
            await alice.executor.handle(StreamSwitch("s", "dep-2", 0, "sw-1", None, True))
            (done,) = await alice.wait_for("stream_done", timeout=30)
            return done, alice.of_type("stream_report")

    with file_server({**conv_chain(), "input.npy": npy(X)}) as files:
        done, reports = asyncio.run(scenario(files))
    frames = frames_of(reports)
    assert [f["request_id"] for f in frames] == list(range(30))
    assert all(f["ok"] for f in frames), [f["error"] for f in frames if not f["ok"]]
    assert (done.frames_sent, done.frames_ok) == (30, 30)
    assert any(f.get("resent") for f in frames)
