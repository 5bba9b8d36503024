from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="GraphCut")


@_attrs_define
class GraphCut:
    """
    Attributes:
        index (int):
        kind (str):
        tensors (list[str]):
        bytes_ (int | None):
        recommended (bool):
        fusion_penalty (float):
    """

    index: int
    kind: str
    tensors: list[str]
    bytes_: int | None
    recommended: bool
    fusion_penalty: float
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        index = self.index

        kind = self.kind

        tensors = self.tensors

        bytes_: int | None
        bytes_ = self.bytes_

        recommended = self.recommended

        fusion_penalty = self.fusion_penalty

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "index": index,
                "kind": kind,
                "tensors": tensors,
                "bytes": bytes_,
                "recommended": recommended,
                "fusion_penalty": fusion_penalty,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        index = d.pop("index")

        kind = d.pop("kind")

        tensors = cast(list[str], d.pop("tensors"))

        def _parse_bytes_(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        bytes_ = _parse_bytes_(d.pop("bytes"))

        recommended = d.pop("recommended")

        fusion_penalty = d.pop("fusion_penalty")

        graph_cut = cls(
            index=index,
            kind=kind,
            tensors=tensors,
            bytes_=bytes_,
            recommended=recommended,
            fusion_penalty=fusion_penalty,
        )

        graph_cut.additional_properties = d
        return graph_cut

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
