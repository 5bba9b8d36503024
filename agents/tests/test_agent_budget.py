"""The coordinator's budget kept by a real in-process source agent (docs/qos.md, "Budgets"): a ``budget``
message that leaves an edge out stops the stream's frames going there (they take the allowed configuration),
one that allows nothing drops them at the source with a ``budget:`` reason, one with ``edges`` null lifts it;
the stream never stops. A plain stream over its rate on its edge has its excess dropped at the source."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest
from edgeorch_agent.executor.budget import Budget as Kept
from edgeorch_agent.executor.budget import TokenBucket
from edgeorch_wire.protocol import Budget, Deploy, Stream, StreamStop
from execution_fixtures import INPUT_SHAPE, OUTPUT_SHAPE, conv_chain, file_server, node, npy, stage

X = np.random.default_rng(11).standard_normal(INPUT_SHAPE).astype(np.float32)


def reported(source, session: str) -> list[dict[str, Any]]:
    return [f for r in source.of_type("stream_report") if r.session_id == session for f in r.frames]


async def until(predicate, timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


async def two_edges(files, alice, bob, carol) -> list[dict[str, Any]]:
    """``dep-1``: the whole model on bob (stage 3) and on carol (stage 4), each entered from alice; the
    configurations of a dynamic stream over them (bob's the more accurate)."""
    await bob.executor.handle(
        Deploy("dep-1", "secret", [stage(3, files, "full", ("x", INPUT_SHAPE), ("y", OUTPUT_SHAPE), None)], 1)
    )
    await carol.executor.handle(
        Deploy("dep-1", "secret", [stage(4, files, "full", ("x", INPUT_SHAPE), ("y", OUTPUT_SHAPE), None)], 1)
    )
    for who in (bob, carol):
        assert (await who.wait_for("deploy_status"))[-1].ok
    return [
        {
            "name": name,
            "accuracy": accuracy,
            "first_stage": first,
            "entry": {**who.hop(), "tensor": "x", "secret": "secret"},
            "stages": [{"stage": first, "compute_s": 0.001}],
        }
        for name, accuracy, first, who in (("on-bob", 0.99, 3, bob), ("on-carol", 0.9, 4, carol))
    ]


def test_a_budget_moves_a_streams_frames_off_a_disallowed_edge_and_drops_them_when_nothing_is_allowed(
    tmp_path,
):
    async def scenario(files):
        async with (
            node("alice", tmp_path) as alice,
            node("bob", tmp_path) as bob,
            node("carol", tmp_path) as carol,
        ):
            configs = await two_edges(files, alice, bob, carol)
            await alice.executor.handle(
                Stream(
                    "dep-1",
                    "s",
                    3,
                    files.url("input.npy"),
                    50.0,
                    5000,
                    2,
                    5,
                    entry=configs[0]["entry"],
                    dynamic={"configs": configs},
                )
            )
            streams = alice.executor.streams
            await until(lambda: sum(f["ok"] for f in reported(alice, "s")) >= 5)  # no budget: bob's, the best
            cuts = []
            for budget_id, edges in (
                ("carol-only", [{"device_id": "carol", "share": 0.5, "rate": None, "name": "carol"}]),
                ("nothing", []),
                ("lifted", None),
            ):
                await alice.executor.handle(Budget("s", budget_id, "dep-1", edges=edges))
                await until(
                    lambda b=budget_id, e=edges: (
                        (streams.budgets.get("s") is None)
                        if e is None
                        else getattr(streams.budgets.get("s"), "budget_id", None) == b
                    )
                )
                cut = streams.running["s"].emitting + 1  # every later frame is chosen under this budget
                cuts.append(cut)
                await until(
                    lambda c=cut: sum(1 for f in reported(alice, "s") if f["request_id"] >= c + 5) >= 5
                )
            await alice.executor.handle(StreamStop("s"))
            (done,) = await alice.wait_for("stream_done", timeout=20)
            return reported(alice, "s"), cuts, done

    with file_server({**conv_chain(), "input.npy": npy(X)}) as files:
        frames, (carol_only, nothing, lifted), done = asyncio.run(scenario(files))

    early = [f for f in frames if f["request_id"] < carol_only - 2]
    assert early and {f["config"] for f in early} == {"on-bob"}
    under_carol = [f for f in frames if carol_only <= f["request_id"] < nothing - 2]
    assert under_carol and all(f["ok"] for f in under_carol)
    assert {f["config"] for f in under_carol} == {"on-carol"}  # bob is not in its budget: never sent there
    assert all([t["device"] for t in f["trace"]] == ["carol"] for f in under_carol)
    refused = [f for f in frames if nothing <= f["request_id"] < lifted - 2]
    assert refused and all(
        f["dropped"] and not f["ok"] for f in refused
    )  # nothing allowed: dropped at source
    assert all(f["error"].startswith("budget: ") and f["trace"] == [] for f in refused)
    back = [f for f in frames if f["request_id"] >= lifted]
    assert back and {f["config"] for f in back if f["ok"]} == {"on-bob"} and any(f["ok"] for f in back)
    # the stream went on through every budget: its frames are numbered without a gap, each reported once
    numbers = sorted(f["request_id"] for f in frames)
    assert numbers == list(range(len(numbers))) and done.frames_ok == sum(f["ok"] for f in frames)


def test_a_plain_stream_over_its_rate_on_its_edge_has_the_excess_dropped_at_the_source(tmp_path):
    async def scenario(files):
        async with (
            node("alice", tmp_path) as alice,
            node("bob", tmp_path) as bob,
            node("carol", tmp_path) as carol,
        ):
            configs = await two_edges(files, alice, bob, carol)
            # set before the stream starts: kept until it does
            await alice.executor.handle(
                Budget("p", "slow", "dep-1", edges=[{"device_id": "bob", "share": 0.1, "rate": 0.01}])
            )
            await until(lambda: "p" in alice.executor.streams.budgets)
            await alice.executor.handle(
                Stream("dep-1", "p", 3, files.url("input.npy"), 50.0, 40, 2, 5, entry=configs[0]["entry"])
            )
            (done,) = await alice.wait_for("stream_done", timeout=20)
            return reported(alice, "p"), done

    with file_server({**conv_chain(), "input.npy": npy(X)}) as files:
        frames, done = asyncio.run(scenario(files))
    assert len(frames) == 40 and done.frames_ok == sum(f["ok"] for f in frames)
    answered = [f for f in frames if f["ok"]]
    refused = [f for f in frames if not f["ok"]]
    # a bucket of one frame, refilled at 0.01 frames/s: the first frame is paid for, the others are not
    assert len(answered) == 1 and [t["device"] for t in answered[0]["trace"]] == ["bob"]
    assert len(refused) == 39
    assert all(f["dropped"] and f["error"].startswith("budget: over its share of edge bob") for f in refused)


@pytest.mark.parametrize("rate", [0.5, 2.0, 10.0])
def test_a_token_bucket_pays_at_most_its_burst_plus_its_rate_over_time(rate):
    now = [0.0]
    bucket = TokenBucket(rate, clock=lambda: now[0])
    paid = 0
    for step in range(1000):  # 10 s in steps of 10 ms, a frame asked for at each
        now[0] = step * 0.01
        paid += bucket.take()
    assert paid <= bucket.burst + rate * now[0] + 1e-9
    assert paid >= rate * now[0] - 1  # and as many as it holds, all the while


def test_a_kept_budget_allows_its_edges_and_the_device_itself_only():
    kept = Kept("b", [{"device_id": "e1", "share": 0.5, "rate": None}, {"device_id": "e2", "share": 0.0}])
    assert kept.allows(None) and kept.allows("e1")  # the device itself; an edge without a rate limit
    assert not kept.allows("e2") and not kept.allows("e3")  # no share; not listed
    assert kept.why_not("e3").startswith("budget: edge e3 is not in this session's budget b (allowed: e1)")
