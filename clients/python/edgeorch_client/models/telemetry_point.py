from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="TelemetryPoint")


@_attrs_define
class TelemetryPoint:
    """One bucket: the mean ``value`` of ``n`` samples from ``t``, with their ``min`` and ``max``.

    Attributes:
        t (datetime.datetime):
        value (float):
        min_ (float):
        max_ (float):
        n (int):
    """

    t: datetime.datetime
    value: float
    min_: float
    max_: float
    n: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        t = self.t.isoformat()

        value = self.value

        min_ = self.min_

        max_ = self.max_

        n = self.n

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "t": t,
                "value": value,
                "min": min_,
                "max": max_,
                "n": n,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        t = datetime.datetime.fromisoformat(d.pop("t"))

        value = d.pop("value")

        min_ = d.pop("min")

        max_ = d.pop("max")

        n = d.pop("n")

        telemetry_point = cls(
            t=t,
            value=value,
            min_=min_,
            max_=max_,
            n=n,
        )

        telemetry_point.additional_properties = d
        return telemetry_point

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
