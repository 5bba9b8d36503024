from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.agent_enroll_request_inventory import AgentEnrollRequestInventory


T = TypeVar("T", bound="AgentEnrollRequest")


@_attrs_define
class AgentEnrollRequest:
    """
    Attributes:
        token (str):
        name (str):
        profile (None | str | Unset):
        inventory (AgentEnrollRequestInventory | Unset):
    """

    token: str
    name: str
    profile: None | str | Unset = UNSET
    inventory: AgentEnrollRequestInventory | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        token = self.token

        name = self.name

        profile: None | str | Unset
        if isinstance(self.profile, Unset):
            profile = UNSET
        else:
            profile = self.profile

        inventory: dict[str, Any] | Unset = UNSET
        if not isinstance(self.inventory, Unset):
            inventory = self.inventory.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "token": token,
                "name": name,
            }
        )
        if profile is not UNSET:
            field_dict["profile"] = profile
        if inventory is not UNSET:
            field_dict["inventory"] = inventory

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.agent_enroll_request_inventory import AgentEnrollRequestInventory  # noqa: PLC0415

        d = dict(src_dict)
        token = d.pop("token")

        name = d.pop("name")

        def _parse_profile(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        profile = _parse_profile(d.pop("profile", UNSET))

        _inventory = d.pop("inventory", UNSET)
        inventory: AgentEnrollRequestInventory | Unset
        if isinstance(_inventory, Unset):
            inventory = UNSET
        else:
            inventory = AgentEnrollRequestInventory.from_dict(_inventory)

        agent_enroll_request = cls(
            token=token,
            name=name,
            profile=profile,
            inventory=inventory,
        )

        agent_enroll_request.additional_properties = d
        return agent_enroll_request

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
