from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.device_role import DeviceRole
from ..types import UNSET, Unset

T = TypeVar("T", bound="PatchedDeviceRequest")


@_attrs_define
class PatchedDeviceRequest:
    """
    Attributes:
        name (str | Unset):
        role (DeviceRole | Unset): * `end` - End device
            * `edge` - Edge server
        profile (str | Unset):
        tags (list[str] | Unset): The operator's labels (at most 16; a tag is 1 to 32 letters, digits or . - _ :
            (starting with a letter or digit)); PATCH replaces the list
    """

    name: str | Unset = UNSET
    role: DeviceRole | Unset = UNSET
    profile: str | Unset = UNSET
    tags: list[str] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        role: str | Unset = UNSET
        if not isinstance(self.role, Unset):
            role = self.role.value

        profile = self.profile

        tags: list[str] | Unset = UNSET
        if not isinstance(self.tags, Unset):
            tags = self.tags

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if name is not UNSET:
            field_dict["name"] = name
        if role is not UNSET:
            field_dict["role"] = role
        if profile is not UNSET:
            field_dict["profile"] = profile
        if tags is not UNSET:
            field_dict["tags"] = tags

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name", UNSET)

        _role = d.pop("role", UNSET)
        role: DeviceRole | Unset
        if isinstance(_role, Unset):
            role = UNSET
        else:
            role = DeviceRole(_role)

        profile = d.pop("profile", UNSET)

        tags = cast(list[str], d.pop("tags", UNSET))

        patched_device_request = cls(
            name=name,
            role=role,
            profile=profile,
            tags=tags,
        )

        patched_device_request.additional_properties = d
        return patched_device_request

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
