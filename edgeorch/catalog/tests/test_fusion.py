"""Fusion-friendly cuts (issue #18 item 4): a cut between a convolution and what onnxruntime fuses into it
(an activation, a residual add's activation) is not recommended; each cut's fusion_penalty estimates the
extra compute of splitting there from the crossing bytes; the API and the model page list both (the
planner's use of it: plans/tests/test_fusion_penalty.py)."""

from __future__ import annotations

import collections

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgeorch.catalog import fusion, graph, runtime, segments

from .support import prepared, token_header


def residual_net() -> onnx.ModelProto:
    """Conv, Relu, a residual block (Conv, Add of the skip, Relu), a flattening Gemm with its Relu."""
    rng = np.random.default_rng(0)

    def weight(name, shape):
        return numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name)

    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2"], ["c2"], pads=[1, 1, 1, 1]),
        helper.make_node("Add", ["c2", "r1"], ["s"]),
        helper.make_node("Relu", ["s"], ["r2"]),
        helper.make_node("Flatten", ["r2"], ["f"]),
        helper.make_node("Gemm", ["f", "w3"], ["g"], transB=1),
        helper.make_node("Relu", ["g"], ["y"]),
    ]
    g = helper.make_graph(
        nodes,
        "residual",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])],
        [weight("w1", (4, 3, 3, 3)), weight("w2", (4, 4, 3, 3)), weight("w3", (10, 256))],
    )
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return graph.prepare_model(model)


def assessed(model):
    analysis = graph.analyse(model)
    return {
        c.names: cost for c, cost in zip(analysis.cuts, fusion.assess(model, analysis), strict=True)
    }, analysis


def test_a_cut_between_a_convolution_and_what_onnxruntime_fuses_into_it_breaks_a_fusion():
    costs, _ = assessed(residual_net())
    assert {names: bool(c.note) for names, c in costs.items()} == {
        ("c1",): True,  # between Conv and its Relu
        ("r1",): True,  # the activation's output, but also the residual block's skip input
        ("s",): True,  # between the residual Add and its Relu
        ("r2",): False,  # after the residual block's Add and its Relu: a block boundary
        ("f",): False,
        ("g",): True,  # between Gemm and its Relu
    }
    assert not any(c.recommended for c in costs.values() if c.note)
    assert costs[("c1",)].note == "between Conv and the Relu onnxruntime fuses into it"
    assert costs[("s",)].note == "between Add and the Relu onnxruntime fuses into it"
    assert "skip input of the residual Add" in costs[("r1",)].note
    assert costs[("r2",)].note == ""


def test_the_penalty_counts_passes_over_the_crossing_bytes_against_the_models_macs():
    costs, analysis = assessed(residual_net())
    per_pass = fusion.PASS_MACS_PER_BYTE * 4 * 8 * 8 * 4 / analysis.macs  # one pass over a 1x4x8x8 float
    assert costs[("c1",)].penalty == pytest.approx(3 * per_pass, rel=1e-4)  # the layout both ways, the Relu
    assert costs[("r2",)].penalty == pytest.approx(2 * per_pass, rel=1e-4)  # the layout both ways
    # The layout, and the residual block's Add run unfused over its 1x4x8x8 output.
    assert costs[("r1",)].penalty == pytest.approx((2 + fusion.UNFUSED_ADD_PASSES) * per_pass, rel=1e-4)
    assert costs[("f",)].penalty == 0  # a flat tensor: no blocked layout to leave
    # The recommended cuts are those that break nothing and cost at most RECOMMENDED_MAX_PENALTY.
    limit = fusion.RECOMMENDED_MAX_PENALTY
    assert all(c.recommended == (not c.note and c.penalty <= limit) for c in costs.values())


def conv_relu_chain(channels: int = 128, side: int = 14) -> onnx.ModelProto:
    """A stem Conv and Relu, two residual blocks (Conv, Relu, Conv, Add of the skip, Relu), a Conv and
    Relu: at a size where a split's layout passes are small against the convolutions."""
    rng = np.random.default_rng(0)
    nodes, weights, x = [], [], "x"

    def conv_relu(source: str, name: str, skip: str = "") -> str:
        weights.append(
            numpy_helper.from_array(
                (rng.standard_normal((channels, channels, 3, 3)) * 0.05).astype(np.float32), f"w_{name}"
            )
        )
        nodes.append(helper.make_node("Conv", [source, f"w_{name}"], [f"c_{name}"], pads=[1, 1, 1, 1]))
        made = f"c_{name}"
        if skip:
            nodes.append(helper.make_node("Add", [made, skip], [f"s_{name}"]))
            made = f"s_{name}"
        nodes.append(helper.make_node("Relu", [made], [f"r_{name}"]))
        return f"r_{name}"

    x = conv_relu(x, "stem")
    for block in ("a", "b"):
        x = conv_relu(conv_relu(x, f"{block}1"), f"{block}2", skip=x)
    x = conv_relu(x, "head")
    shape = [1, channels, side, side]
    g = helper.make_graph(
        nodes,
        "conv_relu_chain",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, shape)],
        weights,
    )
    return graph.prepare_model(
        helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    )


