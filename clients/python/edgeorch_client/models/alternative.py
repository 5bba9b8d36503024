from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="Alternative")


@_attrs_define
class Alternative:
    """
    Attributes:
        description (str):
        latency (float | None):
        throughput (float | None):
        energy (float | None | Unset): J of the source device
    """

    description: str
    latency: float | None
    throughput: float | None
    energy: float | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        description = self.description

        latency: float | None
        latency = self.latency

        throughput: float | None
        throughput = self.throughput

        energy: float | None | Unset
        if isinstance(self.energy, Unset):
            energy = UNSET
        else:
            energy = self.energy

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "description": description,
                "latency": latency,
                "throughput": throughput,
            }
        )
        if energy is not UNSET:
            field_dict["energy"] = energy

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

        def _parse_energy(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        energy = _parse_energy(d.pop("energy", UNSET))

        alternative = cls(
            description=description,
            latency=latency,
            throughput=throughput,
            energy=energy,
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
