from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="TopologyDevice")


@_attrs_define
class TopologyDevice:
    """
    Attributes:
        id (str):
        name (str):
        status (str):
        role (str):
        source (bool): The source: it captures each frame and gets its result
        stages (list[int]): The stages it runs
    """

    id: str
    name: str
    status: str
    role: str
    source: bool
    stages: list[int]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        name = self.name

        status = self.status

        role = self.role

        source = self.source

        stages = self.stages

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "name": name,
                "status": status,
                "role": role,
                "source": source,
                "stages": stages,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        name = d.pop("name")

        status = d.pop("status")

        role = d.pop("role")

        source = d.pop("source")

        stages = cast(list[int], d.pop("stages"))

        topology_device = cls(
            id=id,
            name=name,
            status=status,
            role=role,
            source=source,
            stages=stages,
        )

        topology_device.additional_properties = d
        return topology_device

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
