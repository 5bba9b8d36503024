from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="GraphEdge")


@_attrs_define
class GraphEdge:
    """
    Attributes:
        source (str):
        target (str):
        tensor (str):
        bytes_ (int | None):
        cut (int | None): The cut point this tensor crosses, if any
    """

    source: str
    target: str
    tensor: str
    bytes_: int | None
    cut: int | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        source = self.source

        target = self.target

        tensor = self.tensor

        bytes_: int | None
        bytes_ = self.bytes_

        cut: int | None
        cut = self.cut

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "source": source,
                "target": target,
                "tensor": tensor,
                "bytes": bytes_,
                "cut": cut,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        source = d.pop("source")

        target = d.pop("target")

        tensor = d.pop("tensor")

        def _parse_bytes_(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        bytes_ = _parse_bytes_(d.pop("bytes"))

        def _parse_cut(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        cut = _parse_cut(d.pop("cut"))

        graph_edge = cls(
            source=source,
            target=target,
            tensor=tensor,
            bytes_=bytes_,
            cut=cut,
        )

        graph_edge.additional_properties = d
        return graph_edge

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
