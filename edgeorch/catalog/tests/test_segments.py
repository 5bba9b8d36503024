"""Exactness: running the segments one after another equals running the whole model."""

import random

import numpy as np
import onnx
import pytest

from edgeorch.catalog import graph, runtime, segments, zoo

from .graphs import random_dag
from .support import prepared

ZOO_NAMES = [entry.name for entry in zoo.ZOO]


def assert_split_is_exact(model, analysis, cuts, feeds, full):
    parts = segments.extract_segments(model, analysis, cuts)
    assert len(parts) == len(cuts) + 1
    delivered = segments.run_segments([p.model.SerializeToString() for p in parts], parts, feeds)
    assert set(delivered) == set(full)
    for name, expected in full.items():
        np.testing.assert_allclose(
            delivered[name], expected, rtol=1e-4, atol=1e-5, err_msg=f"{name} at {cuts}"
        )


@pytest.mark.parametrize("name", ZOO_NAMES)
def test_every_cut_of_every_zoo_model_splits_exactly(zoo_models, name):
    model, analysis = prepared(zoo_models[name][0])
    feeds = runtime.random_feeds(model)
    full = runtime.run(model, feeds)
    assert analysis.cuts
    for cut in range(len(analysis.cuts)):
        assert_split_is_exact(model, analysis, [cut], feeds, full)


@pytest.mark.parametrize("name", ZOO_NAMES)
def test_random_three_and_four_way_splits_of_zoo_models_are_exact(zoo_models, name):
    model, analysis = prepared(zoo_models[name][0])
    feeds = runtime.random_feeds(model, seed=1)
    full = runtime.run(model, feeds)
    rng = random.Random(name)
    for ways in (3, 4):
        cuts = sorted(rng.sample(range(len(analysis.cuts)), ways - 1))
        assert_split_is_exact(model, analysis, cuts, feeds, full)


@pytest.mark.parametrize("seed", range(25))
def test_random_dags_split_exactly_at_every_cut_and_in_several_ways(seed):
    model = graph.prepare_model(random_dag(seed))
    analysis = graph.analyse(model, pairs=True)
    feeds = runtime.random_feeds(model, seed=seed)
    full = runtime.run(model, feeds)
    for cut in range(len(analysis.cuts)):
        assert_split_is_exact(model, analysis, [cut], feeds, full)
    rng = random.Random(seed)
    for ways in (3, 4):
        if len(analysis.cuts) >= ways - 1:
            assert_split_is_exact(
                model, analysis, sorted(rng.sample(range(len(analysis.cuts)), ways - 1)), feeds, full
            )


def test_a_third_party_detector_splits_exactly_at_single_and_pair_cuts(detector_path):
    model = graph.prepare_model(onnx.load(str(detector_path)))
    analysis = graph.analyse(model, pairs=True)
    assert analysis.node_count > 250 and len(analysis.outputs) == 3
    assert {"Resize", "Shape", "Gather", "Concat"} <= set(analysis.op_histogram)
    feeds = runtime.random_feeds(model)
    full = runtime.run(model, feeds)
    for cut in range(len(analysis.cuts)):
        assert_split_is_exact(model, analysis, [cut], feeds, full)


def test_segments_keep_only_the_weights_they_use(zoo_models):
    model, analysis = prepared(zoo_models["alexnet"][0])
    parts = segments.extract_segments(model, analysis, [len(analysis.cuts) // 2])
    names = [{t.name for t in p.model.graph.initializer} for p in parts]
    assert names[0].isdisjoint(names[1])
    assert names[0] | names[1] == {t.name for t in model.graph.initializer}
    for part in parts:
        onnx.checker.check_model(part.model)


def test_a_segment_interface_names_what_crosses_and_what_is_delivered(zoo_models):
    model, analysis = prepared(zoo_models["digits-branchy"][0])
    last = len(analysis.cuts) - 1
    first, second = segments.extract_segments(model, analysis, [last])
    assert [t.name for t in first.inputs] == ["input"]
    assert first.outputs[0].name == analysis.cuts[last].names[0]
    assert first.delivers == ["exit1", "exit2"]
    assert second.delivers == ["final"]


@pytest.mark.parametrize("text", ["1,x", "2,1", "1,1", "-1", "99"])
def test_bad_cut_lists_are_refused_with_a_reason(text):
    with pytest.raises(segments.SegmentError):
        segments.parse_cuts(text, 10)
