"""Cut-point analysis against a brute-force definition, and its statistics."""

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgeorch.catalog import graph
from edgeorch.catalog.graph import node_inputs, real_inputs

from .graphs import random_dag


def brute_force_cuts(model: onnx.ModelProto) -> set[str]:
    """Single-tensor cuts by the definition: the tensor alone carries what the rest needs from before it.

    Quadratic and obvious: for each tensor, take every input-dependent node it depends on (the prefix) and
    collect what nodes outside the prefix read from it. Shape reads of fully known shapes do not count.
    """
    g = model.graph
    infos = graph.tensor_infos(g)
    producer = {n: i for i, node in enumerate(g.node) for n in node.output}
    outputs = {v.name for v in g.output}

    def shape_only(node):
        return node.op_type == "Shape" and None not in (infos[node.input[0]].shape or (None,))

    def reads(i):
        return [] if shape_only(g.node[i]) else [n for n in node_inputs(g.node[i])]

    useful = set()
    stack = [producer[o] for o in outputs]
    while stack:
        i = stack.pop()
        if i not in useful:
            useful.add(i)
            stack.extend(producer[n] for n in reads(i) if n in producer)
    dynamic_tensors = set(real_inputs(g))
    dynamic_nodes = []
    for i in range(len(g.node)):
        if any(n in dynamic_tensors for n in reads(i)):
            dynamic_tensors.update(g.node[i].output)
            if i in useful:
                dynamic_nodes.append(i)
    cuts = set()
    for i in dynamic_nodes:
        for t in g.node[i].output:
            # The suffix is everything that depends on t; the prefix is every other node.
            later, grown = {t}, True
            while grown:
                grown = False
                for j in dynamic_nodes:
                    if j != i and any(n in later for n in reads(j)) and not set(g.node[j].output) <= later:
                        later.update(g.node[j].output)
                        grown = True
            rest = [j for j in dynamic_nodes if j != i and set(g.node[j].output) <= later]
            prefix = {j for j in dynamic_nodes if j not in rest}
            crossing = {
                n for j in rest for n in reads(j) if n in dynamic_tensors and producer.get(n) in prefix
            }
            crossing |= {n for j in rest for n in reads(j) if n in real_inputs(g)}
            if rest and crossing == {t}:
                cuts.add(t)
    return cuts


@pytest.mark.parametrize("seed", range(30))
def test_single_cuts_of_one_output_dags_are_exactly_the_brute_force_cuts(seed):
    model = graph.prepare_model(random_dag(seed, side_outputs=False))
    analysis = graph.analyse(model, pairs=False)
    assert {c.names[0] for c in analysis.cuts} == brute_force_cuts(model)


@pytest.mark.parametrize("seed", range(30))
def test_every_cut_of_several_output_dags_is_a_true_cut(seed):
    # With several outputs the sweep's order matters (see graph._schedule) and a prefix may hold some of
    # the cut tensor's descendants (heads delivering outputs); so check each reported cut directly.
    model = graph.prepare_model(random_dag(seed))
    analysis = graph.analyse(model, pairs=True)
    producer = {n: i for i, node in enumerate(model.graph.node) for n in node.output}
    for cut in analysis.cuts:
        prefix = set(analysis.order[: cut.position + 1])
        suffix = analysis.order[cut.position + 1 :]
        for i in prefix:  # closed under dependencies
            assert all(
                producer[n] in prefix for n in node_inputs(model.graph.node[i]) if producer.get(n) in suffix
            )
        crossing = {
            n
            for i in suffix
            for n in node_inputs(model.graph.node[i])
            if producer.get(n) in prefix or n in real_inputs(model.graph)
        }
        assert crossing == set(cut.names)


def test_a_chain_can_be_cut_after_every_layer_but_the_last(zoo_models):
    from .support import prepared

    model, analysis = prepared(zoo_models["digits-cnn"][0])
    assert len(analysis.cuts) == len(analysis.order) - 1
    assert [c.kind for c in analysis.cuts] == ["single"] * len(analysis.cuts)


