from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="Alternative")


@_attrs_define
class Alternative:
    """
    Attributes:
        description (str):
        latency (float | None):
        throughput (float | None):
    """

    description: str
    latency: float | None
    throughput: float | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        description = self.description

        latency: float | None
        latency = self.latency

        throughput: float | None
        throughput = self.throughput

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "description": description,
                "latency": latency,
                "throughput": throughput,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        description = d.pop("description")

        def _parse_latency(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        latency = _parse_latency(d.pop("latency"))

        def _parse_throughput(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        throughput = _parse_throughput(d.pop("throughput"))

        alternative = cls(
            description=description,
            latency=latency,
            throughput=throughput,
        )

        alternative.additional_properties = d
        return alternative

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
