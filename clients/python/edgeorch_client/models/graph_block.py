from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="GraphBlock")


@_attrs_define
class GraphBlock:
    """
    Attributes:
        index (int):
        nodes (int):
        macs (int):
        input_bytes (int | None):
        output_bytes (int | None):
    """

    index: int
    nodes: int
    macs: int
    input_bytes: int | None
    output_bytes: int | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        index = self.index

        nodes = self.nodes

        macs = self.macs

        input_bytes: int | None
        input_bytes = self.input_bytes

        output_bytes: int | None
        output_bytes = self.output_bytes

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "index": index,
                "nodes": nodes,
                "macs": macs,
                "input_bytes": input_bytes,
                "output_bytes": output_bytes,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        index = d.pop("index")

        nodes = d.pop("nodes")

        macs = d.pop("macs")

        def _parse_input_bytes(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        input_bytes = _parse_input_bytes(d.pop("input_bytes"))

        def _parse_output_bytes(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        output_bytes = _parse_output_bytes(d.pop("output_bytes"))

        graph_block = cls(
            index=index,
            nodes=nodes,
            macs=macs,
            input_bytes=input_bytes,
            output_bytes=output_bytes,
        )

        graph_block.additional_properties = d
        return graph_block

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