def test_resnet_is_cut_only_between_residual_blocks(zoo_models):
    from .support import prepared

    model, analysis = prepared(zoo_models["resnet18"][0])
    names = [c.names[0] for c in analysis.cuts]
    # Inside a block the skip tensor and the branch are both alive; each of the 8 blocks contributes its
    # Add and the Relu after it, besides the stem (conv, relu, pool) and the head (pool, flatten).
    assert sum("/Add_output_0" in n for n in names) == 8
    assert sum("relu_1/Relu_output_0" in n for n in names) == 8
    assert len(names) == 3 + 16 + 2
    assert sum(b.macs for b in analysis.blocks) == analysis.macs


def test_macs_and_parameters_of_a_conv_and_a_gemm_are_counted():
    w = numpy_helper.from_array(np.ones((8, 3, 3, 3), np.float32), "w")
    fc = numpy_helper.from_array(np.ones((8 * 6 * 6, 10), np.float32), "fc")
    shape = numpy_helper.from_array(np.array([1, -1], np.int64), "shape")
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"]),
        helper.make_node("Reshape", ["c", "shape"], ["f"]),
        helper.make_node("Gemm", ["f", "fc"], ["y"]),
    ]
    g = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])],
        initializer=[w, fc, shape],
    )
    model = graph.prepare_model(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]))
    analysis = graph.analyse(model)
    assert analysis.macs == 8 * 6 * 6 * 27 + 288 * 10
    assert analysis.params == 8 * 27 + 2880 + 2
    assert [c.names for c in analysis.cuts] == [("c",), ("f",)]
    assert analysis.cuts[0].nbytes == 8 * 6 * 6 * 4
    assert analysis.cuts[0].macs_before == 8 * 6 * 6 * 27
    assert [b.macs_by_category["conv"] for b in analysis.blocks] == [8 * 6 * 6 * 27, 0, 0]
    assert analysis.blocks[2].param_bytes == 2880 * 4


def test_a_tensor_read_only_for_its_shape_does_not_stay_alive():
    nodes = [
        helper.make_node("Relu", ["x"], ["a"]),
        helper.make_node("Sigmoid", ["a"], ["b"]),
        helper.make_node("Shape", ["a"], ["s"]),  # reads `a` for its shape only
        helper.make_node("Reshape", ["b", "s"], ["y"]),
    ]
    g = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 4])],
    )
    analysis = graph.analyse(
        graph.prepare_model(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]))
    )
    assert [c.names for c in analysis.cuts] == [("a",), ("b",)]
    assert analysis.folded == {"s": [1, 4]}


def test_early_exits_are_delivered_not_carried_across_later_cuts(zoo_models):
    from .support import prepared

    _, analysis = prepared(zoo_models["digits-branchy"][0])
    assert all(c.kind == "single" for c in analysis.cuts)
    exits = [b.exits for b in analysis.blocks if b.exits]
    assert [e for group in exits for e in group] == ["exit1", "exit2", "final"]


def test_pair_cuts_are_offered_and_marked_when_single_cuts_are_few(detector_path):
    model = graph.prepare_model(onnx.load(str(detector_path)))
    analysis = graph.analyse(model, pairs=True)
    pairs = [c for c in analysis.cuts if c.kind == "pair"]
    assert pairs and all(len(c.tensors) == 2 and c.nbytes == sum(t.nbytes for t in c.tensors) for c in pairs)
    assert [c.position for c in analysis.cuts] == sorted(c.position for c in analysis.cuts)


def test_nodes_that_reach_no_output_are_pruned():
    nodes = [
        helper.make_node("Relu", ["x"], ["a"]),
        helper.make_node("Neg", ["x"], ["dead"]),
        helper.make_node("Add", ["a", "x"], ["y"]),
    ]
    g = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])],
    )
    analysis = graph.analyse(
        graph.prepare_model(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]))
    )
    assert analysis.order == [0, 2]
    assert analysis.cuts == []  # x is read by both nodes: it crosses with a


def test_a_graph_that_is_not_topologically_sorted_is_refused():
    nodes = [helper.make_node("Relu", ["a"], ["y"]), helper.make_node("Relu", ["x"], ["a"])]
    g = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])],
    )
    with pytest.raises(graph.GraphError, match="before it is produced"):
        graph.analyse(helper.make_model(g))
