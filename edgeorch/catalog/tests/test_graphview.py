"""A model's graph for drawing (GET /api/models/{id}/graph/): operators by block, tensors as edges, the cut
points marked on the tensors that cross them with the catalog's bytes."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.demo


def test_the_digits_cnn_graph_marks_each_cut_on_its_tensor_with_its_bytes(digits, bob):
    digits = digits["digits-cnn"]
    client = APIClient()
    client.force_login(bob)
    body = client.get(f"/api/models/{digits.pk}/graph/").json()
    ops = [n for n in body["nodes"] if n["kind"] == "op"]
    assert len(ops) == 10 and {n["label"] for n in ops} >= {"Conv", "Relu", "Gemm"}
    assert [n["kind"] for n in body["nodes"]].count("input") == len(digits.inputs)
    assert [n["kind"] for n in body["nodes"]].count("output") == len(digits.outputs)
    ids = {n["id"] for n in body["nodes"]}
    assert all(e["source"] in ids and e["target"] in ids for e in body["edges"])
    # Each node sits in the block the catalog says: as many operators per block as it recorded.
    per_block = [sum(1 for n in ops if n["block"] == b["index"]) for b in digits.blocks]
    assert per_block == [b["node_count"] for b in digits.blocks]

    stored = {c.index: c for c in digits.cut_points.all()}
    cut_edges = [e for e in body["edges"] if e["cut"] is not None]
    assert {e["cut"] for e in cut_edges} == set(stored)  # every cut is drawn
    for edge in cut_edges:
        cut = stored[edge["cut"]]
        assert edge["tensor"] == cut.tensors[0]["name"] and edge["bytes"] == cut.bytes
        # The cut's tensor leaves the block before the cut for the block after it.
        blocks = {n["id"]: n["block"] for n in body["nodes"]}
        assert blocks[edge["source"]] == cut.index and blocks[edge["target"]] == cut.index + 1
    assert [c["recommended"] for c in body["cuts"]] == [stored[i].recommended for i in sorted(stored)]
    assert [c["bytes"] for c in body["cuts"]] == [stored[i].bytes for i in sorted(stored)]


def test_an_unknown_model_is_a_404(db, bob):
    client = APIClient()
    client.force_login(bob)
    response = client.get("/api/models/424242/graph/")
    assert response.status_code == 404 and "detail" in response.json()
