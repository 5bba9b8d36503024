"""Split inference across in-process executors on loopback: deploy, run, stream, failures, profile, probe."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest
from edgeorch_agent.dataplane import AuthError, PeerLink
from edgeorch_wire.codecs import encode
from edgeorch_wire.frames import Activation, parse_activation, parse_frame
from edgeorch_wire.protocol import (
    Deploy,
    Probe,
    Profile,
    Relayed,
    Run,
    Stream,
    StreamStop,
    StreamSwitch,
    Undeploy,
)
from execution_fixtures import (
    HIDDEN_SHAPE,
    INPUT_SHAPE,
    chain_stages,
    conv_chain,
    failing_segment,
    file_server,
    node,
    npy,
    run_model,
    sha,
)

X = np.random.default_rng(42).standard_normal(INPUT_SHAPE).astype(np.float32)


def model_files() -> dict[str, bytes]:
    return {**conv_chain(), "input.npy": npy(X), "bad": failing_segment()}


async def deploy(node, stages, deployment_id="dep-1", secret="top-secret", threads=1) -> None:
    await node.executor.handle(Deploy(deployment_id, secret, stages, threads))
    status = (await node.wait_for("deploy_status"))[-1]
    assert status.ok, status.error


def test_a_request_split_across_two_agents_equals_the_unsplit_model(tmp_path):
    async def scenario(files):
        async with node("alice", tmp_path) as alice, node("bob", tmp_path) as bob:
            stages = chain_stages(files, [alice.hop(), bob.hop("zlib"), None])
            await deploy(alice, stages[:2])
            await deploy(bob, stages[2:])
            await alice.executor.handle(Run("dep-1", 7, 0, files.url("input.npy")))
            (result,) = await bob.wait_for("result")
            return result, [b for m, b in bob.sent if m.type == "result"][0]

    with file_server(model_files()) as files:
        result, binary = asyncio.run(scenario(files))
        expected = run_model(files.files["full"], X)
    activation = parse_activation(parse_frame(binary))
    output = np.frombuffer(activation.payload, activation.dtype).reshape(activation.shape)
    assert np.allclose(output, expected, atol=1e-5)
    assert result.request_id == 7 and result.output["name"] == "y" and result.output["shape"] == [1, 10]
    assert result.output["top_k"][0][0] == int(np.argmax(expected))
    assert [(t["stage"], t["device"]) for t in result.trace] == [(0, "alice"), (1, "alice"), (2, "bob")]
    assert result.trace[1]["transfer_s"] > 0 and result.trace[0]["transfer_s"] == 0  # peer vs in-process
    assert all(t["compute_s"] > 0 and t["end"] >= t["start"] for t in result.trace)


def test_a_bad_segment_hash_fails_the_deploy_with_a_clear_message(tmp_path):
    async def scenario(files):
        async with node("alice", tmp_path) as alice:
            stages = chain_stages(files, [None, None, None])[:1]
            stages[0]["sha256"] = sha(b"something else")
            await alice.executor.handle(Deploy("dep-1", "s", stages))
            (status,) = await alice.wait_for("deploy_status")
            assert not alice.executor.deployments
            return status

    with file_server(model_files()) as files:
        status = asyncio.run(scenario(files))
    assert not status.ok and "sha256" in status.error and sha(b"something else") in status.error


def test_a_stage_that_fails_at_run_time_reports_a_stage_error_and_the_agent_carries_on(tmp_path):
    async def scenario(files):
        async with node("alice", tmp_path) as alice:
            stages = chain_stages(files, [alice.hop(), alice.hop(), None], last="bad")
            await deploy(alice, stages)
            await alice.executor.handle(Run("dep-1", 1, 0, files.url("input.npy")))
            await alice.executor.handle(Run("dep-1", 2, 0, files.url("input.npy")))
            return await alice.wait_for("stage_error", 2)

    with file_server(model_files()) as files:
        errors = asyncio.run(scenario(files))
    assert sorted((e.request_id, e.stage, e.device_id) for e in errors) == [(1, 2, "alice"), (2, 2, "alice")]
    assert "onnxruntime failed" in errors[0].error


def test_a_run_for_an_unknown_deployment_or_a_missing_input_is_a_stage_error(tmp_path):
    async def scenario(files):
        async with node("alice", tmp_path) as alice:
            await alice.executor.handle(Run("nope", 1, 0, files.url("input.npy")))
            await deploy(alice, chain_stages(files, [None, None, None])[:1])
            await alice.executor.handle(Run("dep-1", 2, 0, files.url("missing.npy")))
            return await alice.wait_for("stage_error", 2)

    with file_server(model_files()) as files:
        unknown, missing = asyncio.run(scenario(files))
    assert "'nope' is not deployed" in unknown.error
    assert "HTTP 404" in missing.error


def test_a_stream_pipelines_twenty_frames_across_two_agents_and_reports_them_all(tmp_path):
    async def scenario(files):
        # The stretch makes each stage take a few ms, so overlap in time is certain, not luck.
        slow = {"compute_scale": 40.0}
        async with node("alice", tmp_path, **slow) as alice, node("bob", tmp_path, **slow) as bob:
            stages = chain_stages(files, [bob.hop("fp16"), bob.hop(), None])
            await deploy(alice, stages[:1])
            await deploy(bob, stages[1:])
            stream = Stream("dep-1", "sess-1", 0, files.url("input.npy"), 500.0, 20, 3, 5)
            await alice.executor.handle(stream)
            (done,) = await alice.wait_for("stream_done", timeout=20)
            return (
                done,
                alice.of_type("stream_report"),
                alice.of_type("stage_error") + bob.of_type("stage_error"),
            )

    with file_server(model_files()) as files:
        done, reports, errors = asyncio.run(scenario(files))
    assert not errors
    assert (done.frames_sent, done.frames_ok) == (20, 20)
    frames = sorted((f for r in reports for f in r.frames), key=lambda f: f["request_id"])
    assert [f["request_id"] for f in frames] == list(range(20)) and all(f["ok"] for f in frames)
    assert all(len(r.frames) == 5 for r in reports)
    assert all(f["latency_s"] > 0 and [t["stage"] for t in f["trace"]] == [0, 1, 2] for f in frames)
    by_stage = [{t["stage"]: t for t in f["trace"]} for f in frames]
    overlapped = [k for k in range(19) if by_stage[k + 1][0]["start"] < by_stage[k][1]["end"]]
    assert overlapped, "no frame entered stage 0 before the previous frame left stage 1"
    in_flight = max(
        sum(1 for f in by_stage if f[0]["start"] <= s[0]["start"] < f[2]["end"]) for s in by_stage
    )
    assert in_flight <= 3


def test_stream_stop_ends_a_stream_early_and_reports_what_was_sent(tmp_path):
    async def scenario(files):
        async with node("alice", tmp_path) as alice:
            await deploy(alice, chain_stages(files, [alice.hop(), alice.hop(), None]))
            await alice.executor.handle(Stream("dep-1", "s", 0, files.url("input.npy"), 20.0, 1000, 2, 5))
            await asyncio.sleep(0.3)
            await alice.executor.handle(StreamStop("s"))
            (done,) = await alice.wait_for("stream_done")
            return done

    with file_server(model_files()) as files:
        done = asyncio.run(scenario(files))
    assert 0 < done.frames_sent < 1000 and done.frames_ok == done.frames_sent


def test_an_unreachable_peer_gets_the_activation_relayed_through_the_control_plane(tmp_path):
    async def scenario(files):
        async with node("alice", tmp_path) as alice, node("bob", tmp_path) as bob:
            gone = {**bob.hop(), "port": 1}  # nothing listens there
            stages = chain_stages(files, [alice.hop(), gone, None])
            await deploy(alice, stages[:2])
            await deploy(bob, stages[2:])
            await alice.executor.handle(Run("dep-1", 3, 0, files.url("input.npy")))
            (relay,) = await alice.wait_for("relay")
            binary = [b for m, b in alice.sent if m.type == "relay"][0]
            # What the control plane does: forward it to bob's websocket as ``relayed`` + the binary frame.
            await bob.executor.on_relayed(Relayed("dep-1", relay.request_id, "alice"), binary)
            (result,) = await bob.wait_for("result")
            return relay, result

    with file_server(model_files()) as files:
        relay, result = asyncio.run(scenario(files))
    assert (relay.to_device_id, relay.request_id) == ("bob", 3)
    assert result.trace[-1].get("relayed") is True and not result.trace[0].get("relayed")


def test_undeploy_forgets_the_deployment_and_its_secret(tmp_path):
    async def scenario(files):
        async with node("alice", tmp_path) as alice:
            await deploy(alice, chain_stages(files, [None, None, None])[:1])
            assert alice.executor.secret_for("dep-1") == b"top-secret"
            await alice.executor.handle(Undeploy("dep-1"))
            await asyncio.sleep(0.05)
            return alice.executor.secret_for("dep-1"), alice.executor.deployments

    with file_server(model_files()) as files:
        assert asyncio.run(scenario(files)) == (None, {})


def test_profile_times_every_block_and_reports_the_thermal_state(tmp_path):
    async def scenario(files):
        metrics = {"temp.cpu": 51.0, "cpu.throttle_factor": 0.9, "cpu.util": 12.0}
        async with node("alice", tmp_path, metrics=lambda: metrics) as alice:
            segments = [
                {"block": i, "url": files.url(f"s{i}"), "sha256": sha(files.files[f"s{i}"]), "inputs": [spec]}
                for i, spec in enumerate(
                    {"name": n, "shape": s, "dtype": "float32"}
                    for n, s in (("x", INPUT_SHAPE), ("a", HIDDEN_SHAPE), ("b", HIDDEN_SHAPE))
                )
            ]
            await alice.executor.handle(Profile("p-1", segments, warmup=1, repeats=5))
            bad = [{**segments[0], "sha256": sha(b"x")}]
            await alice.executor.handle(Profile("p-2", bad, warmup=0, repeats=1))
            await alice.wait_for("profile_result", 2)
            return [m for m, _ in alice.sent if m.type in ("profile_progress", "profile_result")]

    with file_server(model_files()) as files:
        sent = asyncio.run(scenario(files))
    results = {r.profile_id: r for r in sent if r.type == "profile_result"}
    told = [(m.type, m.profile_id, getattr(m, "done", None), getattr(m, "total", None)) for m in sent]
    # Progress before the first block and after each, in order, then the answer; a failed block ends it.
    assert [t for t in told if t[1] == "p-1"] == [
        *(("profile_progress", "p-1", done, 3) for done in range(4)),
        ("profile_result", "p-1", None, None),
    ]
    assert [t for t in told if t[1] == "p-2"] == [
        ("profile_progress", "p-2", 0, 1),
        ("profile_result", "p-2", None, None),
    ]
    good = results["p-1"]
    assert good.error is None and [b["block"] for b in good.blocks] == [0, 1, 2]
    assert all(b["median_s"] > 0 and b["p90_s"] >= b["median_s"] and b["runs"] == 5 for b in good.blocks)
    assert good.thermal == {"temp.cpu": 51.0, "cpu.throttle_factor": 0.9}
    assert "sha256" in results["p-2"].error and results["p-2"].blocks == []


def test_probe_measures_rtt_and_bandwidth_to_a_listener_and_names_an_unreachable_one(tmp_path):
    async def scenario():
        async with node("alice", tmp_path) as alice, node("bob", tmp_path) as bob:
            peers = [
                {"device_id": "bob", "host": "127.0.0.1", "port": bob.port},
                {"device_id": "ghost", "host": "127.0.0.1", "port": 1},
            ]
            await alice.executor.handle(Probe("pr-1", peers, payload_bytes=256 * 1024))
            return (await alice.wait_for("probe_result"))[0]

    result = asyncio.run(scenario())
    to_bob, to_ghost = result.links
    assert to_bob["rtt_s"] > 0 and to_bob["bandwidth_bps"] > 0 and to_bob["error"] is None
    assert (
        to_ghost["device_id"] == "ghost" and to_ghost["rtt_s"] is None and "Connection" in to_ghost["error"]
    )


def test_a_run_right_after_its_deploy_waits_for_the_deploy(tmp_path):
    async def scenario(files):
        async with node("alice", tmp_path) as alice:
            stages = chain_stages(files, [alice.hop(), alice.hop(), None])
            await alice.executor.handle(Deploy("dep-1", "s", stages, 1))
            await alice.executor.handle(Run("dep-1", 9, 0, files.url("input.npy")))
            return await alice.wait_for("result")

    with file_server(model_files()) as files:
        (result,) = asyncio.run(scenario(files))
    assert result.request_id == 9 and len(result.trace) == 3


def test_a_wrong_shape_activation_is_refused_naming_both_shapes_and_never_reaches_onnxruntime(tmp_path):
    async def scenario(files):
        async with node("bob", tmp_path) as bob:
            await deploy(bob, chain_stages(files, [None, None, None])[1:])
            errors: list[tuple[int, str]] = []
            link = await PeerLink.open(
                "127.0.0.1", bob.port, "dep-1", b"top-secret", on_error=lambda r, m: errors.append((r, m))
            )
            wrong = np.zeros([1, 4, 4, 4], np.float32)
            payload, _ = encode("raw", wrong)
            await link.send(Activation("dep-1", 5, 1, "a", "float32", wrong.shape, "raw", payload))
            (failure,) = await bob.wait_for("stage_error")
            while not errors:
                await asyncio.sleep(0.01)
            await link.close()
            return failure, errors, bob.of_type("result")

    with file_server(model_files()) as files:
        failure, errors, results = asyncio.run(scenario(files))
    assert "expected float32[1, 4, 8, 8], received float32[1, 4, 4, 4]" in failure.error
    assert (failure.request_id, failure.stage, failure.device_id) == (5, 1, "bob")
    assert errors == [(5, failure.error)] and not results


def test_a_peer_without_the_deployment_secret_cannot_feed_a_stage(tmp_path):
    async def scenario(files):
        async with node("bob", tmp_path) as bob:
            await deploy(bob, chain_stages(files, [None, None, None])[1:])
            with pytest.raises(AuthError):
                await PeerLink.open("127.0.0.1", bob.port, "dep-1", b"not-the-secret")
            return bob.sent

    with file_server(model_files()) as files:
        sent = asyncio.run(scenario(files))
    assert [m.type for m, _ in sent] == ["deploy_status"]


def test_an_inline_input_runs_without_downloading_anything(tmp_path):
    async def scenario(files):
        async with node("alice", tmp_path) as alice:
            await deploy(alice, chain_stages(files, [alice.hop(), alice.hop(), None]))
            # The URL names nothing the file server has: only the inline bytes can make this run.
            await alice.executor.handle(Run("dep-1", 3, 0, files.url("absent.npy"), inline=True), npy(X))
            (result,) = await alice.wait_for("result")
            return result

    with file_server(model_files()) as files:
        result = asyncio.run(scenario(files))
        expected = run_model(files.files["full"], X)
    assert result.request_id == 3 and result.output["top_k"][0][0] == int(np.argmax(expected))


def test_a_long_stage_computes_on_the_event_loop_only_while_nothing_else_is_in_flight(tmp_path, monkeypatch):
    # Handing a compute to the stage's thread costs two wake-ups: paid only when the loop has other work.
    from edgeorch_agent.runtime import Stage

    threads: list[str] = []
    compute = Stage.compute

    def recording(self, feeds, scale):
        threads.append(threading.current_thread().name)
        return compute(self, feeds, scale)

    monkeypatch.setattr(Stage, "compute", recording)

    async def scenario(files):
        async with node("alice", tmp_path) as alice:
            await deploy(alice, chain_stages(files, [alice.hop(), alice.hop(), None]))
            stages = alice.executor.deployments["dep-1"].stages.values()

            async def run(request_id):
                for stage in stages:
                    stage.recent_compute_s = 1.0  # as slow as a large model's stage: inline only when alone
                await alice.executor.handle(Run("dep-1", request_id, 0, "", inline=True), npy(X))
                await alice.wait_for("result", request_id)

            await run(1)
            alone, threads[:] = list(threads), []
            # A stream frame this agent sources is still on its way: its DONE must not wait for a compute.
            waiters = alice.executor.shared.waiters
            waiters[("dep-2", "session", 0)] = asyncio.get_running_loop().create_future()
            await run(2)
            return alone, list(threads)

    with file_server(model_files()) as files:
        alone, busy = asyncio.run(scenario(files))
    assert alone == [threading.main_thread().name] * 3
    assert len(busy) == 3 and all(name.startswith("edgeorch-stage") for name in busy)


def test_a_run_from_an_older_server_without_inline_still_downloads_its_input():
    old = {"v": 1, "type": "run", "deployment_id": "d", "request_id": 1, "first_stage": 0, "input_url": "u"}
    assert Run.from_dict(old).inline is False
    assert Run.from_dict(Run("d", 1, 0, "u", inline=True).to_dict()).inline is True


def test_stream_switch_moves_the_next_frames_to_another_deployment_and_loses_or_repeats_none(tmp_path):
    async def scenario(files):
        async with node("alice", tmp_path) as alice, node("bob", tmp_path) as bob:
            await deploy(alice, chain_stages(files, [alice.hop(), alice.hop(), None]), "dep-1")
            on_bob = chain_stages(files, [bob.hop(), bob.hop(), None])
            await deploy(bob, on_bob, "dep-2", secret="second-secret")
            await alice.executor.handle(Stream("dep-1", "s", 0, files.url("input.npy"), 50.0, 40, 2, 5))
            await asyncio.sleep(0.3)
            entry = {**bob.hop(), "tensor": on_bob[0]["inputs"][0]["name"], "secret": "second-secret"}
            await alice.executor.handle(StreamSwitch("s", "dep-2", 0, "sw-1", entry))
            (done,) = await alice.wait_for("stream_done", timeout=20)
            return done, alice.of_type("stream_report")

    with file_server(model_files()) as files:
        done, reports = asyncio.run(scenario(files))
    frames = sorted((f for r in reports for f in r.frames), key=lambda f: f["request_id"])
    assert [f["request_id"] for f in frames] == list(range(40)) and all(f["ok"] for f in frames)
    assert (done.frames_sent, done.frames_ok) == (40, 40)
    where = [f["trace"][0]["device"] for f in frames]
    first_on_bob = where.index("bob")
    assert (
        0 < first_on_bob < 40
        and set(where[:first_on_bob]) == {"alice"}
        and set(where[first_on_bob:]) == {"bob"}
    )


def test_a_switch_to_a_deployment_that_is_not_here_without_an_entry_is_refused(tmp_path):
    async def scenario(files):
        async with node("alice", tmp_path) as alice:
            await deploy(alice, chain_stages(files, [alice.hop(), alice.hop(), None]), "dep-1")
            await alice.executor.handle(Stream("dep-1", "s", 0, files.url("input.npy"), 50.0, 20, 2, 5))
            await asyncio.sleep(0.1)
            await alice.executor.handle(StreamSwitch("s", "nowhere", 0, "sw-1"))
            (done,) = await alice.wait_for("stream_done", timeout=20)
            return done

    with file_server(model_files()) as files:
        done = asyncio.run(scenario(files))
    assert (done.frames_sent, done.frames_ok) == (20, 20)


def test_deployments_of_one_segment_share_its_emulated_speed(tmp_path):
    """Two deployments holding the same segments: each segment's stages share one ``Stretch`` (the
    host's runs of that computation, whichever deployment ran them: one emulated speed), each of the
    two warm-ups remembered in it; another segment keeps its own."""

    async def scenario(files):
        async with node("alice", tmp_path) as alice:
            stages = chain_stages(files, [alice.hop(), alice.hop(), None])
            await deploy(alice, stages, "dep-1")
            await alice.executor.handle(Deploy("dep-2", "top-secret", stages, 1))
            status = (await alice.wait_for("deploy_status", count=2))[-1]
            assert status.ok and status.deployment_id == "dep-2", status
            return alice.executor.deployments["dep-1"], alice.executor.deployments["dep-2"]

    with file_server(model_files()) as files:
        first, second = asyncio.run(scenario(files))
    for index, stage in first.stages.items():
        assert second.stages[index].stretch is stage.stretch and len(stage.stretch._recent) == 2
    assert first.stages[0].stretch is not first.stages[1].stretch


def test_a_deploy_runs_each_stage_to_warm_it_outside_its_timings(tmp_path):
    """Each stage runs ``WARM_RUNS`` times on an example of its input as it deploys; its timings start
    empty, and the stretch remembers the last run as the host's usual time for it (so that a slower first
    frame is not stretched by the whole factor); a stage its example cannot feed stays cold, and the deploy
    is still ok."""
    from edgeorch_agent.runtime import WARM_RUNS, warm_up

    async def scenario(files):
        async with node("alice", tmp_path) as alice:
            await deploy(alice, chain_stages(files, [alice.hop(), alice.hop(), None], last="bad"))
            return alice.executor.deployments["dep-1"]

    with file_server(model_files()) as files:
        deployment = asyncio.run(scenario(files))  # the bad stage fails its warm-up: the deploy is still ok
    runs: list[list[str]] = []
    remembered = {s.spec.stage: len(s.stretch._recent) for s in deployment.stages.values()}
    assert remembered == {0: 1, 1: 1, 2: 0}  # the bad stage's warm-up failed: nothing remembered
    for stage in deployment.stages.values():  # nothing of the warm-up is in the timings
        assert stage.recent_compute_s == float("inf")
        real = stage.session

        class Counting:  # the real session, its runs counted
            def run(self, names, feeds, real=real):
                runs.append(sorted(feeds))
                return real.run(names, feeds)

        stage.session = Counting()
        warm_up(stage)
    assert runs == [["x"]] * WARM_RUNS + [["a"]] * WARM_RUNS + [["b"]]  # fed an example of its input
