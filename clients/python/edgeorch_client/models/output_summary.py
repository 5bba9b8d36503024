from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="OutputSummary")


@_attrs_define
class OutputSummary:
    """The last stage's first output: its name, shape, dtype and best classes ``[[class, score], ...]``.

    Attributes:
        name (str | Unset):
        shape (list[int] | Unset):
        dtype (str | Unset):
        top_k (list[list[float]] | Unset):
    """

    name: str | Unset = UNSET
    shape: list[int] | Unset = UNSET
    dtype: str | Unset = UNSET
    top_k: list[list[float]] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        shape: list[int] | Unset = UNSET
        if not isinstance(self.shape, Unset):
            shape = self.shape

        dtype = self.dtype

        top_k: list[list[float]] | Unset = UNSET
        if not isinstance(self.top_k, Unset):
            top_k = []
            for top_k_item_data in self.top_k:
                top_k_item = top_k_item_data

                top_k.append(top_k_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if name is not UNSET:
            field_dict["name"] = name
        if shape is not UNSET:
            field_dict["shape"] = shape
        if dtype is not UNSET:
            field_dict["dtype"] = dtype
        if top_k is not UNSET:
            field_dict["top_k"] = top_k

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name", UNSET)

        shape = cast(list[int], d.pop("shape", UNSET))

        dtype = d.pop("dtype", UNSET)

        _top_k = d.pop("top_k", UNSET)
        top_k: list[list[float]] | Unset = UNSET
        if _top_k is not UNSET:
            top_k = []
            for top_k_item_data in _top_k:
                top_k_item = cast(list[float], top_k_item_data)

                top_k.append(top_k_item)

        output_summary = cls(
            name=name,
            shape=shape,
            dtype=dtype,
            top_k=top_k,
        )

        output_summary.additional_properties = d
        return output_summary

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
