"""Kernel-level network emulation: agents in Linux network namespaces joined by a shaped veth pair.

Where the data-plane shaper (``links``) delays sends in the agent, this puts a real network stack between
two agents: each runs in its own namespace, the namespaces are joined point to point by a veth pair with
addresses in a private range (``10.77.0.1`` and ``10.77.0.2``/24 by default), and each end's egress is shaped
with ``tc``: ``netem`` (delay, jitter, loss and rate) where the kernel has it, ``tbf`` (rate only) otherwise.
Traffic never leaves the two namespaces. Needs root and iproute2 (``ip``, ``tc``).

    with veth_pair(rate_mbit=20, delay_ms=10) as pair:
        subprocess.run(pair.exec("a", ["python", "-m", "edgeorch_agent", ...]))

``python -m edgeorch_agent.emulation.netns check`` says whether this machine can do it (and why not).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


class NetnsError(RuntimeError):
    """A namespace, link or qdisc could not be set up; the message holds the command and its error."""


def _ip(*args: str, ns: str | None = None) -> None:
    argv = ["ip", *(["-n", ns] if ns else []), *args]
    _run(argv)


def _tc(ns: str, *args: str) -> None:
    _run(["ip", "netns", "exec", ns, "tc", *args])


def _run(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    if done.returncode != 0:
        raise NetnsError(f"{' '.join(argv)}: {done.stderr.strip() or f'exit {done.returncode}'}")


def unavailable() -> str | None:
    """Why namespaces cannot be used here (not root, no iproute2, not permitted), or None when they can."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    missing = [tool for tool in ("ip", "tc") if shutil.which(tool) is None]
    if missing:
        return f"iproute2 is missing: no {', '.join(missing)}"
    probe = f"eo-probe-{os.getpid()}"
    try:
        _ip("netns", "add", probe)
    except NetnsError as exc:
        return f"cannot create a network namespace: {exc}"
    _ip("netns", "del", probe)
    return None


def qdisc_unavailable(kind: str) -> str | None:
    """Why ``tc`` cannot attach a ``kind`` qdisc (e.g. the kernel lacks sch_netem), or None when it can."""
    tag = f"{os.getpid()}"
    pair = Pair(f"eo-qa-{tag}", f"eo-qb-{tag}", f"eoqa{tag}", f"eoqb{tag}", "10.77.1.1", "10.77.1.2")
    try:
        _create(pair, 30)
        options = {"netem": ["delay", "1ms"], "tbf": ["rate", "1mbit", "burst", "32kbit", "latency", "100ms"]}
        _tc(pair.ns_a, "qdisc", "add", "dev", pair.dev_a, "root", kind, *options.get(kind, []))
    except NetnsError as exc:
        return f"tc cannot use {kind}: {exc}"
    finally:
        _destroy(pair)
    return None


@dataclass(frozen=True)
class Pair:
    """Two namespaces ``a`` and ``b`` joined by veth ``dev_a`` <-> ``dev_b``."""

    ns_a: str
    ns_b: str
    dev_a: str
    dev_b: str
    addr_a: str
    addr_b: str

    def exec(self, side: str, argv: list[str]) -> list[str]:
        """``argv`` to run inside namespace ``side`` ("a" or "b")."""
        return ["ip", "netns", "exec", self.ns_a if side == "a" else self.ns_b, *argv]


def _create(pair: Pair, prefix_len: int) -> None:
    _ip("netns", "add", pair.ns_a)
    _ip("netns", "add", pair.ns_b)
    # Created inside a, its peer moved to b: no interface of the host's own namespace is ever touched.
    _ip(
        "link",
        "add",
        pair.dev_a,
        "type",
        "veth",
        "peer",
        "name",
        pair.dev_b,
        "netns",
        pair.ns_b,
        ns=pair.ns_a,
    )
    for ns, dev, addr in ((pair.ns_a, pair.dev_a, pair.addr_a), (pair.ns_b, pair.dev_b, pair.addr_b)):
        _ip("addr", "add", f"{addr}/{prefix_len}", "dev", dev, ns=ns)
        _ip("link", "set", dev, "up", ns=ns)
        _ip("link", "set", "lo", "up", ns=ns)


def _destroy(pair: Pair) -> None:
    # Deleting a namespace deletes its end of the veth, and with it the other end.
    for ns in (pair.ns_a, pair.ns_b):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)


def shape(
    ns: str,
    dev: str,
    rate_mbit: float | None = None,
    delay_ms: float | None = None,
    jitter_ms: float | None = None,
    loss_pct: float | None = None,
) -> None:
    """Shape ``dev``'s egress: netem when a delay, jitter or loss is asked for, else tbf for the rate."""
    if delay_ms is None and jitter_ms is None and loss_pct is None:
        if rate_mbit is not None:
            # burst: a few MTUs (and >= rate/HZ); latency bounds the queue, so a sender feels the rate.
            burst = max(32, int(rate_mbit * 1000 / 250 / 8) + 1)
            _tc(
                ns,
                "qdisc",
                "replace",
                "dev",
                dev,
                "root",
                "tbf",
                "rate",
                f"{rate_mbit}mbit",
                "burst",
                f"{burst}kb",
                "latency",
                "200ms",
            )
        return
    netem = ["delay", f"{delay_ms or 0}ms"] + ([f"{jitter_ms}ms"] if jitter_ms else [])
    netem += ["loss", f"{loss_pct}%"] if loss_pct else []
    netem += ["rate", f"{rate_mbit}mbit"] if rate_mbit else []
    _tc(ns, "qdisc", "replace", "dev", dev, "root", "netem", *netem)


@contextmanager
def veth_pair(
    name: str = "eo",
    subnet: str = "10.77.0",
    rate_mbit: float | None = None,
    delay_ms: float | None = None,
    jitter_ms: float | None = None,
    loss_pct: float | None = None,
) -> Iterator[Pair]:
    """Two fresh namespaces joined by a veth pair, both directions shaped alike; removed on exit.

    ``delay_ms`` is one way (each direction gets it, so the RTT is twice that)."""
    tag = f"{name}{os.getpid() % 100000}"
    pair = Pair(f"{tag}-a", f"{tag}-b", f"{tag}a", f"{tag}b", f"{subnet}.1", f"{subnet}.2")
    try:
        _create(pair, 24)
        for ns, dev in ((pair.ns_a, pair.dev_a), (pair.ns_b, pair.dev_b)):
            shape(ns, dev, rate_mbit, delay_ms, jitter_ms, loss_pct)
        yield pair
    finally:
        _destroy(pair)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args != ["check"]:
        print("usage: python -m edgeorch_agent.emulation.netns check", file=sys.stderr)
        return 2
    reason = unavailable()
    print(f"namespaces: {reason or 'ok'}")
    if reason is None:
        for kind in ("netem", "tbf"):
            print(f"{kind}: {qdisc_unavailable(kind) or 'ok'}")
    return 0 if reason is None else 1


if __name__ == "__main__":
    sys.exit(main())
