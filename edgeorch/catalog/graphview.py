"""A model's ONNX graph as the pages draw it: its operator nodes grouped by block, the tensors between them,
and the cut points marked on the tensors that cross them with their bytes (``model_graph``).

It is read from the stored (prepared) artifact by the same analysis that registered the model
(``graph.analyse``), so node positions, blocks and cut indices are the catalog's own. Nodes computed from
constants only (weights, folded shapes) are left out: each segment carries its own copy, nothing crosses.
The drawing is cached per artifact (its sha256): the analysis of a large model takes a second.
"""

from __future__ import annotations

from functools import lru_cache

import onnx

from . import graph
from .models import MLModel

INPUT, OUTPUT = "input", "output"


def model_graph(model: MLModel) -> dict:
    """``{model, nodes, edges, blocks, cuts}`` for ``model`` (see docs/api.md, "The model graph").

    ``nodes``: the graph inputs, every operator in analysis order (``block``: the block it is in) and the
    graph outputs; ``edges``: one per tensor and reader, ``cut`` naming the cut point the tensor crosses
    (null for the rest) and ``bytes`` its size; ``cuts``: the stored cut points (index, bytes, recommended).
    """
    drawn = _drawing(str(model.artifact_path), model.sha256, model.cut_points.filter(kind="pair").exists())
    cuts = [
        {
            "index": c.index,
            "kind": c.kind,
            "tensors": [t["name"] for t in c.tensors],
            "bytes": c.bytes,
            "recommended": c.recommended,
            "fusion_penalty": c.fusion_penalty,
        }
        for c in model.cut_points.all()
    ]
    return {"model": model.pk, **drawn, "cuts": cuts}


@lru_cache(maxsize=8)
def _drawing(path: str, sha256: str, pairs: bool) -> dict:
    proto = onnx.load(path)
    analysis = graph.analyse(proto, pairs=pairs)
    nodes_of = proto.graph.node
    block_of: dict[int, int] = {}
    for block in analysis.blocks:
        for pos in range(block.first_position, block.last_position + 1):
            block_of[pos] = block.index
    cut_of = {name: cut.index for cut in analysis.cuts for name in cut.names}

    nodes: list[dict] = []
    producer: dict[str, str] = {}
    for tensor in analysis.inputs:
        nodes.append({"id": f"in:{tensor.name}", "kind": INPUT, "label": tensor.name, "block": None})
        producer[tensor.name] = f"in:{tensor.name}"
    for pos, i in enumerate(analysis.order):
        node = nodes_of[i]
        node_id = f"n{i}"
        nodes.append(
            {
                "id": node_id,
                "kind": "op",
                "label": node.op_type,
                "name": node.name,
                "block": block_of.get(pos),
                "macs": analysis.node_macs[i] if i < len(analysis.node_macs) else 0,
            }
        )
        producer.update((name, node_id) for name in node.output if name)

    edges: list[dict] = []
    for i in analysis.order:
        for name in dict.fromkeys(graph.node_inputs(nodes_of[i])):  # each tensor once per reader
            if name in producer:
                edges.append(_edge(producer[name], f"n{i}", name, analysis, cut_of))
    for tensor in analysis.outputs:
        out_id = f"out:{tensor.name}"
        nodes.append({"id": out_id, "kind": OUTPUT, "label": tensor.name, "block": None})
        if tensor.name in producer:
            edges.append(_edge(producer[tensor.name], out_id, tensor.name, analysis, cut_of))
    blocks = [
        {
            "index": b.index,
            "nodes": b.node_count,
            "macs": b.macs,
            "input_bytes": b.input_bytes,
            "output_bytes": b.output_bytes,
        }
        for b in analysis.blocks
    ]
    return {"nodes": nodes, "edges": edges, "blocks": blocks}


def _edge(source: str, target: str, tensor: str, analysis: graph.GraphAnalysis, cut_of: dict) -> dict:
    info = analysis.tensors.get(tensor)
    return {
        "source": source,
        "target": target,
        "tensor": tensor,
        "bytes": info.nbytes if info else None,
        "cut": cut_of.get(tensor),
    }
