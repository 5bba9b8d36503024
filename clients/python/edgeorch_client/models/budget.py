from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.budget_edge import BudgetEdge


T = TypeVar("T", bound="Budget")


@_attrs_define
class Budget:
    """The coordinator's budget for a session's source (docs/qos.md, "Budgets").

    Attributes:
        id (str | Unset):
        deployment (str | Unset): The deployment it was set for
        edges (list[BudgetEdge] | Unset): An edge not listed: not allowed
        reason (str | Unset):
        at (datetime.datetime | Unset):
    """

    id: str | Unset = UNSET
    deployment: str | Unset = UNSET
    edges: list[BudgetEdge] | Unset = UNSET
    reason: str | Unset = UNSET
    at: datetime.datetime | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        deployment = self.deployment

        edges: list[dict[str, Any]] | Unset = UNSET
        if not isinstance(self.edges, Unset):
            edges = []
            for edges_item_data in self.edges:
                edges_item = edges_item_data.to_dict()
                edges.append(edges_item)

        reason = self.reason

        at: str | Unset = UNSET
        if not isinstance(self.at, Unset):
            at = self.at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if id is not UNSET:
            field_dict["id"] = id
        if deployment is not UNSET:
            field_dict["deployment"] = deployment
        if edges is not UNSET:
            field_dict["edges"] = edges
        if reason is not UNSET:
            field_dict["reason"] = reason
        if at is not UNSET:
            field_dict["at"] = at

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.budget_edge import BudgetEdge  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id", UNSET)

        deployment = d.pop("deployment", UNSET)

        _edges = d.pop("edges", UNSET)
        edges: list[BudgetEdge] | Unset = UNSET
        if _edges is not UNSET:
            edges = []
            for edges_item_data in _edges:
                edges_item = BudgetEdge.from_dict(edges_item_data)

                edges.append(edges_item)

        reason = d.pop("reason", UNSET)

        _at = d.pop("at", UNSET)
        at: datetime.datetime | Unset
        if isinstance(_at, Unset):
            at = UNSET
        else:
            at = datetime.datetime.fromisoformat(_at)

        budget = cls(
            id=id,
            deployment=deployment,
            edges=edges,
            reason=reason,
            at=at,
        )

        budget.additional_properties = d
        return budget

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
