from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="LinkOverrideRequest")


@_attrs_define
class LinkOverrideRequest:
    """
    Attributes:
        a (str): A device: id or name
        b (str): The other device: id or name
        bandwidth_bps (float | Unset): bits/s
        rtt_ms (float | Unset):
        radio (str | Unset): wifi, lte or ethernet: the energy model's link type
    """

    a: str
    b: str
    bandwidth_bps: float | Unset = UNSET
    rtt_ms: float | Unset = UNSET
    radio: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        a = self.a

        b = self.b

        bandwidth_bps = self.bandwidth_bps

        rtt_ms = self.rtt_ms

        radio = self.radio

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "a": a,
                "b": b,
            }
        )
        if bandwidth_bps is not UNSET:
            field_dict["bandwidth_bps"] = bandwidth_bps
        if rtt_ms is not UNSET:
            field_dict["rtt_ms"] = rtt_ms
        if radio is not UNSET:
            field_dict["radio"] = radio

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        a = d.pop("a")

        b = d.pop("b")

        bandwidth_bps = d.pop("bandwidth_bps", UNSET)

        rtt_ms = d.pop("rtt_ms", UNSET)

        radio = d.pop("radio", UNSET)

        link_override_request = cls(
            a=a,
            b=b,
            bandwidth_bps=bandwidth_bps,
            rtt_ms=rtt_ms,
            radio=radio,
        )

        link_override_request.additional_properties = d
        return link_override_request

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
