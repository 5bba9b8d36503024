"""The ans controller at the source: arms chosen per frame, front and back delays split from the answers,
key frames flagged, and the learned state kept on the device under its key."""

from __future__ import annotations

import json

import numpy as np
import pytest
from edgeorch_agent.learning import controller as controller_module
from edgeorch_agent.learning.controller import (
    ALPHA_FLOOR,
    ALPHA_SHARE,
    BESIDE_IDLE,
    FREE_AFTER,
    HOPELESS_AFTER,
    LOCAL_WINDOW,
    PROFILE_FRAMES,
    PROFILE_LIMIT,
    STALE_AFTER,
    AnsController,
    Choice,
    alpha_for,
    open_for,
)
from edgeorch_agent.learning.ulinucb import MuLinUCB

ME = "source-device"


def spec(key: str = "model-1:edge-1", contexts=None) -> dict:
    contexts = contexts or {0: [1.0, 1.0, 0.0], 1: [0.5, 0.2, 1.0]}
    entry = {
        "device_id": "edge-1",
        "host": "127.0.0.1",
        "port": 9,
        "codec": "raw",
        "tensor": "x",
        "secret": "s",
    }
    arms = [{"cut": 0, "first_stage": 0, "context": contexts[0], "front_s": 0.0, "entry": entry}]
    arms.append({"cut": 1, "first_stage": 1, "context": contexts[1], "front_s": 0.01})
    arms.append({"cut": 2, "first_stage": 3, "context": [], "front_s": 0.5})  # local: the whole model
    return {"key": key, "blocks": 2, "arms": arms, "first_epoch": 8}


def answer(controller: AnsController, frame: np.ndarray, delays: dict[int, float]) -> int:
    """One frame through the controller, answered after the scripted delay of its arm."""
    choice = controller.choose(frame)
    front = 0.01 if choice.cut == 1 else 0.0
    trace = [{"stage": choice.first_stage, "device": ME, "queue_s": 0.0, "compute_s": front}]
    controller.observe(choice, trace, front + delays[choice.cut], ME)
    return choice.cut


def test_it_routes_each_arm_to_its_own_stage() -> None:
    controller = AnsController(spec())
    seen = {}
    for _ in range(40):
        choice = controller.choose(np.zeros(4))
        seen[choice.cut] = (choice.first_stage, choice.entry is not None)
    assert seen.get(0, (0, True)) == (0, True)
    assert seen.get(1, (1, False)) == (1, False)
    assert set(seen) <= {0, 1, 2}


def test_it_settles_on_the_fastest_arm_and_counts_its_pulls() -> None:
    controller = AnsController(spec())
    delays = {0: 0.3, 1: 0.02, 2: 0.5}
    cuts = [answer(controller, np.zeros(4), delays) for _ in range(60)]
    assert cuts[-20:].count(1) >= 18
    report = {row["cut"]: row for row in controller.report()}
    assert set(report) == {0, 1, 2}
    assert report[1]["pulls"] >= 40
    assert report[1]["estimate_s"] == pytest.approx(0.03, abs=0.02)  # 0.01 front + 0.02 back, less the ridge
    assert sum(r["pulls"] for r in report.values()) == 60


def test_a_fresh_stream_profiles_the_device_first_and_takes_the_median_as_its_local_time() -> None:
    """All-local frames until PROFILE_FRAMES have answered; the local time is then their median, not
    the plan's prediction (0.5 s here), and the arms never measured are calibrated by it."""
    controller = AnsController(spec())
    first = [controller.choose(np.zeros(4)) for _ in range(PROFILE_FRAMES)]
    assert [c.cut for c in first] == [2] * PROFILE_FRAMES
    for choice, elapsed in zip(first, (0.9, 0.2, 0.25), strict=True):
        controller.finished(choice)
        controller.observe(choice, [], elapsed, ME)
    assert controller.bandit.local_s == pytest.approx(0.25)  # the median: a slow first frame weighs no more
    assert controller.bandit.t == PROFILE_FRAMES and controller.bandit.local_streak == 0
    front = next(a.front_s for a in controller.bandit.arms if a.cut == 1)
    assert front == pytest.approx(0.01 * 0.25 / 0.5)  # the prediction x measured / predicted
    # Profiled once, the next frames are the bandit's, and a kept state does not profile again.
    assert controller.choose(np.zeros(4)).cut != 2 or controller.bandit.pulls.get(MuLinUCB.LOCAL) == 3
    controller.observe(Choice(2, 3, None, False), [], 0.3, ME)
    assert controller.bandit.local_s == pytest.approx(0.275)  # then the median of the last LOCAL_WINDOW


