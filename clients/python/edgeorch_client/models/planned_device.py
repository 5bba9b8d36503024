from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

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
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        name = self.name

        role = self.role

        status = self.status

        online = self.online

        times = self.times

        detail = self.detail

        throttle = self.throttle

        queue = self.queue

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

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
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
