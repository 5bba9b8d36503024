"""The energy model: the joules a plan costs each device, above all the source (docs/energy.md).

Per device (its ``Device.power``: whole-device watts idle and at full load, from its profile):

* compute: ``busy_w x`` its compute seconds (a unit of the device draws the device's busy power);
* radio: per link type (``Link.kind``; ``RADIOS``), a linear power model of the interface while it moves
  data (Huang et al., MobiSys 2012): the sender pays ``alpha_up`` per bit, the receiver ``alpha_down`` per
  bit, both pay ``beta`` W over the transfer's seconds; resent bytes (``loss``) are paid again. With
  ``Problem.radio_wakeup`` each device whose radio takes part also pays one wake-up per inference (the
  promotion to the connected state and the tail after it): sporadic requests; a stream keeps it awake;
* idle (the source only): ``idle_w x`` the seconds of the request its cores do not compute — it waits for
  the other devices or its radio. So the source's total is ``idle_w x latency + (busy_w - idle_w) x
  compute + radio``: what its battery gives for one inference run back to back. The other devices' idle is
  not counted (an edge server serves others meanwhile).

A stage's ``source`` joules are the source's share while that stage runs (its compute, its radio, its idle
wait); the plan's ``input`` share is the input transfer; so ``total = input + sum(stage.source)``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .cost import INF, Context
from .dp import Seconds
from .errors import PlanningError
from .model import Power
from .plan import DeviceEnergy, Plan, PlanEnergy


@dataclass(frozen=True)
class Radio:
    """A network interface's power model: W per Mbit/s up and down, base W while active, one wake-up."""

    name: str
    alpha_up_w_per_mbps: float
    alpha_down_w_per_mbps: float
    beta_w: float
    wakeup_j: float  # promotion + tail energy of one wake-up (0: always on)
    source: str

    def send_j(self, nbytes: float, seconds: float) -> float:
        return self.alpha_up_w_per_mbps * nbytes * 8e-6 + self.beta_w * seconds

    def receive_j(self, nbytes: float, seconds: float) -> float:
        return self.alpha_down_w_per_mbps * nbytes * 8e-6 + self.beta_w * seconds


_HUANG = "Huang et al., MobiSys 2012, Tables 3 and 4"
# LTE: promotion 1210.7 mW x 260.1 ms, tail 1060.0 mW x 11.576 s; Wi-Fi: 124.4 mW x 79.1 ms, 119.3 mW x
# 238.1 ms. Ethernet: power all but independent of load (Gunaratne et al., IEEE Trans. Computers 2008), so
# moving data costs nothing above the device's idle power.
RADIOS: dict[str, Radio] = {
    "wifi": Radio("wifi", 0.28317, 0.13701, 0.13286, 0.1244 * 0.0791 + 0.1193 * 0.2381, _HUANG),
    "lte": Radio("lte", 0.43839, 0.05197, 1.28804, 1.2107 * 0.2601 + 1.0600 * 11.576, _HUANG),
    "ethernet": Radio("ethernet", 0.0, 0.0, 0.0, 0.0, "Gunaratne et al., IEEE Trans. Computers 2008"),
}
DEFAULT_RADIO = "wifi"


def radio(kind: str | None) -> Radio:
    return RADIOS.get(kind or DEFAULT_RADIO, RADIOS[DEFAULT_RADIO])


class SourceJoules(Seconds):
    """The chain DP's costs in the source's joules, so that it finds the placement over any devices that
    costs the source least (``multi-device`` with ``objective="energy"``). Exact for the model above:
    every part is a weight times a second or a byte — compute on the source at ``busy_w``, everything else
    the request waits for at the source's ``idle_w``, the source's radio per byte and per second of its
    transfers. A wake-up (``radio_wakeup``) is once per inference, not per transfer, so it is priced in the
    plan but not steered by."""

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        power = ctx.devices[ctx.problem.source].power
        if power is None:
            raise PlanningError("the source device has no power model: its energy is unknown")
        self.idle, self.busy = power.idle_w, power.busy_w

    def compute(self, site: int) -> float:
        return self.busy if self.ctx.sites[site].device == self.ctx.problem.source else self.idle

    def transfer(self, a: int, b: int) -> tuple[float, float]:
        fixed, per_byte = self.ctx.transfer_coeffs(a, b)
        if per_byte == INF:
            return INF, INF
        joules = (self.idle * fixed, self.idle * per_byte)
        sender, receiver = self.ctx.sites[a].device, self.ctx.sites[b].device
        source = self.ctx.problem.source
        if sender == receiver or source not in (sender, receiver):
            return joules
        link = self.ctx.links[(sender, receiver)]
        model = radio(link.kind)
        alpha = model.alpha_up_w_per_mbps if sender == source else model.alpha_down_w_per_mbps
        per_bit = alpha * 8e-6 / (1.0 - link.loss)
        return joules[0] + model.beta_w * fixed, joules[1] + model.beta_w * per_byte + per_bit

    def wait(self, site: int) -> float:
        return self.idle * self.ctx.wait(site)


