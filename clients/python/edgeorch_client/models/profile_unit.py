from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.compute_unit import ComputeUnit

T = TypeVar("T", bound="ProfileUnit")


@_attrs_define
class ProfileUnit:
    """
    Attributes:
        name (ComputeUnit): * `cpu` - cpu
            * `gpu` - gpu
            * `npu` - npu
        speed (float): Multiplies the profile's speed for work on this unit.
        shm_bandwidth_bps (float): Bits/s of a hand-over between two units.
    """

    name: ComputeUnit
    speed: float
    shm_bandwidth_bps: float
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name.value

        speed = self.speed

        shm_bandwidth_bps = self.shm_bandwidth_bps

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "name": name,
                "speed": speed,
                "shm_bandwidth_bps": shm_bandwidth_bps,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = ComputeUnit(d.pop("name"))

        speed = d.pop("speed")

        shm_bandwidth_bps = d.pop("shm_bandwidth_bps")

        profile_unit = cls(
            name=name,
            speed=speed,
            shm_bandwidth_bps=shm_bandwidth_bps,
        )

        profile_unit.additional_properties = d
        return profile_unit

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
