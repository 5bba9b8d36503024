"""The ``ans`` stream's per-frame controller at the source: which arm each frame takes, what its answer
teaches, and the learned state kept on the device.

Per frame (``choose``): the μLinUCB arm (``ulinucb``), and whether the frame is a key frame
(``ulinucb.is_key_frame``: the first frame, or a mean absolute difference from the previous frame above
10% of its value range). Per answered frame (``observe``), from its trace and its send → answer time:

- the front-end delay (this device's own stage: queue + compute + serialize) updates the arm's ``front_s``
  (an exponential average, weight ``FRONT_WEIGHT``: the device profiles only itself, as it runs; the
  arm's first measured front replaces its prediction outright: mobilenetv2's cut 16 was predicted 28-30 ms,
  calibrated, and measured 20-21 in another run the same hour; a fifth of the way would leave it 6 ms too
  slow);
- the back-end delay = send → answer − the front-end delay (the transfer, the edge's queue and compute,
  the answer's way back: everything the bandit learns) updates the bandit at that arm;
- the local arm's whole time: ``local_s`` is the median of the last ``LOCAL_WINDOW`` local frames (the
  first ones: the device's profile). One slow local frame (a loaded moment of the host) does not move it;
  the exponential average it replaced moved it by a fifth of the outlier, and as the local arm is measured
  only when chosen, a local arm with many pulls (a narrow width) stayed believed slow: one 158 ms local
  frame of the digits CNN (1.5-4 ms) sent the 67 frames after it to the raw input at 7-73 ms
  (docs/benchmarks.md, "Learning"). A stretch of slow local frames does move it; then the local arm,
  unchosen for ``STALE_AFTER`` frames, takes a forced local sample: one frame, and when its time is off
  the local estimate by the change ratio, or more than ``LOCAL_FASTER`` (10%) below it,
  ``LOCAL_WINDOW // 2 + 1`` in a row, enough to move the median (``MuLinUCB.forced_local``,
  ``local_faster``); and when no offloading arm has been chosen for as long, the forced samples
  that find no arm below the local time look at the edge once, its cheapest arm (``stale_after``).

Two rules of this controller's own (not the paper's; docs/learning.md, "Measured"):

- **One look at a time.** Answers come back after the frame's delay, and meanwhile more frames are emitted
  (up to ``max_in_flight``): while a frame is in flight on an arm never answered yet (no pulls), no arm
  never answered is chosen; the next frames take the best of the known arms (or the local one) until that
  answer is in. Without it, the optimistic bound sent every frame emitted during a first look to the same
  unknown arm (three frames of 4.6 MiB, 0.5-0.8 s each, in bandwidth-collapse), and with it per arm only,
  to its unknown neighbour (cut 7 after cut 6: the same 4.6 MiB).
- **The device's own profile, calibrated.** An arm's front-end time starts as the plan's prediction from
  the device's block profile; once some arms (the local one included) have measured front-end times, the
  arms not yet measured take their prediction times the median ratio measured / predicted over the measured
  ones. A profile taken on a loaded host overestimates every prefix alike, so one measured arm corrects all.

- **The device profiles itself first.** A stream whose local arm has fewer than ``PROFILE_FRAMES`` answered
  local frames (a fresh state) runs its frames all-local until that many have answered (frames in flight
  are not measurements; at most ``PROFILE_LIMIT`` sent), as the paper's device profiles its own front
  end before it learns: the local time is then the median of those measurements (replacing the
  profile's prediction, which a loaded host overestimates: 82 ms predicted, 47-55 ms measured for
  mobilenetv2 on the emulated rpi4), and the other arms' front ends are calibrated by it (below). Without
  it the local estimate started at the prediction and moved by an exponential average, so the raw-input
  arm, measured at 70 ms, looked better than a local arm believed at 80-90 ms for the first 10-12 frames
  of bandwidth-collapse (0.34 s of regret).

- **The confidence width scales with the model** (``alpha_for``): α, the width's scale in seconds (and the
  margin a detected change must exceed), is ``ALPHA_SHARE`` (a third) of the device's measured time for
  the whole model, at least ``ALPHA_FLOOR`` (1 ms), at most the stream's ``alpha`` (0.02 s), set again
  each time the local time moves. The fixed 20 ms was set for mobilenetv2 (45-130 ms on the emulated
  rpi4: α 15-20 ms there) and is ten times the digits CNN's whole local time (1.5-4 ms): its raw input, at
  7-15 ms, kept a bound below the device's time, and forced samples took it in 34-36 of 192 frames of
  learning/variants-bandwidth-collapse (docs/benchmarks.md, "Learning"; 8 with α scaled). The floor
  keeps a width for a model of well under a millisecond. The paper's α is a constant of its analysis
  (the noise scale); here it is in the unit of the model's delays.

- **A change is detected** (``CHANGE_RATIO``, ``CHANGE_KEEP``, ``CHANGE_MEMORY``; ``MuLinUCB.update``): an
  answer off its arm's own answers since the last change (or, with none, its estimate) by 2x either way
  and by more than α keeps a quarter of the evidence before it, at most 4 answers' worth at that arm, so
  after a bandwidth step the estimates follow the new answers within a few frames, however long the
  state's history (kept across sessions, it grows without bound); one change, one detection.

- **A frame without an answer is evidence** (``observe_unanswered``): a frame dropped, late or failed
  after t seconds took at least t; when that is above its arm's expected total it is learned as a
  measured delay. The session's deadline makes the stages drop a frame that could only be late, so a
  link collapsing under an arm would otherwise show the bandit no answer at all, and it would go on
  sending frames that way.

- **A frame in flight is evidence.** An arm with a frame in flight for longer than its bound takes at
  least that long: its bound is raised to the time the oldest of them has been in flight (``floors`` of
  ``MuLinUCB.choose``). With more than one frame in flight (``max_in_flight``), the frames emitted while
  the link collapses under an arm would otherwise all go to it, still estimated fast. An ``ans`` session
  lets two be in flight unless it says otherwise (``jobs.services.commands``), bench/bench_learning.py's
  scenarios included.

- **A slower change holds what it must have slowed** (``MuLinUCB.hold``, on here): the arms that send at
  least as many bytes and leave at least as much of the model to the edge as the arm that showed the
  change are held at least that much slower until they answer (a frame in flight counts the same way),
  the stale look goes where the change's end would show, and its end restores the evidence from before
  it (``ulinucb``'s docstring, "After a slower change"). Without it a collapse seen at cut 23 sent the
  next offloaded frame to the raw input (1.2 s, failed) in every recorded run of bandwidth-collapse.

- **An arm never answered is tried once** (``UNPULLED_WIDTH``, ``MuLinUCB.unpulled_width``): its bound
  stays at least α_k below its extrapolated estimate until it has answered.

- **An arm is estimated by its own answers first** (``OWN_WEIGHT``, ``MuLinUCB.own_weight``): its back end
  is the mean of its answers since the last change, with the linear model's x_pᵀθ̂ counted as a quarter
  of an answer; an arm with none since is the model's alone.

- **Looks beside local frames** (``Choice.look``, ``_beside``, ``BESIDE_IDLE``, ``FREE_AFTER``; the session's
  ``beside``, on unless false): a frame the bandit gives an arm expected slower than the device alone (or
  never answered while no answered arm is expected faster) is answered by the device, and the same frame is
  sent on that arm once the device's answer is in (the stream's ``_look``: a request of its own, never
  reported as a frame); its answer (or none) teaches the arm as an offloaded frame's would. A look then costs
  its traffic and the edge's work, no frame's time, so while the device alone is the best known arm (every
  look then goes beside) the looks where a slower change's end would show, and at a stale edge, come once per
  ``FREE_AFTER`` frames, not ``STALE_AFTER``. Only where the stream's period is at least ``BESIDE_IDLE`` times
  the local time (the device idle enough for a look's front end not to hold up the next frame), and not with a
  budget or failover. Without it each look was a frame at the look's time: the first window's one frame per
  arm, and a collapse's end seen at the next look, 24 frames on (docs/learning.md).

- **No look where nothing could win** (``HOPELESS_AFTER``, ``MuLinUCB.hopeless_after``): when no arm,
  even a change faster than its fastest answer ever, would beat the device, the edge is looked at once per
  96 frames, not 24.

The state is kept under ``<state dir>/ans-<sha256(key)[:16]>.json`` (the key names the model and the edge),
written atomically after each report, and loaded when a stream with the same key starts, provided it has the
same arms (cuts and contexts); else learning starts afresh. A stream switched to another deployment's arms
(``stream_switch.ans``: the QoE bandit chose another variant) learns under that spec's key from then on
(``open_for``): a key the stream learned under before goes on in memory, with its new routes (``reroute``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import time
from collections import deque
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from .ulinucb import Arm, MuLinUCB, is_key_frame

log = logging.getLogger(__name__)

FRONT_WEIGHT = 0.2  # exponential average of the measured front-end delays
PROFILE_FRAMES = 3  # local frames answered before the bandit decides: the device's own profile, measured
PROFILE_LIMIT = 2 * PROFILE_FRAMES  # profile frames sent at most (local frames failing, unanswered)
LOCAL_WINDOW = 5  # the local time: the median of this many last local frames
CHANGE_RATIO = 2.0  # ``MuLinUCB.change_ratio``: an answer off its estimate by 2x (and by > α) is a change
CHANGE_KEEP = 0.25  # ``MuLinUCB.change_keep``: the share of the evidence a detected change keeps
CHANGE_MEMORY = 4.0  # ``MuLinUCB.change_memory``: ... at most 4 answers' worth at the arm that shows it
# ``MuLinUCB.stale_after``: frames unchosen before the edge (or the local arm) is looked at again. 24 (6 s
# at 4 frames/s) keeps the looks a link's recovery needs within the 30 frames issue #22 asks for; the cost,
# one look per 24 frames at the cheapest arm (bench/bench_ans_scripted.py; 64 before).
STALE_AFTER = 24
# The confidence width's scale α (``MuLinUCB.alpha``, seconds): ``ALPHA_SHARE`` of the device's time for the
# whole model (the local time, as measured), at least ``ALPHA_FLOOR``, at most the stream's ``alpha``
# (0.02 s, about a third of mobilenetv2's local time on the emulated rpi4: unchanged there). ``alpha_for``.
# ``MuLinUCB.hopeless_after``: where no arm could beat the device's time even at its fastest answer ever,
# the edge is looked at once per 96 frames instead of 24 (the digits CNN's raw input: 8 looks in 192 frames
# of learning/variants-bandwidth-collapse, each 3-6 times the device's 2 ms, 0.07 s of its regret).
HOPELESS_AFTER = 4 * STALE_AFTER
# ``MuLinUCB.unpulled_width``: an arm never answered keeps a width of at least 1 (its bound at least α_k below
# its extrapolated estimate) until it answers once: on mobilenetv2, cut 10 answered first and cuts 16 and 23
# (8 ms faster) were never tried in the recorded bandwidth-collapse run (docs/benchmarks.md, "Learning").
UNPULLED_WIDTH = 1.0
# ``MuLinUCB.own_weight``: an arm's estimate is its own answers since the last change, with the linear
# model's as a quarter of an answer (bandwidth-random-walk: cut 23 answered 42 ms where the device took 46,
# and three answers at other arms later the model, fitted to all the arms, put it at 55).
OWN_WEIGHT = 0.25
ALPHA_SHARE = 1 / 3
ALPHA_FLOOR = 0.001
LOCAL_FASTER = 0.1  # ``MuLinUCB.local_faster``: a local look 10% below the local estimate: 3 frames
# Looks beside local frames (``Choice.look``): taken only where the stream's period is at least BESIDE_IDLE
# times the local time, and then, costing no frame, once per FREE_AFTER frames (``MuLinUCB.free_after``)
# instead of STALE_AFTER: a link's recovery is seen within about a second at 4 frames/s.
BESIDE_IDLE = 2.0
FREE_AFTER = 4


@dataclass(frozen=True)
class Choice:
    """The arm a frame takes: ``cut`` blocks on the source, entered at ``first_stage`` (``entry``: on the
    edge)."""

    cut: int
    first_stage: int
    entry: dict[str, Any] | None
    key_frame: bool
    look: Choice | None = None  # a look beside this local frame: the same frame sent on that arm after it
    beside: bool = False  # this is such a look (its answer counts in ``AnsController.beside``)


class AnsController:
    def __init__(self, spec: dict[str, Any], state_dir: Path | None = None):
        self.key = str(spec["key"])
        self.blocks = int(spec["blocks"])
        self.routes = {int(a["cut"]): a for a in spec["arms"]}
        self.state_dir = state_dir
        self.previous: np.ndarray | None = None
        self.loaded = False
        self.profiled = 0  # profile frames sent (``_profiling``)
        self.in_flight: dict[int, int] = {}  # cut -> frames sent (or a look owed) and not yet finished
        self.sent: dict[int, list[float]] = {}  # cut -> when its frames in flight were sent (clock)
        self.clock = time.monotonic
        self.local_times: deque[float] = deque(maxlen=LOCAL_WINDOW)  # the last local frames' times
        self.predicted = {int(a["cut"]): float(a.get("front_s") or 0.0) for a in spec["arms"]}
        self.beside: dict[int, int] = {}  # cut -> its looks beside local frames learned from (kept, as pulls)
        arms = [
            Arm(int(a["cut"]), tuple(float(v) for v in a.get("context") or ()), float(a.get("front_s") or 0))
            for a in spec["arms"]
            if int(a["cut"]) != self.blocks
        ]
        local = self.routes.get(self.blocks)
        local_s = float(local.get("front_s") or 0.0) if local is not None else math.inf
        self.alpha_max = float(spec.get("alpha", 0.02))  # the stream's α: the scale's ceiling
        fresh = MuLinUCB(
            arms,
            local_s,
            alpha=alpha_for(local_s, self.alpha_max),
            key_weight=float(spec.get("key_weight", 4.0)),
            first_epoch=int(spec.get("first_epoch", 64)),
            carry=float(spec.get("carry", 1.0)),
            local_width=True,  # the local time is measured here, not known
            forced_plausible=True,  # forced samples: arms that could beat the local time, else stale ones
            stale_after=int(
                spec.get("stale_after", STALE_AFTER)
            ),  # an arm unchosen this long is looked at again
            forced_local=LOCAL_WINDOW // 2 + 1,  # a stale local time measured again: the median moves
            local_faster=LOCAL_FASTER,
            change_ratio=float(spec.get("change_ratio", CHANGE_RATIO)),  # old answers yield to a change
            change_keep=float(spec.get("change_keep", CHANGE_KEEP)),
            change_memory=float(spec.get("change_memory", CHANGE_MEMORY)),
            hold=bool(spec.get("hold", True)),  # a slower change holds the arms it must slow too
            hopeless_after=int(spec.get("hopeless_after", HOPELESS_AFTER)),
            unpulled_width=float(spec.get("unpulled_width", UNPULLED_WIDTH)),  # an untried arm: tried once
            own_weight=float(spec.get("own_weight", OWN_WEIGHT)),  # an arm's own answers first
            free_after=int(spec.get("free_after", FREE_AFTER)),  # looks beside local frames: more often
        )
        # looks beside local frames (the session's ``beside``, on unless false)
        self.beside_idle = BESIDE_IDLE if spec.get("beside", True) is not False else 0.0
        self.bandit = self._load(fresh) or fresh
        if self.loaded and math.isfinite(self.bandit.local_s):
            self.local_times.append(self.bandit.local_s)  # kept: the median starts from it
            self.bandit.alpha = alpha_for(self.bandit.local_s, self.alpha_max)

    def reroute(self, spec: dict[str, Any]) -> bool:
        """Take ``spec``'s routes (another deployment of the same arms) if its arms are this controller's
        (same key, cuts and contexts); False, changing nothing, if not."""
        arms = [
            (int(a["cut"]), tuple(float(v) for v in a.get("context") or ()))
            for a in spec["arms"]
            if int(a["cut"]) != self.blocks
        ]
        mine = [(a.cut, a.context) for a in self.bandit.arms]
        same_local = (self.blocks in self.routes) == any(int(a["cut"]) == self.blocks for a in spec["arms"])
        if (
            str(spec["key"]) != self.key
            or int(spec["blocks"]) != self.blocks
            or arms != mine
            or not same_local
        ):
            return False
        self.routes = {int(a["cut"]): a for a in spec["arms"]}
        return True

    # --- per frame -----------------------------------------------------------------------------------

    def choose(
        self, frame: np.ndarray, avoid: frozenset[int] = frozenset(), period_s: float | None = None
    ) -> Choice:
        """The arm for ``frame``; never one of ``avoid`` (cuts outside the session's budget: docs/qos.md)
        unless every offloading arm is, and then the local arm, or without one the lowest bound. With
        ``period_s`` (the time between the stream's frames; None: no looks beside local frames), a frame
        given an arm expected slower than the device alone is answered by the device with a look at the
        arm beside it (``Choice.look``, ``_beside``); while the device alone is the best known arm every
        look goes so, and the bandit's looks come every ``FREE_AFTER`` frames (``MuLinUCB.free_looks``)."""
        key_frame = is_key_frame(self.previous, frame)
        self.previous = frame
        if self._profiling():  # the device's own profile first: all-local
            self.profiled += 1
            self.bandit.t += 1  # a frame of the epoch, not a local win (no forced sampling owed)
            self.bandit.frames += 1
            self.bandit.chosen_at[MuLinUCB.LOCAL] = self.bandit.frames  # the local time: just measured
            self.in_flight[self.blocks] = self.in_flight.get(self.blocks, 0) + 1
            self.sent.setdefault(self.blocks, []).append(self.clock())
            route = self.routes[self.blocks]
            return Choice(self.blocks, int(route["first_stage"]), route.get("entry"), key_frame)
        unknown = {a.cut for a in self.bandit.arms if not self.bandit.pulls.get(a.cut)}
        looking = any(self.in_flight.get(c) for c in unknown)
        now = self.clock()
        floors = {  # a frame in flight for longer than an arm's bound: the arm takes at least that long
            (MuLinUCB.LOCAL if cut == self.blocks else cut): now - min(times)
            for cut, times in self.sent.items()
            if times
        }
        free = self._free(period_s)
        # Each arm's expected total, once a frame (``choose`` below leaves them as they are, carry 1).
        means = {c: mean for c, (mean, _) in self.bandit.estimates().items()} if free else {}
        device_best = free and self._device_best(means)
        # Every look goes beside a local frame now (the device alone the best known): it may come sooner.
        self.bandit.free_looks = device_best
        cut = self.bandit.choose(exclude=set(unknown if looking else ()) | set(avoid), floors=floors)
        cut = self.blocks if cut == MuLinUCB.LOCAL else cut
        look = None
        if free and cut != self.blocks and self._beside(cut, means, device_best):
            route = self.routes[cut]
            look = Choice(cut, int(route["first_stage"]), route.get("entry"), key_frame, beside=True)
            self.in_flight[cut] = self.in_flight.get(cut, 0) + 1  # owed: its send time noted when sent
            self.bandit.chosen_at[MuLinUCB.LOCAL] = self.bandit.frames  # the local time: measured too
            cut = self.blocks
        self.in_flight[cut] = self.in_flight.get(cut, 0) + 1
        self.sent.setdefault(cut, []).append(now)
        route = self.routes[cut]
        return Choice(cut, int(route["first_stage"]), route.get("entry"), key_frame, look)

    def _free(self, period_s: float | None) -> bool:
        """Whether a look now could go beside a local frame: a local arm, and the stream's period at least
        ``beside_idle`` times the local time (the device idle long enough between frames for a look's
        front end, at most the whole model, not to hold up the next frame)."""
        local_s = self.bandit.local_s
        return (
            period_s is not None
            and self.beside_idle > 0
            and self.blocks in self.routes
            and math.isfinite(local_s)
            and period_s >= self.beside_idle * local_s
        )

    def _beside(self, cut: int, means: dict[int, float], device_best: bool) -> bool:
        """Whether the frame chosen for ``cut`` is better answered by the device, with ``cut`` looked at
        beside it: ``cut`` is expected slower than the device alone, or has never answered while no arm
        that has is expected faster than the device alone (its expectation is then the linear model's
        extrapolation from nothing: a front end and no back end). The frame then costs what the device
        takes, never more than the look would, and the same frame is sent on ``cut`` once the device's
        answer is in (``look_sent``): the look's answer teaches the arm as an offloaded frame's would.
        ``means``: each arm's expected total; ``device_best``: ``_device_best`` of them."""
        if means[cut] >= self.bandit.local_s:
            return True
        return not self.bandit.pulls.get(cut) and device_best

    def _device_best(self, means: dict[int, float]) -> bool:
        """Whether no answered offloading arm is expected faster (``means``) than the device alone."""
        pulls, local_s = self.bandit.pulls, self.bandit.local_s
        return all(mean >= local_s for c, mean in means.items() if c != MuLinUCB.LOCAL and pulls.get(c))

    def look_sent(self, look: Choice) -> None:
        """The look beside a local frame is sent now (its time in flight counts from here)."""
        self.sent.setdefault(look.cut, []).append(self.clock())

    def look_dropped(self, look: Choice) -> None:
        """The look beside a local frame is not sent (its local frame failed, or the stream ended)."""
        if self.in_flight.get(look.cut):
            self.in_flight[look.cut] -= 1

    def _profiling(self) -> bool:
        """Fewer than ``PROFILE_FRAMES`` local frames answered, a local arm to run, and fewer than
        ``PROFILE_LIMIT`` profile frames sent. A frame in flight is not a measurement: counting the local
        frames in flight as profiled (the rule before) let the bandit take its first decision with only the
        frames answered by then measured — with two frames in flight (an ``ans`` session's default), the
        fourth frame was chosen on the median of 2, the third still on its way. So while the profile is
        short of answers every frame stays local (one or two more local frames where frames overlap); the
        limit ends it if local frames keep going unanswered."""
        if self.blocks not in self.routes or not math.isfinite(self.bandit.local_s):
            return False
        answered = self.bandit.pulls.get(MuLinUCB.LOCAL, 0)
        return answered < PROFILE_FRAMES and self.profiled < PROFILE_LIMIT

    def finished(self, choice: Choice) -> None:
        """The frame sent on ``choice`` is over (answered, failed or given up): no longer in flight."""
        if self.in_flight.get(choice.cut):
            self.in_flight[choice.cut] -= 1
        if self.sent.get(choice.cut):
            self.sent[choice.cut].pop(0)  # the oldest: frames on one arm mostly finish in order

    def observe(self, choice: Choice, trace: list[dict[str, Any]], elapsed_s: float, device_id: str) -> None:
        """An answered frame: ``elapsed_s`` from sending it to its answer, ``trace`` its stages."""
        if not math.isfinite(elapsed_s) or elapsed_s < 0:
            return
        if choice.cut == self.blocks:
            # The median of the last LOCAL_WINDOW local frames (the first ones, the device's profile,
            # replace the plan's prediction).
            self.bandit.local_answer(elapsed_s)  # a forced local sample's first frame: more if it is off
            self.local_times.append(elapsed_s)
            self.bandit.local_s = float(np.median(self.local_times))
            self.bandit.alpha = alpha_for(self.bandit.local_s, self.alpha_max)
            self.bandit.pulls[MuLinUCB.LOCAL] = self.bandit.pulls.get(MuLinUCB.LOCAL, 0) + 1
            self._calibrate()
            return
        front = sum(
            float(t.get("queue_s") or 0) + float(t.get("compute_s") or 0) + float(t.get("serialize_s") or 0)
            for t in trace
            if t.get("stage") == choice.first_stage and t.get("device") == device_id
        )
        if choice.cut:  # the first measured front replaces the prediction: that is no measurement
            first = not self.bandit.pulls.get(choice.cut)
            self.bandit.arms = [
                replace(a, front_s=front if first else _average(a.front_s, front))
                if a.cut == choice.cut
                else a
                for a in self.bandit.arms
            ]
        self.bandit.update(choice.cut, max(elapsed_s - front, 0.0), key_frame=choice.key_frame)
        if choice.beside:  # a pull, as every answer learned from; of them, the looks beside local frames
            self.beside[choice.cut] = self.beside.get(choice.cut, 0) + 1
        if choice.cut:
            self._calibrate()

    def observe_unanswered(
        self, choice: Choice, trace: list[dict[str, Any]], elapsed_s: float, device_id: str
    ) -> None:
        """A frame that got no answer (dropped by a stage as it could only be late, late, failed, timed
        out) after ``elapsed_s``: censored evidence, the arm took at least that long. Learned as a measured
        delay (``observe``) when it is above the arm's expected total, the only case where a lower bound
        says something; else nothing. Without it a link that collapses under an arm, whose frames then miss
        the session's deadline, teaches the bandit nothing and every later frame goes the same way
        (bandwidth-collapse: seven raw-input frames of 1.2-1.8 s each, docs/benchmarks.md, "Learning")."""
        if not math.isfinite(elapsed_s) or elapsed_s <= 0:
            return
        local = choice.cut == self.blocks
        expected = self.bandit.estimates().get(MuLinUCB.LOCAL if local else choice.cut)
        if expected is not None and elapsed_s > expected[0]:
            self.observe(choice, trace, elapsed_s, device_id)

    def _calibrate(self) -> None:
        """Arms whose front end was never measured: the prediction x the median measured / predicted."""
        pulls, ratios = self.bandit.pulls, []
        for a in self.bandit.arms:
            if a.cut and pulls.get(a.cut) and self.predicted.get(a.cut, 0) > 0:
                ratios.append(a.front_s / self.predicted[a.cut])
        local = self.predicted.get(self.blocks, 0.0)
        if pulls.get(MuLinUCB.LOCAL) and local > 0 and math.isfinite(self.bandit.local_s):
            ratios.append(self.bandit.local_s / local)
        if not ratios:
            return
        ratio = float(np.median(ratios))
        self.bandit.arms = [
            replace(a, front_s=self.predicted.get(a.cut, a.front_s) * ratio)
            if a.cut and not pulls.get(a.cut)
            else a
            for a in self.bandit.arms
        ]

    # --- reported and kept ---------------------------------------------------------------------------

    def report(self) -> list[dict[str, Any]]:
        """Each arm's estimate (expected seconds), optimistic bound and pull count, local as ``blocks``."""
        out = []
        for row in self.bandit.report():
            cut = self.blocks if row["cut"] == MuLinUCB.LOCAL else row["cut"]
            if cut == self.blocks and cut not in self.routes:
                continue  # no local arm (the model does not fit on the source)
            pulls = row["pulls"] if row["pulls"] is not None else self.bandit.pulls.get(MuLinUCB.LOCAL, 0)
            out.append(
                {
                    "cut": cut,
                    "estimate_s": _finite(row["estimate_s"]),
                    "bound_s": _finite(row["bound_s"]),
                    "pulls": pulls,
                    "beside": self.beside.get(cut, 0),
                }
            )
        return out

    @property
    def path(self) -> Path | None:
        if self.state_dir is None:
            return None
        return self.state_dir / f"ans-{hashlib.sha256(self.key.encode()).hexdigest()[:16]}.json"

    def save(self) -> None:
        path = self.path
        if path is None:
            return
        state = self.bandit.to_dict()
        state["local_s"] = _finite(self.bandit.local_s)
        data = {"key": self.key, "state": state, "beside": {str(k): v for k, v in self.beside.items()}}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(data), encoding="utf-8")
            os.replace(tmp, path)
        except OSError as exc:  # learning goes on in memory; the next save tries again
            log.warning("cannot keep the ans state at %s: %s", path, exc)

    def _load(self, fresh: MuLinUCB) -> MuLinUCB | None:
        path = self.path
        if path is None or not path.exists():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("key") != self.key:
                return None
            state = data["state"]
            if state.get("local_s") is None:
                state["local_s"] = fresh.local_s
            saved = MuLinUCB.from_dict(state)
            beside = {int(k): int(v) for k, v in (data.get("beside") or {}).items()}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring the ans state at %s: %s", path, exc)
            return None
        if [(a.cut, a.context) for a in saved.arms] != [(a.cut, a.context) for a in fresh.arms]:
            log.info("the ans state at %s has other arms: learning afresh", path)
            return None
        saved.change_ratio, saved.change_keep = fresh.change_ratio, fresh.change_keep  # this controller's
        saved.change_memory, saved.hold = fresh.change_memory, fresh.hold
        saved.hopeless_after, saved.unpulled_width = fresh.hopeless_after, fresh.unpulled_width
        saved.own_weight, saved.free_after = fresh.own_weight, fresh.free_after
        saved.forced_plausible, saved.forced_local = fresh.forced_plausible, fresh.forced_local
        saved.stale_after, saved.local_faster = fresh.stale_after, fresh.local_faster
        self.loaded = True
        self.beside = beside
        return saved


def alpha_for(local_s: float, ceiling: float = 0.02) -> float:
    """The confidence width's scale α for a device whose whole-model time is ``local_s``:
    ``ALPHA_SHARE`` · local_s, at least ``ALPHA_FLOOR``, at most ``ceiling`` (the stream's ``alpha``);
    ``ceiling`` where there is no local time (no local arm). α is in seconds, and the delays it weighs scale
    with the model: a fixed 20 ms, set for mobilenetv2 (local 60-130 ms on the emulated rpi4), is ten times
    the digits CNN's whole local time (1.5-4 ms), so forced samples kept finding its raw-input arm's
    bound below the local time: one frame in five or six of learning/variants-bandwidth-collapse, at
    7-15 ms (docs/benchmarks.md, "Learning")."""
    if not math.isfinite(local_s) or local_s <= 0:
        return ceiling
    return min(ceiling, max(ALPHA_FLOOR, ALPHA_SHARE * local_s))


def _average(old: float, new: float) -> float:
    if not math.isfinite(old) or old <= 0:
        return new
    return (1 - FRONT_WEIGHT) * old + FRONT_WEIGHT * new


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def open_for(spec: dict[str, Any], state_dir: Path | None, known: dict[str, AnsController]) -> AnsController:
    """The controller for ``spec`` in a stream that holds ``known`` (key -> controller): the one held under
    its key, rerouted, when its arms are the same; else a new one (loaded from the device when kept there),
    which replaces it in ``known`` (the old one saved first, so that the new one loads what it learned)."""
    key = str(spec["key"])
    held = known.get(key)
    if held is not None and held.reroute(spec):
        return held
    if held is not None:
        held.save()
    controller = AnsController(spec, state_dir)
    known[key] = controller
    return controller
