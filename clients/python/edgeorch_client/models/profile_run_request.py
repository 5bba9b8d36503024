from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="ProfileRunRequest")


@_attrs_define
class ProfileRunRequest:
    """
    Attributes:
        model (str): Model id, or name (newest version)
        warmup (int | Unset):  Default: 2.
        repeats (int | Unset):  Default: 10.
    """

    model: str
    warmup: int | Unset = 2
    repeats: int | Unset = 10
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        model = self.model

        warmup = self.warmup

        repeats = self.repeats

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "model": model,
            }
        )
        if warmup is not UNSET:
            field_dict["warmup"] = warmup
        if repeats is not UNSET:
            field_dict["repeats"] = repeats

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        model = d.pop("model")

        warmup = d.pop("warmup", UNSET)

        repeats = d.pop("repeats", UNSET)

        profile_run_request = cls(
            model=model,
            warmup=warmup,
            repeats=repeats,
        )

        profile_run_request.additional_properties = d
        return profile_run_request

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