def test_with_two_frames_in_flight_the_bandit_decides_only_once_three_profile_frames_have_answered() -> None:
    """An ``ans`` session keeps two frames in flight: each frame is chosen while the one before is still
    on its way. The bandit's first decision waits for ``PROFILE_FRAMES`` answered local frames, its local
    time their median. The rule before counted the frames in flight as profiled: the fourth frame went to
    the bandit with two answered (local time 0.55 s, the median of 0.9 and 0.2) and the third in flight."""
    controller = AnsController(spec())
    measured = iter([0.9, 0.2, 0.25, 0.3, 0.22, 0.21])
    in_flight: list[Choice] = []
    decided = None  # (local frames answered, the local time) at the bandit's first decision
    for _ in range(PROFILE_LIMIT + 2):
        choice = controller.choose(np.zeros(4))
        if choice.cut != 2 and decided is None:
            decided = (controller.bandit.pulls.get(MuLinUCB.LOCAL, 0), controller.bandit.local_s)
        in_flight.append(choice)
        if len(in_flight) == 2:  # the oldest answers before the next frame is chosen
            oldest = in_flight.pop(0)
            controller.finished(oldest)
            if oldest.cut == 2:
                controller.observe(oldest, [], next(measured), ME)
            else:
                controller.observe(oldest, [], 0.3, ME)
    assert decided == (PROFILE_FRAMES, pytest.approx(0.25))  # the median of 0.9, 0.2 and 0.25
    assert controller.profiled == PROFILE_FRAMES + 1  # one more local frame sent while the third was out


def test_local_frames_that_never_answer_end_the_profile_after_profile_limit_frames() -> None:
    controller = AnsController(spec())
    cuts = []
    for _ in range(PROFILE_LIMIT + 3):
        choice = controller.choose(np.zeros(4))
        cuts.append(choice.cut)
        controller.finished(choice)
        controller.observe_unanswered(choice, [], 0.001, ME)  # failed at once: nothing measured
    assert cuts[:PROFILE_LIMIT] == [2] * PROFILE_LIMIT
    assert controller.profiled == PROFILE_LIMIT and 0 in cuts[PROFILE_LIMIT:]


def test_the_back_end_delay_is_the_answer_time_less_the_front_end() -> None:
    controller = AnsController(spec())
    choice = Choice(1, 1, None, key_frame=False)
    trace = [
        {"stage": 1, "device": ME, "queue_s": 0.01, "compute_s": 0.04, "serialize_s": 0.01},
        {"stage": 2, "device": "edge-1", "queue_s": 0.0, "compute_s": 0.02},
    ]
    before = controller.bandit.b.copy()
    controller.observe(choice, trace, 0.16, ME)
    x = np.array(spec()["arms"][1]["context"])
    weight = controller.bandit.key_weight if choice.key_frame else 1.0
    assert controller.bandit.b - before == pytest.approx(weight * 0.10 * x)  # 0.16 - 0.06 front
    front = next(a.front_s for a in controller.bandit.arms if a.cut == 1)
    assert front == pytest.approx(0.06)  # the first measured front replaces the prediction (0.01)
    trace[0]["compute_s"] = 0.01  # the next ones are averaged in
    controller.observe(choice, trace, 0.16, ME)
    front = next(a.front_s for a in controller.bandit.arms if a.cut == 1)
    assert front == pytest.approx(0.8 * 0.06 + 0.2 * 0.03)


