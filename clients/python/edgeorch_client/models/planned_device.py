from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.planned_device_power_type_0 import PlannedDevicePowerType0


T = TypeVar("T", bound="PlannedDevice")


@_attrs_define
class PlannedDevice:
    """
    Attributes:
        id (str):
        name (str):
        role (str):
        status (str):
        online (bool):
        times (str | Unset): measured, predicted or estimated
        detail (str | Unset):
        throttle (float | Unset):
        queue (int | Unset):
        power (None | PlannedDevicePowerType0 | Unset): {idle_w, busy_w}
    """

    id: str
    name: str
    role: str
    status: str
    online: bool
    times: str | Unset = UNSET
    detail: str | Unset = UNSET
    throttle: float | Unset = UNSET
    queue: int | Unset = UNSET
    power: None | PlannedDevicePowerType0 | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.planned_device_power_type_0 import PlannedDevicePowerType0  # noqa: PLC0415

        id = self.id

        name = self.name

        role = self.role

        status = self.status

        online = self.online

        times = self.times

        detail = self.detail

        throttle = self.throttle

        queue = self.queue

        power: dict[str, Any] | None | Unset
        if isinstance(self.power, Unset):
            power = UNSET
        elif isinstance(self.power, PlannedDevicePowerType0):
            power = self.power.to_dict()
        else:
            power = self.power

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "name": name,
                "role": role,
                "status": status,
                "online": online,
            }
        )
        if times is not UNSET:
            field_dict["times"] = times
        if detail is not UNSET:
            field_dict["detail"] = detail
        if throttle is not UNSET:
            field_dict["throttle"] = throttle
        if queue is not UNSET:
            field_dict["queue"] = queue
        if power is not UNSET:
            field_dict["power"] = power

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.planned_device_power_type_0 import PlannedDevicePowerType0  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        name = d.pop("name")

        role = d.pop("role")

        status = d.pop("status")

        online = d.pop("online")

        times = d.pop("times", UNSET)

        detail = d.pop("detail", UNSET)

        throttle = d.pop("throttle", UNSET)

        queue = d.pop("queue", UNSET)

        def _parse_power(data: object) -> None | PlannedDevicePowerType0 | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                power_type_0 = PlannedDevicePowerType0.from_dict(data)

                return power_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | PlannedDevicePowerType0 | Unset, data)

        power = _parse_power(d.pop("power", UNSET))

        planned_device = cls(
            id=id,
            name=name,
            role=role,
            status=status,
            online=online,
            times=times,
            detail=detail,
            throttle=throttle,
            queue=queue,
            power=power,
        )

        planned_device.additional_properties = d
        return planned_device

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
