from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.graph_block import GraphBlock
    from ..models.graph_cut import GraphCut
    from ..models.graph_edge import GraphEdge
    from ..models.graph_node import GraphNode


T = TypeVar("T", bound="ModelGraph")


@_attrs_define
class ModelGraph:
    """A model's operator graph for drawing (``graphview.model_graph``).

    Attributes:
        model (int):
        nodes (list[GraphNode]):
        edges (list[GraphEdge]):
        blocks (list[GraphBlock]):
        cuts (list[GraphCut]):
    """

    model: int
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    blocks: list[GraphBlock]
    cuts: list[GraphCut]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        model = self.model

        nodes = []
        for nodes_item_data in self.nodes:
            nodes_item = nodes_item_data.to_dict()
            nodes.append(nodes_item)

        edges = []
        for edges_item_data in self.edges:
            edges_item = edges_item_data.to_dict()
            edges.append(edges_item)

        blocks = []
        for blocks_item_data in self.blocks:
            blocks_item = blocks_item_data.to_dict()
            blocks.append(blocks_item)

        cuts = []
        for cuts_item_data in self.cuts:
            cuts_item = cuts_item_data.to_dict()
            cuts.append(cuts_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "model": model,
                "nodes": nodes,
                "edges": edges,
                "blocks": blocks,
                "cuts": cuts,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.graph_block import GraphBlock  # noqa: PLC0415
        from ..models.graph_cut import GraphCut  # noqa: PLC0415
        from ..models.graph_edge import GraphEdge  # noqa: PLC0415
        from ..models.graph_node import GraphNode  # noqa: PLC0415

        d = dict(src_dict)
        model = d.pop("model")

        nodes = []
        _nodes = d.pop("nodes")
        for nodes_item_data in _nodes:
            nodes_item = GraphNode.from_dict(nodes_item_data)

            nodes.append(nodes_item)

        edges = []
        _edges = d.pop("edges")
        for edges_item_data in _edges:
            edges_item = GraphEdge.from_dict(edges_item_data)

            edges.append(edges_item)

        blocks = []
        _blocks = d.pop("blocks")
        for blocks_item_data in _blocks:
            blocks_item = GraphBlock.from_dict(blocks_item_data)

            blocks.append(blocks_item)

        cuts = []
        _cuts = d.pop("cuts")
        for cuts_item_data in _cuts:
            cuts_item = GraphCut.from_dict(cuts_item_data)

            cuts.append(cuts_item)

        model_graph = cls(
            model=model,
            nodes=nodes,
            edges=edges,
            blocks=blocks,
            cuts=cuts,
        )

        model_graph.additional_properties = d
        return model_graph

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