def test_an_arm_never_answered_is_not_chosen_again_while_its_first_frame_is_in_flight() -> None:
    controller = AnsController(spec())
    controller.bandit.pulls[MuLinUCB.LOCAL] = PROFILE_FRAMES  # the device profiled already
    first = controller.choose(np.zeros(4))
    assert first.cut == 0  # nothing learnt: the raw-input arm (no front end) has the lowest bound
    second = controller.choose(np.zeros(4))
    assert second.cut == 2  # cut 0 is being looked at: no unknown arm meanwhile, the local one
    controller.finished(first)
    trace = [{"stage": 0, "device": "edge-1", "queue_s": 0.0, "compute_s": 0.05}]
    controller.observe(first, trace, 0.05, ME)  # answered: cut 0 is known now, and may be taken again
    assert controller.in_flight[0] == 0 and controller.bandit.pulls[0] == 1
    only_cut_0 = AnsController({**spec(), "arms": spec()["arms"][:1]})  # no other arm, no local arm
    assert [only_cut_0.choose(np.zeros(4)).cut for _ in range(3)] == [0, 0, 0]


def test_an_arm_with_a_frame_in_flight_longer_than_its_bound_is_not_chosen_meanwhile() -> None:
    """A frame in flight is evidence: cut 0 answered in 50 ms until now; a frame on it still unanswered
    after 1 s raises its bound to 1 s, so the next frames go elsewhere until it is answered."""
    controller = AnsController(spec())
    now = [0.0]
    controller.clock = lambda: now[0]
    controller.bandit.pulls[MuLinUCB.LOCAL] = PROFILE_FRAMES
    delays = {0: 0.05, 1: 0.3, 2: 0.5}
    for _ in range(20):
        choice = controller.choose(np.zeros(4))
        controller.finished(choice)
        controller.observe(choice, [], delays[choice.cut] + 0.01 * (choice.cut == 1), ME)
    assert not any(controller.sent.values())
    stuck = controller.choose(np.zeros(4))
    assert stuck.cut == 0  # the fastest arm, learnt
    now[0] += 1.0  # the link collapsed: no answer for a second
    assert controller.choose(np.zeros(4)).cut != 0
    controller.finished(stuck)
    controller.observe(stuck, [], 1.0, ME)  # answered at last, slow: learnt as any answer is
    assert not controller.sent[0]


def test_arms_not_yet_measured_take_the_profile_times_the_measured_ratio() -> None:
    arms = spec()["arms"]
    arms.insert(2, {"cut": 3, "first_stage": 2, "context": [0.1, 0.1, 0.1], "front_s": 0.04})
    controller = AnsController({**spec(), "blocks": 4, "arms": [*arms[:3], {**arms[3], "cut": 4}]})
    local = Choice(4, 3, None, key_frame=False)
    controller.observe(local, [], 0.25, ME)  # measured: half the predicted 0.5 s
    assert controller.bandit.local_s == pytest.approx(0.25)  # profiling: the measurement, not the prediction
    fronts = {a.cut: a.front_s for a in controller.bandit.arms}
    assert fronts[3] == pytest.approx(0.04 * 0.5) and fronts[1] == pytest.approx(0.01 * 0.5)
    assert fronts[0] == 0.0  # the raw-input arm has no front end
    trace = [{"stage": 1, "device": ME, "queue_s": 0.0, "compute_s": 0.02}]  # cut 1: twice its prediction
    controller.observe(Choice(1, 1, None, key_frame=False), trace, 0.05, ME)
    fronts = {a.cut: a.front_s for a in controller.bandit.arms}
    assert fronts[1] == pytest.approx(0.02)  # its first measurement replaces the calibrated prediction
    ratio = float(np.median([fronts[1] / 0.01, 0.5]))
    assert fronts[3] == pytest.approx(0.04 * ratio)  # still unmeasured: the median ratio


def test_a_frame_that_differs_from_the_last_is_a_key_frame() -> None:
    controller = AnsController(spec())
    assert controller.choose(np.zeros((2, 2))).key_frame  # the first frame
    assert not controller.choose(np.zeros((2, 2))).key_frame
    assert controller.choose(np.full((2, 2), 5.0)).key_frame


