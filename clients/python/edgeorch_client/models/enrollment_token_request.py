from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.device_role import DeviceRole
from ..types import UNSET, Unset

T = TypeVar("T", bound="EnrollmentTokenRequest")


@_attrs_define
class EnrollmentTokenRequest:
    """
    Attributes:
        name (str | Unset):
        max_uses (int | Unset):
        profile (str | Unset): Device profile given to devices it enrolls
        role (DeviceRole | Unset): * `end` - End device
            * `edge` - Edge server
        ttl_hours (float | Unset):  Default: 24.0.
    """

    name: str | Unset = UNSET
    max_uses: int | Unset = UNSET
    profile: str | Unset = UNSET
    role: DeviceRole | Unset = UNSET
    ttl_hours: float | Unset = 24.0
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        max_uses = self.max_uses

        profile = self.profile

        role: str | Unset = UNSET
        if not isinstance(self.role, Unset):
            role = self.role.value

        ttl_hours = self.ttl_hours

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if name is not UNSET:
            field_dict["name"] = name
        if max_uses is not UNSET:
            field_dict["max_uses"] = max_uses
        if profile is not UNSET:
            field_dict["profile"] = profile
        if role is not UNSET:
            field_dict["role"] = role
        if ttl_hours is not UNSET:
            field_dict["ttl_hours"] = ttl_hours

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name", UNSET)

        max_uses = d.pop("max_uses", UNSET)

        profile = d.pop("profile", UNSET)

        _role = d.pop("role", UNSET)
        role: DeviceRole | Unset
        if isinstance(_role, Unset):
            role = UNSET
        else:
            role = DeviceRole(_role)

        ttl_hours = d.pop("ttl_hours", UNSET)

        enrollment_token_request = cls(
            name=name,
            max_uses=max_uses,
            profile=profile,
            role=role,
            ttl_hours=ttl_hours,
        )

        enrollment_token_request.additional_properties = d
        return enrollment_token_request

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
