from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.cut_kind import CutKind
from ..types import UNSET, Unset

T = TypeVar("T", bound="CutPoint")


@_attrs_define
class CutPoint:
    """
    Attributes:
        index (int):
        tensors (Any): The crossing tensors: [{name, shape, dtype, bytes}]
        macs_before (int):
        macs_after (int):
        position (int): Position in the analysis order after which it cuts
        kind (CutKind | Unset): * `single` - One tensor crosses
            * `pair` - Two tensors cross
        bytes_ (int | None | Unset):
        fusion_penalty (float | Unset): Estimated extra compute of a split here, a fraction of the whole model's
            (catalog.fusion)
        recommended (bool | Unset): Breaks no onnxruntime fusion and costs little to split at (catalog.fusion)
        fusion_note (str | Unset): The fusion a split here breaks
    """

    index: int
    tensors: Any
    macs_before: int
    macs_after: int
    position: int
    kind: CutKind | Unset = UNSET
    bytes_: int | None | Unset = UNSET
    fusion_penalty: float | Unset = UNSET
    recommended: bool | Unset = UNSET
    fusion_note: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        index = self.index

        tensors = self.tensors

        macs_before = self.macs_before

        macs_after = self.macs_after

        position = self.position

        kind: str | Unset = UNSET
        if not isinstance(self.kind, Unset):
            kind = self.kind.value

        bytes_: int | None | Unset
        if isinstance(self.bytes_, Unset):
            bytes_ = UNSET
        else:
            bytes_ = self.bytes_

        fusion_penalty = self.fusion_penalty

        recommended = self.recommended

        fusion_note = self.fusion_note

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "index": index,
                "tensors": tensors,
                "macs_before": macs_before,
                "macs_after": macs_after,
                "position": position,
            }
        )
        if kind is not UNSET:
            field_dict["kind"] = kind
        if bytes_ is not UNSET:
            field_dict["bytes"] = bytes_
        if fusion_penalty is not UNSET:
            field_dict["fusion_penalty"] = fusion_penalty
        if recommended is not UNSET:
            field_dict["recommended"] = recommended
        if fusion_note is not UNSET:
            field_dict["fusion_note"] = fusion_note

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        index = d.pop("index")

        tensors = d.pop("tensors")

        macs_before = d.pop("macs_before")

        macs_after = d.pop("macs_after")

        position = d.pop("position")

        _kind = d.pop("kind", UNSET)
        kind: CutKind | Unset
        if isinstance(_kind, Unset):
            kind = UNSET
        else:
            kind = CutKind(_kind)

        def _parse_bytes_(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        bytes_ = _parse_bytes_(d.pop("bytes", UNSET))

        fusion_penalty = d.pop("fusion_penalty", UNSET)

        recommended = d.pop("recommended", UNSET)

        fusion_note = d.pop("fusion_note", UNSET)

        cut_point = cls(
            index=index,
            tensors=tensors,
            macs_before=macs_before,
            macs_after=macs_after,
            position=position,
            kind=kind,
            bytes_=bytes_,
            fusion_penalty=fusion_penalty,
            recommended=recommended,
            fusion_note=fusion_note,
        )

        cut_point.additional_properties = d
        return cut_point

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
