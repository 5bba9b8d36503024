from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="DeviceEnergy")


@_attrs_define
class DeviceEnergy:
    """
    Attributes:
        device (str):
        compute (float): J: busy power x its compute seconds
        radio (float): J: its radio sending and receiving (and waking)
        idle (float): J: idle power while it waits (the source only)
        total (float):
        known (bool): False: no power model, compute and idle not counted
    """

    device: str
    compute: float
    radio: float
    idle: float
    total: float
    known: bool
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        device = self.device

        compute = self.compute

        radio = self.radio

        idle = self.idle

        total = self.total

        known = self.known

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "device": device,
                "compute": compute,
                "radio": radio,
                "idle": idle,
                "total": total,
                "known": known,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        device = d.pop("device")

        compute = d.pop("compute")

        radio = d.pop("radio")

        idle = d.pop("idle")

        total = d.pop("total")

        known = d.pop("known")

        device_energy = cls(
            device=device,
            compute=compute,
            radio=radio,
            idle=idle,
            total=total,
            known=known,
        )

        device_energy.additional_properties = d
        return device_energy

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
