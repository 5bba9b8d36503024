"""Emulated links on the data plane: transfers and probes take the time the link says."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest
from edgeorch_agent.dataplane import DataplaneServer, PeerLink
from edgeorch_agent.emulation.links import LinkShaper, LinkTable
from edgeorch_agent.executor import _probe_link
from edgeorch_wire.frames import Activation
from edgeorch_wire.links import LinkSpec, LinkSpecError, RandomWalk, load_links, parse_links
from edgeorch_wire.protocol import SERVER_MESSAGES, Shape, decode

SECRET = b"link-secret"


def shaper(clock=time.monotonic, **spec) -> LinkShaper:
    return LinkShaper(LinkSpec.parse(spec), clock)


def test_one_megabyte_over_a_10_mbit_20_ms_link_takes_about_0_8_seconds():
    async def scenario() -> float:
        arrived = asyncio.get_running_loop().create_future()

        async def on_activation(act: Activation) -> None:
            arrived.set_result(time.perf_counter())

        server = DataplaneServer(secrets=lambda d: SECRET, on_activation=on_activation)
        host, port = await server.start("127.0.0.1", 0)
        link = await PeerLink.open(host, port, "dep", SECRET)
        try:
            payload = np.zeros(1_000_000, np.uint8)
            act = Activation("dep", 1, 0, "x", "uint8", payload.shape, payload=payload)
            started = time.perf_counter()
            await link.send(act, shaper(bandwidth_bps=10e6, rtt_s=0.02))
            return await asyncio.wait_for(arrived, 5) - started
        finally:
            await link.close()
            await server.close()

    elapsed = asyncio.run(scenario())
    assert 0.7 < elapsed < 1.3  # 8e6 bits / 10e6 bit/s + 10 ms one way: 0.81 s


async def probe(port: int, link: LinkShaper, payload_bytes: int = 128 * 1024) -> dict:
    return await _probe_link({"device_id": "peer", "host": "127.0.0.1", "port": port}, payload_bytes, link)


def test_a_probe_measures_the_emulated_rtt_and_bandwidth_and_follows_a_step_trace():
    offset = [0.0]

    def clock() -> float:
        return time.monotonic() + offset[0]

    async def scenario() -> tuple[dict, dict]:
        server = DataplaneServer()
        _, port = await server.start("127.0.0.1", 0)
        link = shaper(clock, bandwidth_bps={"steps": [[0, 40e6], [50, 10e6]]}, rtt_s=0.03)
        try:
            before = await probe(port, link)
            offset[0] = 100.0  # jump past the step
            return before, await probe(port, link)
        finally:
            await server.close()

    before, after = asyncio.run(scenario())
    assert before["rtt_s"] == pytest.approx(0.03, rel=0.3)
    assert before["bandwidth_bps"] == pytest.approx(40e6, rel=0.3)
    assert after["bandwidth_bps"] == pytest.approx(10e6, rel=0.3)


def test_a_random_walk_stays_within_its_bounds_and_is_reproducible_by_seed():
    def walk(seed: int) -> list[float]:
        trace = RandomWalk(start=5e6, low=1e6, high=10e6, sigma=3e6, seed=seed)
        return [trace.value(t) for t in range(500)]

    values = walk(7)
    assert all(1e6 <= v <= 10e6 for v in values)
    assert min(values) == 1e6 and max(values) == 10e6  # sigma this large reaches both bounds
    assert walk(7) == values and walk(8) != values


def test_steps_hold_each_value_from_its_time_and_the_first_before_it():
    link = LinkSpec.parse({"bandwidth_bps": {"steps": [[10, 2e6], [5, 1e6]]}})
    assert link.bandwidth_bps is not None
    assert [link.bandwidth_bps.value(t) for t in (0, 5, 9.9, 10, 99)] == [1e6, 1e6, 1e6, 2e6, 2e6]


def test_a_csv_trace_is_read_relative_to_the_links_file(tmp_path):
    (tmp_path / "lte.csv").write_text("time,bandwidth\n0,5000000\n2.5,1000000\n")
    (tmp_path / "links.json").write_text('{"edge-1": {"bandwidth_bps": {"csv": "lte.csv"}, "rtt_s": 0.05}}')
    spec = load_links(tmp_path / "links.json")["edge-1"]
    assert spec is not None and spec.bandwidth_bps is not None
    assert spec.bandwidth_bps.value(1) == 5e6 and spec.bandwidth_bps.value(3) == 1e6


def test_a_shape_message_may_not_name_a_file_on_the_agent():
    message = decode(
        '{"v":1,"type":"shape","links":{"*":{"bandwidth_bps":{"csv":"/etc/passwd"}}}}', SERVER_MESSAGES
    )
    assert isinstance(message, Shape)
    with pytest.raises(LinkSpecError, match="csv traces are read only from a --links file"):
        parse_links(message.links)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"bandwidth": 1e6}, "unknown field"),
        ({"rtt_s": "20ms"}, "rtt_s must be a finite number"),
        ({"loss": {"sine": {}}}, "unknown trace kind 'sine'"),
        ({"rtt_s": {"random_walk": {"start": 1}}}, "random_walk needs 'min'"),
    ],
)
def test_a_malformed_link_is_refused_with_the_field_named(spec, message):
    with pytest.raises(LinkSpecError, match=message):
        parse_links({"peer": spec})


def test_loss_costs_an_extra_rtt_per_lost_packet():
    lossless = shaper(rtt_s=0.01).delay(1448 * 100)
    lossy = shaper(rtt_s=0.01, loss=0.2).delay(1448 * 100)
    assert lossless == pytest.approx(0.005, abs=1e-3)
    assert 0.05 < lossy - lossless < 0.4  # about 20 lost segments (binomial), 10 ms each


def test_jitter_never_reorders_what_a_link_delivers():
    clock = [0.0]
    link = shaper(lambda: clock[0], rtt_s=0.02, jitter_s=0.01)
    arrivals = []
    for i in range(200):
        clock[0] = i * 0.001
        arrivals.append(clock[0] + link.delay(100))
    assert arrivals == sorted(arrivals)
    assert max(arrivals[i] - i * 0.001 for i in range(200)) > 0.015  # the jitter is there


def test_sends_queue_behind_each_other_on_a_busy_link():
    link = shaper(lambda: 0.0, bandwidth_bps=8e6)  # 1 MB/s: 0.1 s per 100 kB
    assert [round(link.delay(100_000), 3) for _ in range(3)] == [0.1, 0.2, 0.3]


def test_the_link_table_matches_a_peer_by_id_then_name_then_the_default():
    table = LinkTable(parse_links({"dev-1": {"rtt_s": 0.01}, "edge": {"rtt_s": 0.02}, "*": {"rtt_s": 0.03}}))
    peers = [("dev-1", None), ("dev-9", "edge"), ("dev-9", None)]
    rtt = {k: table.for_peer(*k).state().rtt_s for k in peers}  # type: ignore[union-attr]
    assert rtt == {("dev-1", None): 0.01, ("dev-9", "edge"): 0.02, ("dev-9", None): 0.03}
    assert table.for_peer("dev-2") is not table.for_peer("dev-3")  # the default gives each peer its own link
    table.update({"*": None, "edge": None})
    assert table.for_peer("dev-9", "edge") is None and table.for_peer("dev-1") is not None
