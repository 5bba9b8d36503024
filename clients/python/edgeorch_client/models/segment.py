from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="Segment")


@_attrs_define
class Segment:
    """
    Attributes:
        index (int):
        sha256 (str):
        size_bytes (int):
        inputs (Any):
        outputs (Any):
        url (str):
        delivers (Any | Unset): Graph outputs this segment produces
    """

    index: int
    sha256: str
    size_bytes: int
    inputs: Any
    outputs: Any
    url: str
    delivers: Any | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        index = self.index

        sha256 = self.sha256

        size_bytes = self.size_bytes

        inputs = self.inputs

        outputs = self.outputs

        url = self.url

        delivers = self.delivers

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "index": index,
                "sha256": sha256,
                "size_bytes": size_bytes,
                "inputs": inputs,
                "outputs": outputs,
                "url": url,
            }
        )
        if delivers is not UNSET:
            field_dict["delivers"] = delivers

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        index = d.pop("index")

        sha256 = d.pop("sha256")

        size_bytes = d.pop("size_bytes")

        inputs = d.pop("inputs")

        outputs = d.pop("outputs")

        url = d.pop("url")

        delivers = d.pop("delivers", UNSET)

        segment = cls(
            index=index,
            sha256=sha256,
            size_bytes=size_bytes,
            inputs=inputs,
            outputs=outputs,
            url=url,
            delivers=delivers,
        )

        segment.additional_properties = d
        return segment

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
