from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="BudgetChange")


@_attrs_define
class BudgetChange:
    """
    Attributes:
        at (datetime.datetime):
        budget_id (str):
        edges (Any): [{device_id, name, share, rate}]; rate null: no limit there
        reason (str):
        deployment (None | Unset | UUID): The deployment it was set for
    """

    at: datetime.datetime
    budget_id: str
    edges: Any
    reason: str
    deployment: None | Unset | UUID = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        at = self.at.isoformat()

        budget_id = self.budget_id

        edges = self.edges

        reason = self.reason

        deployment: None | str | Unset
        if isinstance(self.deployment, Unset):
            deployment = UNSET
        elif isinstance(self.deployment, UUID):
            deployment = str(self.deployment)
        else:
            deployment = self.deployment

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "at": at,
                "budget_id": budget_id,
                "edges": edges,
                "reason": reason,
            }
        )
        if deployment is not UNSET:
            field_dict["deployment"] = deployment

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        at = datetime.datetime.fromisoformat(d.pop("at"))

        budget_id = d.pop("budget_id")

        edges = d.pop("edges")

        reason = d.pop("reason")

        def _parse_deployment(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                deployment_type_0 = UUID(data)

                return deployment_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        deployment = _parse_deployment(d.pop("deployment", UNSET))

        budget_change = cls(
            at=at,
            budget_id=budget_id,
            edges=edges,
            reason=reason,
            deployment=deployment,
        )

        budget_change.additional_properties = d
        return budget_change

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
