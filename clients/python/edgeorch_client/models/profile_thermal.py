from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="ProfileThermal")


@_attrs_define
class ProfileThermal:
    """
    Attributes:
        ambient_c (float):
        r_c_per_w (float): Thermal resistance: steady-state °C above ambient per W.
        tau_s (float): Time constant of the first-order (RC) model.
        throttle_at_c (float):
        max_c (float):
        clock_floor (float): Clock fraction at max_c (linear from 1 at throttle_at_c).
    """

    ambient_c: float
    r_c_per_w: float
    tau_s: float
    throttle_at_c: float
    max_c: float
    clock_floor: float
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        ambient_c = self.ambient_c

        r_c_per_w = self.r_c_per_w

        tau_s = self.tau_s

        throttle_at_c = self.throttle_at_c

        max_c = self.max_c

        clock_floor = self.clock_floor

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "ambient_c": ambient_c,
                "r_c_per_w": r_c_per_w,
                "tau_s": tau_s,
                "throttle_at_c": throttle_at_c,
                "max_c": max_c,
                "clock_floor": clock_floor,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        ambient_c = d.pop("ambient_c")

        r_c_per_w = d.pop("r_c_per_w")

        tau_s = d.pop("tau_s")

        throttle_at_c = d.pop("throttle_at_c")

        max_c = d.pop("max_c")

        clock_floor = d.pop("clock_floor")

        profile_thermal = cls(
            ambient_c=ambient_c,
            r_c_per_w=r_c_per_w,
            tau_s=tau_s,
            throttle_at_c=throttle_at_c,
            max_c=max_c,
            clock_floor=clock_floor,
        )

        profile_thermal.additional_properties = d
        return profile_thermal

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