def test_the_state_survives_a_restart_under_its_key(tmp_path) -> None:
    first = AnsController(spec(), tmp_path)
    for _ in range(30):
        answer(first, np.zeros(4), {0: 0.3, 1: 0.02, 2: 0.5})
    first.save()
    pulls = first.bandit.pulls.copy()
    again = AnsController(spec(), tmp_path)
    assert again.loaded
    assert again.bandit.pulls == pulls
    assert np.allclose(again.bandit.A, first.bandit.A)
    answer(again, np.zeros(4), {0: 0.3, 1: 0.02, 2: 0.5})
    assert sum(again.bandit.pulls.values()) == sum(pulls.values()) + 1
    saved = json.loads(next(tmp_path.glob("ans-*.json")).read_text())
    assert saved["key"] == "model-1:edge-1"


def test_another_key_or_other_arms_start_afresh(tmp_path) -> None:
    first = AnsController(spec(), tmp_path)
    answer(first, np.zeros(4), {0: 0.3, 1: 0.02, 2: 0.5})
    first.save()
    assert not AnsController(spec(key="model-1:edge-2"), tmp_path).loaded
    changed = AnsController(spec(contexts={0: [1.0, 1.0, 0.0], 1: [0.5, 0.3, 1.0]}), tmp_path)
    assert not changed.loaded and changed.bandit.pulls == {}


def test_a_damaged_state_file_is_ignored(tmp_path) -> None:
    first = AnsController(spec(), tmp_path)
    assert first.path is not None
    first.path.write_text("{not json", encoding="utf-8")
    assert not AnsController(spec(), tmp_path).loaded


def test_without_a_local_arm_the_device_alone_is_never_chosen() -> None:
    data = spec()
    data["arms"] = data["arms"][:2]
    controller = AnsController(data)
    cuts = {answer(controller, np.zeros(4), {0: 0.3, 1: 0.02}) for _ in range(30)}
    assert cuts <= {0, 1}
    assert MuLinUCB.LOCAL not in {r["cut"] for r in controller.report()}
    assert {r["cut"] for r in controller.report()} == {0, 1}


def test_a_stream_switched_between_variants_learns_each_apart_and_goes_on_where_it_left(tmp_path) -> None:
    """open_for: another key is another controller (the variant's own state); back to a key the stream
    learned under, the same controller goes on with the new deployment's routes."""
    held: dict[str, AnsController] = {}
    base = open_for(spec("model 1 edge e"), tmp_path, held)
    for _ in range(10):
        answer(base, np.zeros(4), {0: 0.2, 1: 0.05, 2: 0.5})
    learned = dict(base.bandit.pulls)
    variant = open_for(spec("model 2 edge e"), tmp_path, held)
    assert variant is not base and not any(variant.bandit.pulls.values())  # nothing of the base's
    again = spec("model 1 edge e")
    again["arms"][1] = {**again["arms"][1], "first_stage": 7}  # the same arms, another deployment's stages
    back = open_for(again, tmp_path, held)
    assert back is base and back.bandit.pulls == learned
    assert back.routes[1]["first_stage"] == 7
    other = spec("model 1 edge e", contexts={0: [1.0, 0.0, 0.0], 1: [0.5, 0.2, 1.0]})
    assert not base.reroute(other)  # other arms under the same key: not this controller's
    fresh = open_for(other, tmp_path, held)
    assert fresh is not base and held["model 1 edge e"] is fresh
    assert json.loads((tmp_path / base.path.name).read_text())["key"] == "model 1 edge e"  # saved first


