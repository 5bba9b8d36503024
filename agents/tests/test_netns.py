"""Kernel-level emulation: two data-plane listeners in two network namespaces joined by a shaped veth pair.

Needs root, iproute2 and a kernel that lets ``tc`` attach the qdisc; otherwise each test is skipped with
the reason (never passed silently). Addresses are 10.77.0.1 and 10.77.0.2 inside the test's own namespaces.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from edgeorch_agent.emulation import netns

pytestmark = pytest.mark.e2e

LISTENER = """
import asyncio, sys
from edgeorch_agent.dataplane import DataplaneServer
async def main():
    server = DataplaneServer()
    _, port = await server.start(sys.argv[1], 0)
    print(port, flush=True)
    await asyncio.Event().wait()
asyncio.run(main())
"""

PROBE = """
import asyncio, json, sys
from edgeorch_agent.executor import _probe_link
peer = {"device_id": "b", "host": sys.argv[1], "port": int(sys.argv[2])}
print(json.dumps(asyncio.run(_probe_link(peer, int(sys.argv[3])))))
"""


def require(qdisc: str) -> None:
    reason = netns.unavailable() or netns.qdisc_unavailable(qdisc)
    if reason:
        print(f"skipping: {reason}")
        pytest.skip(reason)


def probe_across(pair: netns.Pair, payload_bytes: int) -> dict:
    """Listeners in both namespaces; a probe from a to b's listener over the veth."""
    listeners = [
        subprocess.Popen(
            pair.exec(side, [sys.executable, "-c", LISTENER, addr]), stdout=subprocess.PIPE, text=True
        )
        for side, addr in (("a", pair.addr_a), ("b", pair.addr_b))
    ]
    try:
        ports = [int(p.stdout.readline()) for p in listeners]  # type: ignore[union-attr]
        argv = [sys.executable, "-c", PROBE, pair.addr_b, str(ports[1]), str(payload_bytes)]
        done = subprocess.run(pair.exec("a", argv), capture_output=True, text=True, timeout=60, check=True)
        return json.loads(done.stdout)
    finally:
        for listener in listeners:
            listener.terminate()
            listener.wait(5)


def test_a_probe_across_namespaces_measures_the_rate_tbf_shapes():
    require("tbf")
    with netns.veth_pair(rate_mbit=20) as pair:
        link = probe_across(pair, 512 * 1024)
    assert link["error"] is None
    assert 0.5 * 20e6 < link["bandwidth_bps"] < 1.2 * 20e6


def test_a_probe_across_namespaces_measures_the_delay_netem_adds():
    require("netem")
    with netns.veth_pair(delay_ms=15, rate_mbit=50) as pair:
        link = probe_across(pair, 256 * 1024)
    assert link["error"] is None
    assert 0.025 < link["rtt_s"] < 0.05  # 15 ms each way
    assert 0.5 * 50e6 < link["bandwidth_bps"] < 1.2 * 50e6


def test_the_namespaces_are_gone_after_the_pair_is_closed():
    require("tbf")
    with netns.veth_pair() as pair:
        names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
        assert pair.ns_a in names and pair.ns_b in names
    names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert pair.ns_a not in names and pair.ns_b not in names
