"""The per-request configuration rule (edgeorch_wire.dynamic.choose) against brute force over (exit, split,
variant) on generated problems: a model with exits after some of its blocks, variants whose blocks cost a
factor of the full model's and whose exits have their own accuracy, split after any block up to the exit,
queues before the source's and the edge's stages, a link of some bandwidth."""

from __future__ import annotations

import itertools
import math

import pytest
from edgeorch_wire.dynamic import Option, choose, predicted_s
from hypothesis import given, settings
from hypothesis import strategies as st

ms = st.floats(min_value=0.0, max_value=0.05, allow_nan=False)


@st.composite
def problems(draw):  # type: ignore[no-untyped-def]
    blocks = draw(st.integers(1, 5))
    exits = sorted(draw(st.sets(st.integers(1, blocks), min_size=1, max_size=3)) | {blocks})
    variants = draw(st.integers(1, 3))
    return {
        "blocks": blocks,
        "exits": exits,
        "source_s": draw(st.lists(ms, min_size=blocks, max_size=blocks)),  # the full model's, per block
        "edge_s": draw(st.lists(ms, min_size=blocks, max_size=blocks)),
        "factor": draw(st.lists(st.floats(0.1, 1.0), min_size=variants, max_size=variants)),
        "accuracy": draw(
            st.lists(
                st.lists(
                    st.sampled_from([0.5, 0.7, 0.8, 0.9, 0.95, 0.99]),
                    min_size=len(exits),
                    max_size=len(exits),
                ),
                min_size=variants,
                max_size=variants,
            )
        ),
        "bytes": draw(st.lists(st.integers(0, 200_000), min_size=blocks + 1, max_size=blocks + 1)),
        "bandwidth": draw(st.floats(1e5, 1e8)),
        "queues": {"source": draw(ms), "edge": draw(ms)},
        "budget": draw(st.one_of(st.none(), st.floats(0.0, 0.3))),
    }


def configurations(p):  # type: ignore[no-untyped-def]
    """(variant, exit, split) in a fixed order; split: the blocks on the source (all of them: local)."""
    for v, (e, last) in itertools.product(range(len(p["factor"])), enumerate(p["exits"])):
        for split in range(last + 1):
            yield v, e, last, split


def as_option(p, v, e, last, split):  # type: ignore[no-untyped-def]
    f = p["factor"][v]
    stages = []
    if split > 0:
        stages.append(("source", f * sum(p["source_s"][:split])))
    if split < last:
        stages.append(("edge", f * sum(p["edge_s"][split:last])))
    transfer = p["bytes"][split] / p["bandwidth"] if split < last else 0.0
    return Option(p["accuracy"][v][e], tuple(stages), transfer)


def brute_force(p):  # type: ignore[no-untyped-def]
    """Every configuration's latency from the problem's own numbers; the best by the rule's definition."""
    rows = []
    for v, e, last, split in configurations(p):
        f = p["factor"][v]
        t = 0.0
        if split > 0:
            t += p["queues"]["source"] + f * sum(p["source_s"][:split])
        if split < last:
            t += p["queues"]["edge"] + f * sum(p["edge_s"][split:last]) + p["bytes"][split] / p["bandwidth"]
        rows.append((p["accuracy"][v][e], t))
    budget = math.inf if p["budget"] is None else p["budget"]
    fits = [(acc, t, i) for i, (acc, t) in enumerate(rows) if t <= budget + 1e-12]
    if fits:
        acc, t, _ = max(fits, key=lambda r: (r[0], -r[1], -r[2]))
        return True, acc, t
    acc, t, _ = min(((acc, t, i) for i, (acc, t) in enumerate(rows)), key=lambda r: (r[1], -r[0], r[2]))
    return False, acc, t


@settings(max_examples=300, deadline=None)
@given(problems())
def test_the_choice_is_the_most_accurate_that_meets_the_deadline(p) -> None:  # type: ignore[no-untyped-def]
    options = [as_option(p, *c) for c in configurations(p)]
    index, predicted = choose(options, p["budget"], p["queues"])
    fits, accuracy, latency = brute_force(p)
    assert options[index].accuracy == accuracy
    assert predicted == pytest.approx(latency, abs=1e-9)
    if fits:  # it meets the deadline, and nothing that does is more accurate
        assert p["budget"] is None or predicted <= p["budget"] + 1e-9
    else:  # nothing meets it: the fastest
        assert predicted == pytest.approx(min(predicted_s(o, p["queues"]) for o in options), abs=1e-9)


def test_a_tight_deadline_takes_a_cheaper_configuration_and_a_loose_one_the_most_accurate() -> None:
    full = Option(0.99, (("edge", 0.040),), 0.010)
    early_exit = Option(0.90, (("source", 0.008),))
    assert choose([full, early_exit], 0.200, {})[0] == 0
    assert choose([full, early_exit], 0.030, {})[0] == 1
    # the edge's queue grows: the full model no longer fits a deadline it fitted
    assert choose([full, early_exit], 0.080, {})[0] == 0
    assert choose([full, early_exit], 0.080, {"edge": 0.050})[0] == 1
    assert choose([full, early_exit], None, {"edge": 10.0})[0] == 0  # no deadline: the most accurate


def test_no_configuration_is_an_error() -> None:
    with pytest.raises(ValueError, match="no configuration"):
        choose([], 1.0, {})