def test_frames_without_an_answer_teach_that_their_arm_is_slow() -> None:
    """A link collapsing under the raw-input arm: its frames now miss the deadline and are dropped after
    1.2 s, with no answer. Learned as censored evidence (``observe_unanswered``: at least 1.2 s), the next
    frames leave the arm at once; an unanswered frame faster than its arm's estimate teaches nothing.
    From then on the device alone, bar one look at the edge (its cheapest arm, cut 1) per ``STALE_AFTER``
    frames."""
    arms = spec()
    arms["arms"][2]["front_s"] = 0.1
    controller = AnsController(arms)
    delays = {0: 0.02, 1: 0.3, 2: 0.1}
    for _ in range(60):
        answer(controller, np.zeros(4), delays)
    assert controller.bandit.pulls[0] >= 30  # the raw input, at 20 ms, was the best arm
    before = controller.bandit.estimates()[0][0]
    quick = controller.choose(np.zeros(4))
    controller.finished(quick)
    controller.observe_unanswered(quick, [], 0.001, ME)  # failed at once: says nothing of the delay
    assert controller.bandit.estimates()[0][0] == before
    after = []
    for _ in range(40):
        choice = controller.choose(np.zeros(4))
        after.append(choice.cut)
        controller.finished(choice)
        if choice.cut == 0:  # dropped: it could only be late
            controller.observe_unanswered(choice, [], 1.2, ME)
        else:
            front = 0.01 if choice.cut == 1 else 0.0
            trace = [{"stage": choice.first_stage, "device": ME, "queue_s": 0.0, "compute_s": front}]
            controller.observe(choice, trace, front + delays[choice.cut], ME)
    assert after.count(0) <= 2 and after[-20:].count(2) >= 19  # the device alone, from then on
    looks = [i for i, cut in enumerate(after) if cut == 1]
    assert all(b - a >= STALE_AFTER for a, b in zip(looks, looks[1:], strict=False))


def test_one_slow_local_frame_does_not_lock_the_device_out() -> None:
    """The digits CNN in learning/variants-bandwidth-collapse (docs/benchmarks.md, "Learning"): local 3 ms,
    the raw input 15 ms; after 150 frames, one local frame takes 158 ms (a loaded moment of the host). The
    local time, the median of the last ``LOCAL_WINDOW`` local frames, does not move; the exponential
    average it replaced went to 34 ms, above the raw input, and with some 120 local pulls the local arm's
    width (4 ms) never brought it back: the raw input took every later frame."""
    arms = spec(contexts={0: [1.0, 1.0, 0.0], 1: [0.5, 0.2, 1.0]})
    arms["arms"][2]["front_s"] = 0.003
    arms["first_epoch"] = 256
    controller = AnsController(arms)
    cuts, outlier = [], False
    for i in range(300):
        choice = controller.choose(np.zeros(4))
        cuts.append(choice.cut)
        controller.finished(choice)
        if choice.cut == 2:
            slow = i >= 150 and not outlier  # the first local frame from frame 150 on
            outlier = outlier or slow
            controller.observe(choice, [], 0.158 if slow else 0.003, ME)
        else:
            front = 0.01 if choice.cut == 1 else 0.0
            trace = [{"stage": choice.first_stage, "device": ME, "queue_s": 0.0, "compute_s": front}]
            controller.observe(choice, trace, front + (0.015 if choice.cut == 0 else 0.05), ME)
    assert outlier and controller.bandit.pulls[MuLinUCB.LOCAL] > 100
    assert controller.bandit.local_s == pytest.approx(0.003)
    late = "".join(str(c) for c in cuts[-100:])
    assert late.count("2") >= 90 and "000" not in late  # the device alone, bar forced looks


