from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="PlannedLink")


@_attrs_define
class PlannedLink:
    """
    Attributes:
        a (str):
        b (str):
        a_name (str):
        b_name (str):
        bandwidth_bps (float):
        rtt_ms (float):
        loss (float):
        source (str): measured, assumed or override
        radio (str | Unset): wifi, lte or ethernet (energy model)
        radio_source (str | Unset): assumed or override
    """

    a: str
    b: str
    a_name: str
    b_name: str
    bandwidth_bps: float
    rtt_ms: float
    loss: float
    source: str
    radio: str | Unset = UNSET
    radio_source: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        a = self.a

        b = self.b

        a_name = self.a_name

        b_name = self.b_name

        bandwidth_bps = self.bandwidth_bps

        rtt_ms = self.rtt_ms

        loss = self.loss

        source = self.source

        radio = self.radio

        radio_source = self.radio_source

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "a": a,
                "b": b,
                "a_name": a_name,
                "b_name": b_name,
                "bandwidth_bps": bandwidth_bps,
                "rtt_ms": rtt_ms,
                "loss": loss,
                "source": source,
            }
        )
        if radio is not UNSET:
            field_dict["radio"] = radio
        if radio_source is not UNSET:
            field_dict["radio_source"] = radio_source

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        a = d.pop("a")

        b = d.pop("b")

        a_name = d.pop("a_name")

        b_name = d.pop("b_name")

        bandwidth_bps = d.pop("bandwidth_bps")

        rtt_ms = d.pop("rtt_ms")

        loss = d.pop("loss")

        source = d.pop("source")

        radio = d.pop("radio", UNSET)

        radio_source = d.pop("radio_source", UNSET)

        planned_link = cls(
            a=a,
            b=b,
            a_name=a_name,
            b_name=b_name,
            bandwidth_bps=bandwidth_bps,
            rtt_ms=rtt_ms,
            loss=loss,
            source=source,
            radio=radio,
            radio_source=radio_source,
        )

        planned_link.additional_properties = d
        return planned_link

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