class _Ledger:
    """Adds up joules per device, and the source's share of the current stage."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.source = ctx.problem.source
        self.devices: dict[str, DeviceEnergy] = {}
        self.share = 0.0

    def of(self, device: str) -> DeviceEnergy:
        return self.devices.setdefault(device, DeviceEnergy())

    def add(self, device: str, what: str, joules: float) -> None:
        entry = self.of(device)
        setattr(entry, what, getattr(entry, what) + joules)
        if device == self.source:
            self.share += joules

    def power(self, device: str) -> Power | None:
        return self.ctx.devices[device].power if device in self.ctx.devices else None

    def transfer(self, sender: str, receiver: str, nbytes: float) -> None:
        """Radio joules of a tensor between two devices (none within a device, none without a link)."""
        link = self.ctx.links.get((sender, receiver))
        if sender == receiver or link is None:
            return
        seconds = link.time(nbytes)
        sent = nbytes / (1.0 - link.loss)
        model = radio(link.kind)
        self.add(sender, "radio", model.send_j(sent, seconds))
        self.add(receiver, "radio", model.receive_j(sent, seconds))

    def idle(self, seconds: float) -> None:
        """The source idles for ``seconds`` beyond what its own compute draws."""
        power = self.power(self.source)
        if power is not None:
            self.add(self.source, "idle", power.idle_w * seconds)

    def take_share(self) -> float:
        share, self.share = self.share, 0.0
        return share


def _outgoing(ctx: Context, plan: Plan, k: int) -> list[tuple[str, float]]:
    """(receiver, bytes) a stage sends: the next stage's input, or the result to the result device."""
    stage, model = plan.stages[k], ctx.problem.model
    last = k + 1 == len(plan.stages)
    target = ctx.problem.result_device if last else plan.stages[k + 1].device
    if stage.last_block is not None:
        nbytes = model.result_bytes if last else ctx.blocks[stage.last_block].output_bytes
        return [(target, nbytes)]
    if k == 0 and not last:  # dag-mincut: the source stage sends every cut tensor to the edge
        return [(target, sum(c.bytes for c in plan.cut_tensors))]
    return [(target, model.result_bytes)] if last else []


def plan_energy(ctx: Context, plan: Plan) -> PlanEnergy:
    """Every device's joules for one inference of ``plan`` (see the module docstring)."""
    book = _Ledger(ctx)
    source, problem = ctx.problem.source, ctx.problem
    book.of(source)
    if problem.radio_wakeup:  # counted with the input transfer: the radio wakes before anything moves
        for device, joules in _wakeups(ctx, plan).items():
            book.add(device, "radio", joules)
    book.transfer(source, plan.stages[0].device if plan.stages else source, problem.model.input_bytes)
    book.idle(plan.input_transfer)
    input_share = book.take_share()
    shares: list[float] = []
    for k, stage in enumerate(plan.stages):
        power = book.power(stage.device)
        if power is not None:
            book.add(stage.device, "compute", power.busy_w * stage.compute)
        for receiver, nbytes in _outgoing(ctx, plan, k):
            book.transfer(stage.device, receiver, nbytes)
        book.idle(stage.time - (stage.compute if stage.device == source else 0.0))
        shares.append(book.take_share())
    unknown = sorted({d for d in book.devices if book.power(d) is None})
    return PlanEnergy(source, book.devices, shares, input_share, unknown)


def _transfers(ctx: Context, plan: Plan) -> list[tuple[str, str, float]]:
    """Every (sender, receiver, bytes) of the plan, the input's first."""
    first = plan.stages[0].device if plan.stages else ctx.problem.source
    out = [(ctx.problem.source, first, ctx.problem.model.input_bytes)]
    for k, stage in enumerate(plan.stages):
        out += [(stage.device, r, b) for r, b in _outgoing(ctx, plan, k)]
    return out


def _wakeups(ctx: Context, plan: Plan) -> dict[str, float]:
    """One wake-up per device whose radio the plan uses: that of the costliest radio it uses."""
    out: dict[str, float] = {}
    for sender, receiver, _ in _transfers(ctx, plan):
        link = ctx.links.get((sender, receiver))
        if sender != receiver and link is not None:
            for device in (sender, receiver):
                out[device] = max(out.get(device, 0.0), radio(link.kind).wakeup_j)
    return out
