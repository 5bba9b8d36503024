from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.device_role import DeviceRole
from ..types import UNSET, Unset

T = TypeVar("T", bound="EnrollmentToken")


@_attrs_define
class EnrollmentToken:
    """
    Attributes:
        id (int):
        prefix (str): First characters, to tell tokens apart
        uses (int):
        expires_at (datetime.datetime):
        revoked (bool):
        usable (bool):
        created_at (datetime.datetime):
        name (str | Unset):
        max_uses (int | Unset):
        profile (str | Unset): Device profile given to devices it enrolls
        role (DeviceRole | Unset): * `end` - End device
            * `edge` - Edge server
    """

    id: int
    prefix: str
    uses: int
    expires_at: datetime.datetime
    revoked: bool
    usable: bool
    created_at: datetime.datetime
    name: str | Unset = UNSET
    max_uses: int | Unset = UNSET
    profile: str | Unset = UNSET
    role: DeviceRole | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        prefix = self.prefix

        uses = self.uses

        expires_at = self.expires_at.isoformat()

        revoked = self.revoked

        usable = self.usable

        created_at = self.created_at.isoformat()

        name = self.name

        max_uses = self.max_uses

        profile = self.profile

        role: str | Unset = UNSET
        if not isinstance(self.role, Unset):
            role = self.role.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "prefix": prefix,
                "uses": uses,
                "expires_at": expires_at,
                "revoked": revoked,
                "usable": usable,
                "created_at": created_at,
            }
        )
        if name is not UNSET:
            field_dict["name"] = name
        if max_uses is not UNSET:
            field_dict["max_uses"] = max_uses
        if profile is not UNSET:
            field_dict["profile"] = profile
        if role is not UNSET:
            field_dict["role"] = role

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        prefix = d.pop("prefix")

        uses = d.pop("uses")

        expires_at = datetime.datetime.fromisoformat(d.pop("expires_at"))

        revoked = d.pop("revoked")

        usable = d.pop("usable")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        name = d.pop("name", UNSET)

        max_uses = d.pop("max_uses", UNSET)

        profile = d.pop("profile", UNSET)

        _role = d.pop("role", UNSET)
        role: DeviceRole | Unset
        if isinstance(_role, Unset):
            role = UNSET
        else:
            role = DeviceRole(_role)

        enrollment_token = cls(
            id=id,
            prefix=prefix,
            uses=uses,
            expires_at=expires_at,
            revoked=revoked,
            usable=usable,
            created_at=created_at,
            name=name,
            max_uses=max_uses,
            profile=profile,
            role=role,
        )

        enrollment_token.additional_properties = d
        return enrollment_token

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
