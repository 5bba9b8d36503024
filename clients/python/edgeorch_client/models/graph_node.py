from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.graph_node_kind import GraphNodeKind
from ..types import UNSET, Unset

T = TypeVar("T", bound="GraphNode")


@_attrs_define
class GraphNode:
    """
    Attributes:
        id (str):
        kind (GraphNodeKind): * `input` - input
            * `op` - op
            * `output` - output
        label (str): The operator type, or the input's or output's name
        block (int | None): The block it is in (null: input, output)
        name (str | Unset): The ONNX node's name (operators)
        macs (int | Unset):
    """

    id: str
    kind: GraphNodeKind
    label: str
    block: int | None
    name: str | Unset = UNSET
    macs: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        kind = self.kind.value

        label = self.label

        block: int | None
        block = self.block

        name = self.name

        macs = self.macs

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "kind": kind,
                "label": label,
                "block": block,
            }
        )
        if name is not UNSET:
            field_dict["name"] = name
        if macs is not UNSET:
            field_dict["macs"] = macs

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        kind = GraphNodeKind(d.pop("kind"))

        label = d.pop("label")

        def _parse_block(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        block = _parse_block(d.pop("block"))

        name = d.pop("name", UNSET)

        macs = d.pop("macs", UNSET)

        graph_node = cls(
            id=id,
            kind=kind,
            label=label,
            block=block,
            name=name,
            macs=macs,
        )

        graph_node.additional_properties = d
        return graph_node

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