def test_on_a_conv_relu_chain_only_a_block_boundary_without_a_skip_across_it_is_recommended():
    costs, _ = assessed(conv_relu_chain())
    assert [names[0] for names, c in costs.items() if c.recommended] == ["r_b2"]
    assert "between Conv and the Relu" in costs[("c_stem",)].note
    assert "between Add and the Relu" in costs[("s_a2",)].note
    # After the stem's Relu the tensor is block a's skip: its Add, and so block b's, run unfused.
    assert costs[("r_stem",)].note == (
        "the skip input of the residual Add making s_a2, which onnxruntime then runs unfused"
    )
    assert costs[("r_stem",)].penalty > costs[("r_a2",)].penalty > costs[("r_b2",)].penalty


def fused_operators(model: onnx.ModelProto, path) -> collections.Counter[str]:
    """The operators onnxruntime runs for ``model`` after its optimizations (as its optimized graph lists
    them), less the layout conversions: a Conv by the activation and the residual Sum it fused in."""
    options = runtime.session_options(1)
    options.optimized_model_filepath = str(path)
    ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    operators: collections.Counter[str] = collections.Counter()
    for node in onnx.load(str(path)).graph.node:
        if node.op_type in ("ReorderInput", "ReorderOutput"):
            continue
        if node.op_type == "Conv":
            activation = [a.s.decode() for a in node.attribute if a.name == "activation"]
            summed = "+Sum" if len(node.input) > 3 and node.input[3] else ""
            operators[f"Conv({','.join(activation)}){summed}"] += 1
        else:
            operators[node.op_type] += 1
    return operators


def model_and_analysis(name, zoo_models):
    if name == "conv_relu_chain":
        model = conv_relu_chain()
        return model, graph.analyse(model)
    return prepared(zoo_models[name][0])


@pytest.mark.parametrize("name", ["conv_relu_chain", "resnet18", "mobilenetv2"])
def test_a_cut_breaks_a_fusion_exactly_where_onnxruntimes_segments_run_an_operator_it_fused(
    zoo_models, name, tmp_path
):
    """The rule is checked against onnxruntime itself: at each cut, the two segments' optimized graphs run
    the whole model's operators (less the layout conversions) unless the catalog says the cut breaks a
    fusion."""
    model, analysis = model_and_analysis(name, zoo_models)
    whole = fused_operators(model, tmp_path / "whole.onnx")
    for k, (cut, cost) in enumerate(zip(analysis.cuts, fusion.assess(model, analysis), strict=True)):
        parts = segments.extract_segments(model, analysis, [k])
        split = sum((fused_operators(p.model, tmp_path / "part.onnx") for p in parts), collections.Counter())
        assert (split != whole) == bool(cost.note), (cut.names, cost.note, split - whole, whole - split)


@pytest.mark.parametrize(
    "name, recommended, not_recommended",
    [
        (
            "mobilenetv2",
            ["/9/block/block.5/Clip_output_0", "/8/Add_output_0"],
            # The skip of /8/Add; a megabyte activation; a 56x56x24 tensor over the penalty limit.
            ["/7/Add_output_0", "/4/block/block.2/Clip_output_0", "/5/Add_output_0"],
        ),
        (
            "resnet18",
            ["/5/relu_1/Relu_output_0", "/7/relu_1/Relu_output_0"],
            # The skips of /4/Add and /5/Add; between an Add and its Relu.
            ["/3/MaxPool_output_0", "/4/relu_1/Relu_output_0", "/4/Add_output_0"],
        ),
    ],
)
def test_the_zoos_cuts_are_ranked(zoo_models, name, recommended, not_recommended):
    costs, _ = assessed(prepared(zoo_models[name][0])[0])
    for tensor in recommended:
        assert costs[(tensor,)].recommended, tensor
    for tensor in not_recommended:
        assert not costs[(tensor,)].recommended, tensor
    broken = [names for names, c in costs.items() if c.note]
    assert broken and all(costs[n].penalty > 0 for n in broken)


@pytest.mark.django_db
@pytest.mark.demo
def test_the_cut_listing_and_the_model_page_report_the_penalty(client, bob, digits):
    model = digits["digits-cnn"]
    cuts = client.get(f"/api/models/{model.pk}/cuts/", **token_header(bob)).json()
    by_name = {c["tensors"][0]["name"]: c for c in cuts}
    conv = by_name["/0/0.0/Conv_output_0"]
    assert conv["recommended"] is False and "Conv and the Relu" in conv["fusion_note"]
    assert conv["fusion_penalty"] > by_name["/0/0.1/Relu_output_0"]["fusion_penalty"] > 0
    assert by_name["/2/2.0/Flatten_output_0"]["recommended"] is True
    client.force_login(bob)
    page = client.get(f"/models/{model.pk}/").content.decode()
    assert "Split cost" in page and "no: between Conv and the Relu" in page


@pytest.mark.django_db
def test_models_registered_before_fusion_costs_are_assessed_by_the_migration(digits):
    from importlib import import_module

    from django.apps import apps

    from edgeorch.catalog.models import CutPoint

    model = digits["digits-cnn"]
    want = list(model.cut_points.values_list("fusion_penalty", "recommended", "fusion_note"))
    CutPoint.objects.filter(model=model).update(fusion_penalty=0.0, recommended=True, fusion_note="")
    migration = import_module("edgeorch.catalog.migrations.0008_assess_existing_cuts")
    migration.assess_existing_cuts(apps, None)
    assert list(model.cut_points.values_list("fusion_penalty", "recommended", "fusion_note")) == want
    assert any(not recommended for _, recommended, _ in want)
