from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.device_energy import DeviceEnergy


T = TypeVar("T", bound="Energy")


@_attrs_define
class Energy:
    """The source device's joules per inference:
    ``total = compute + radio + idle = input + sum(stage.energy)`` (docs/energy.md).

        Attributes:
            device (str): The source device
            total (float | None): J; null: the source has no power model
            compute (float | None):
            radio (float):
            idle (float | None):
            input_ (float | None): J during the input transfer
            devices (list[DeviceEnergy]):
    """

    device: str
    total: float | None
    compute: float | None
    radio: float
    idle: float | None
    input_: float | None
    devices: list[DeviceEnergy]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        device = self.device

        total: float | None
        total = self.total

        compute: float | None
        compute = self.compute

        radio = self.radio

        idle: float | None
        idle = self.idle

        input_: float | None
        input_ = self.input_

        devices = []
        for devices_item_data in self.devices:
            devices_item = devices_item_data.to_dict()
            devices.append(devices_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "device": device,
                "total": total,
                "compute": compute,
                "radio": radio,
                "idle": idle,
                "input": input_,
                "devices": devices,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.device_energy import DeviceEnergy  # noqa: PLC0415

        d = dict(src_dict)
        device = d.pop("device")

        def _parse_total(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        total = _parse_total(d.pop("total"))

        def _parse_compute(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        compute = _parse_compute(d.pop("compute"))

        radio = d.pop("radio")

        def _parse_idle(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        idle = _parse_idle(d.pop("idle"))

        def _parse_input_(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        input_ = _parse_input_(d.pop("input"))

        devices = []
        _devices = d.pop("devices")
        for devices_item_data in _devices:
            devices_item = DeviceEnergy.from_dict(devices_item_data)

            devices.append(devices_item)

        energy = cls(
            device=device,
            total=total,
            compute=compute,
            radio=radio,
            idle=idle,
            input_=input_,
            devices=devices,
        )

        energy.additional_properties = d
        return energy

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
