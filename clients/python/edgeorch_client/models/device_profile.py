from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.device_role import DeviceRole

if TYPE_CHECKING:
    from ..models.profile_power import ProfilePower
    from ..models.profile_thermal import ProfileThermal
    from ..models.profile_unit import ProfileUnit


T = TypeVar("T", bound="DeviceProfile")


@_attrs_define
class DeviceProfile:
    """
    Attributes:
        name (str):
        description (str):
        speed (float): Compute-time multiplier relative to the agent's host.
        units (list[ProfileUnit]):
        memory_limit_bytes (int | None):
        power (None | ProfilePower):
        thermal (None | ProfileThermal):
        class_ (DeviceRole): * `end` - End device
            * `edge` - Edge server
    """

    name: str
    description: str
    speed: float
    units: list[ProfileUnit]
    memory_limit_bytes: int | None
    power: None | ProfilePower
    thermal: None | ProfileThermal
    class_: DeviceRole
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.profile_power import ProfilePower  # noqa: PLC0415
        from ..models.profile_thermal import ProfileThermal  # noqa: PLC0415

        name = self.name

        description = self.description

        speed = self.speed

        units = []
        for units_item_data in self.units:
            units_item = units_item_data.to_dict()
            units.append(units_item)

        memory_limit_bytes: int | None
        memory_limit_bytes = self.memory_limit_bytes

        power: dict[str, Any] | None
        if isinstance(self.power, ProfilePower):
            power = self.power.to_dict()
        else:
            power = self.power

        thermal: dict[str, Any] | None
        if isinstance(self.thermal, ProfileThermal):
            thermal = self.thermal.to_dict()
        else:
            thermal = self.thermal

        class_ = self.class_.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "name": name,
                "description": description,
                "speed": speed,
                "units": units,
                "memory_limit_bytes": memory_limit_bytes,
                "power": power,
                "thermal": thermal,
                "class": class_,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.profile_power import ProfilePower  # noqa: PLC0415
        from ..models.profile_thermal import ProfileThermal  # noqa: PLC0415
        from ..models.profile_unit import ProfileUnit  # noqa: PLC0415

        d = dict(src_dict)
        name = d.pop("name")

        description = d.pop("description")

        speed = d.pop("speed")

        units = []
        _units = d.pop("units")
        for units_item_data in _units:
            units_item = ProfileUnit.from_dict(units_item_data)

            units.append(units_item)

        def _parse_memory_limit_bytes(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        memory_limit_bytes = _parse_memory_limit_bytes(d.pop("memory_limit_bytes"))

        def _parse_power(data: object) -> None | ProfilePower:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                power_type_1 = ProfilePower.from_dict(data)

                return power_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | ProfilePower, data)

        power = _parse_power(d.pop("power"))

        def _parse_thermal(data: object) -> None | ProfileThermal:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                thermal_type_1 = ProfileThermal.from_dict(data)

                return thermal_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | ProfileThermal, data)

        thermal = _parse_thermal(d.pop("thermal"))

        class_ = DeviceRole(d.pop("class"))

        device_profile = cls(
            name=name,
            description=description,
            speed=speed,
            units=units,
            memory_limit_bytes=memory_limit_bytes,
            power=power,
            thermal=thermal,
            class_=class_,
        )

        device_profile.additional_properties = d
        return device_profile

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