def test_a_local_time_measured_under_load_is_measured_again_once_stale() -> None:
    """The device profiles itself under load (local 0.3 s for 100 frames; the raw input, 0.05 s, wins),
    then is fast again (3 ms). The local arm, unchosen for ``STALE_AFTER`` = 24 frames, is stale; the next
    time ⌈t^0.25⌉ offloaded frames in a row make a forced sample due (t ≤ 128 in the epoch of 8·2^4
    frames that holds frames 120-247: at most ⌈128^0.25⌉ = 4 frames on), the device runs a frame; its
    3 ms is off the local estimate (0.3 s) by far more than 2x, so the 2 frames after it run there too,
    3 of the ``LOCAL_WINDOW`` = 5 the local time is the median of. So within 24 + 4 frames of the device
    being fast again, it is back on the device alone, 5 frames in a row. Without the forced local sample
    (``forced_local`` 0) it never is."""
    settled = {}
    for forced in (0, LOCAL_WINDOW // 2 + 1):
        controller = AnsController(spec())
        assert controller.bandit.stale_after == STALE_AFTER == 24
        controller.bandit.forced_local = forced
        cuts = []
        for i in range(250):
            cuts.append(answer(controller, np.zeros(4), {0: 0.05, 1: 0.2, 2: 0.3 if i < 100 else 0.003}))
        assert cuts[50:100].count(0) >= 45  # the raw input while the device is loaded
        after = "".join(str(c) for c in cuts[100:])
        settled[forced] = after.find("22222")
    assert settled[0] == -1
    assert 0 <= settled[3] <= STALE_AFTER + 4
    assert controller.bandit.local_s == pytest.approx(0.003)


def test_a_forced_local_sample_within_the_local_estimate_is_one_frame() -> None:
    """The raw input (0.05 s) wins over a steady device (0.3 s): once profiled, the device runs one frame
    per look (``STALE_AFTER`` frames unchosen), never three in a row, as its time is where it was."""
    controller = AnsController(spec())
    cuts = "".join(str(answer(controller, np.zeros(4), {0: 0.05, 1: 0.2, 2: 0.3})) for _ in range(200))
    looks = cuts[50:].count("2")
    assert 3 <= looks <= 150 // STALE_AFTER + 1 and "22" not in cuts[50:]


def test_the_confidence_widths_scale_is_a_share_of_the_local_time_between_a_floor_and_the_streams() -> None:
    assert alpha_for(0.0001) == ALPHA_FLOOR  # a model of a tenth of a millisecond: the floor
    assert alpha_for(0.03) == pytest.approx(ALPHA_SHARE * 0.03)
    assert alpha_for(0.09) == alpha_for(0.5) == 0.02  # mobilenetv2 on the emulated rpi4: as before
    assert alpha_for(0.5, ceiling=0.05) == 0.05
    assert alpha_for(float("inf")) == alpha_for(0.0) == 0.02  # no local time: the stream's α
    controller = AnsController(spec())  # local predicted at 0.5 s
    assert controller.bandit.alpha == 0.02
    for _ in range(PROFILE_FRAMES):  # measured at 6 ms: the scale follows the measured local time
        choice = controller.choose(np.zeros(4))
        controller.finished(choice)
        controller.observe(choice, [], 0.006, ME)
    assert controller.bandit.alpha == pytest.approx(alpha_for(0.006)) and controller.bandit.alpha < 0.0021


def test_a_model_of_a_few_milliseconds_looks_at_its_slower_raw_input_only_when_the_edge_is_stale(
    monkeypatch,
) -> None:
    """The digits CNN in learning/variants-bandwidth-collapse (docs/benchmarks.md, "Learning"): the
    device alone at 2-2.4 ms, the raw input (every feature of the context at its largest) at 6-12 ms,
    its only offloading arm (the planner prunes the others: docs/learning.md). With α scaled to the
    local time (``alpha_for``: 1 ms), a forced sample finds no arm that could beat the device once the
    raw input has answered, and the edge is looked at only when stale. With α fixed at 20 ms (the rule
    before: ten times the whole model's time), the raw input's bound stays below the device's time and
    forced samples take it every few frames: one frame in five, as in the recorded runs (34 and 36 of
    192). And as the raw input, even twice as fast as its fastest answer, could not beat the device
    (``HOPELESS_AFTER``), the stale looks come once per 96 frames: with a look every ``STALE_AFTER``
    frames whatever the arms' best (``hopeless_after`` 0), four times as many."""
    counts = {}
    for share, hopeless in ((ALPHA_SHARE, HOPELESS_AFTER), (100.0, HOPELESS_AFTER), (ALPHA_SHARE, 0)):
        monkeypatch.setattr(controller_module, "ALPHA_SHARE", share)
        rng = np.random.default_rng(5)
        arms = spec(contexts={0: [1.0] * 6, 1: [1.0, 0.1, 0.5, 1.0, 0.3, 0.5]})
        arms["arms"][2]["front_s"] = 0.002
        arms["first_epoch"] = 64
        arms["hopeless_after"] = hopeless
        arms["arms"] = [a for a in arms["arms"] if a["cut"] != 1]  # pruned, as the planner does (docs)
        controller = AnsController(arms)
        cuts = []
        for _ in range(192):
            choice = controller.choose(np.zeros(4))
            cuts.append(choice.cut)
            controller.finished(choice)
            if choice.cut == 2:
                controller.observe(choice, [], 0.002 * (1 + 0.2 * rng.random()), ME)
            else:
                front = 0.01 if choice.cut == 1 else 0.0
                back = rng.uniform(0.006, 0.012) if choice.cut == 0 else 0.05
                trace = [{"stage": choice.first_stage, "device": ME, "queue_s": 0.0, "compute_s": front}]
                controller.observe(choice, trace, front + back, ME)
        counts[share, hopeless] = len(cuts) - cuts.count(2)
    assert counts[ALPHA_SHARE, 0] <= 192 // STALE_AFTER + 2
    assert counts[100.0, HOPELESS_AFTER] >= 3 * counts[ALPHA_SHARE, 0]
    assert counts[ALPHA_SHARE, HOPELESS_AFTER] <= 192 // HOPELESS_AFTER + 2 < counts[ALPHA_SHARE, 0], counts


def test_a_local_look_well_below_the_local_estimate_runs_the_whole_sample() -> None:
    """The device profiles itself under load (0.13 s; the raw input, 0.1 s, wins), and from frame 40 runs
    at 0.07 s, the best: 1.9 times faster, within the change ratio (2x). Its first look after that runs 3
    frames, as its time is more than ``LOCAL_FASTER`` (10%) below the local estimate, and the median of 5
    moves: on the device alone within two looks' time. With one frame per look (the rule before,
    ``local_faster`` 0), the median needs 3 looks, ``STALE_AFTER`` frames apart."""
    settled = {}
    for faster in (0.0, controller_module.LOCAL_FASTER):
        controller = AnsController(spec())
        controller.bandit.local_faster = faster
        cuts = [
            answer(controller, np.zeros(4), {0: 0.1, 1: 0.2, 2: 0.13 if i < 40 else 0.07}) for i in range(160)
        ]
        assert cuts[10:40].count(0) >= 25  # the raw input while the device is loaded
        settled[faster] = "".join(str(c) for c in cuts[40:]).find("22222")
    assert 0 <= settled[controller_module.LOCAL_FASTER] <= 2 * STALE_AFTER + 4
    assert settled[0.0] == -1 or settled[0.0] > settled[controller_module.LOCAL_FASTER] + STALE_AFTER


def run_beside(controller: AnsController, delays, frames: int, period_s: float | None) -> tuple[list, list]:
    """``frames`` frames in order, each answered after its arm's delay (``delays(i)``: per frame i, cut ->
    back-end seconds; the local arm's: its whole time), with looks beside local frames where the
    controller takes them (``period_s``; None: none). Per frame: the arm that answered it and its time;
    and each look's (frame, cut)."""
    answered, looks = [], []
    for i in range(frames):
        delay = delays(i)
        choice = controller.choose(np.zeros(4), period_s=period_s)
        for taken in (choice, choice.look):
            if taken is None:
                continue
            if taken is choice.look:
                controller.look_sent(taken)
                looks.append((i, taken.cut))
            controller.finished(taken)
            front = 0.01 if taken.cut == 1 else 0.0
            trace = [{"stage": taken.first_stage, "device": ME, "queue_s": 0.0, "compute_s": front}]
            controller.observe(taken, trace, front + delay[taken.cut], ME)
            if taken is choice:
                answered.append((taken.cut, front + delay[taken.cut]))
    return answered, looks


def test_a_look_while_the_device_alone_is_fastest_goes_beside_a_local_frame() -> None:
    """The device alone at 0.1 s, both offloading arms slower (0.3, 0.2): every look the bandit takes
    at them (each never-answered arm once, then the forced and stale looks) goes beside a local frame
    when the stream's period leaves the device idle (``BESIDE_IDLE`` times the local time): every frame
    is answered by the device, and the looks teach the arms as frames would (pulls = frames + looks).
    Without a period (a budget, failover, or ``beside`` false) the same looks are frames, each slower
    than the device."""
    arms = spec()
    arms["arms"][2]["front_s"] = 0.1
    delays = {0: 0.3, 1: 0.19, 2: 0.1}
    beside = AnsController(arms)
    answered, looks = run_beside(beside, lambda i: delays, 100, period_s=BESIDE_IDLE * 0.1)
    assert {cut for cut, _ in answered} == {2} and {cut for _, cut in looks} == {0, 1}
    report = {row["cut"]: row for row in beside.report()}
    for cut in (0, 1):
        assert report[cut]["pulls"] == report[cut]["beside"] == sum(1 for _, c in looks if c == cut)
    assert report[2]["pulls"] == 100 and report[2]["beside"] == 0
    assert beside.in_flight.get(0, 0) == beside.in_flight.get(1, 0) == 0 and not any(beside.sent.values())

    framed = AnsController(arms)
    answered, looks = run_beside(framed, lambda i: delays, 100, period_s=None)
    assert not looks and {cut for cut, _ in answered} == {0, 1, 2}
    report = {row["cut"]: row for row in framed.report()}
    assert report[0]["beside"] == report[1]["beside"] == 0 and report[1]["pulls"] >= 1
    # A period too short for the device to idle between frames: no look beside either.
    short = AnsController(arms)
    answered, looks = run_beside(short, lambda i: delays, 40, period_s=0.9 * BESIDE_IDLE * 0.1)
    assert not looks and {cut for cut, _ in answered} != {2}


def test_a_look_beside_is_dropped_with_its_local_frame_and_kept_across_a_restart(tmp_path) -> None:
    """A local frame that fails takes its look with it (``look_dropped``: no longer owed in flight), and a
    look that teaches nothing (failed at once) is not counted: the looks beside an arm are the part of its
    pulls they are, kept with the learned state."""
    arms = spec()
    arms["arms"][2]["front_s"] = 0.1
    controller = AnsController(arms, tmp_path)
    run_beside(controller, lambda i: {0: 0.3, 1: 0.19, 2: 0.1}, 12, period_s=1.0)
    choice = next(c for c in iter(lambda: controller.choose(np.zeros(4), period_s=1.0), None) if c.look)
    assert controller.in_flight[choice.look.cut] == 1
    controller.finished(choice)
    controller.look_dropped(choice.look)
    assert controller.in_flight[choice.look.cut] == 0
    counted = dict(controller.beside)
    choice = next(c for c in iter(lambda: controller.choose(np.zeros(4), period_s=1.0), None) if c.look)
    controller.finished(choice)
    controller.look_sent(choice.look)
    controller.finished(choice.look)
    controller.observe_unanswered(choice.look, [], 0.001, ME)  # failed at once: says nothing
    assert controller.beside == counted
    report = {row["cut"]: row for row in controller.report()}
    assert all(report[cut]["beside"] <= report[cut]["pulls"] for cut in (0, 1))
    controller.save()
    again = AnsController(arms, tmp_path)
    assert again.loaded and again.beside == controller.beside and sum(again.beside.values()) >= 2


def test_looks_beside_see_a_links_recovery_within_free_after_frames() -> None:
    """Cut 1 (0.05 s in all) beats the device (0.1 s) until its link collapses (frames 30-89: 1 s), then
    again. While the device alone wins, the look where the collapse's end would show comes once per
    ``STALE_AFTER`` frames if each look is a frame (it costs the collapsed link's time), once per
    ``FREE_AFTER`` frames beside local frames (they cost no frame): the recovery is followed within
    ``FREE_AFTER`` + a few frames instead of up to ``STALE_AFTER`` + a few, and no frame waits on the
    collapsed link but the one that found it."""

    def delays(i: int) -> dict[int, float]:
        return {0: 0.5, 1: 1.0 if 30 <= i < 90 else 0.04, 2: 0.1}

    arms = spec()
    arms["arms"][2]["front_s"] = 0.1
    late = {}
    for period in (1.0, None):
        answered, looks = run_beside(AnsController(arms), delays, 150, period_s=period)
        late[period] = next(i for i in range(90, 150) if answered[i][0] == 1) - 90
        slow = [i for i in range(30, 90) if answered[i][1] > 0.5]
        if period is not None:
            assert len(slow) <= 1 and sum(1 for i, cut in looks if 30 <= i < 90) >= 60 // (2 * FREE_AFTER)
        else:
            assert len(slow) >= 2  # each look during the collapse is a frame on the collapsed link
    assert late[1.0] <= FREE_AFTER + 4 < late[None] <= STALE_AFTER + 6, late
