from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="PlanSwitch")


@_attrs_define
class PlanSwitch:
    """
    Attributes:
        at (datetime.datetime):
        after_frame (int): The last frame reported before the switch
        reason (str):
        old_plan (str):
        new_plan (str):
        predicted_old_s (float): The old placement's latency under the new conditions
        predicted_new_s (float):
        old_deployment (None | Unset | UUID):
        new_deployment (None | Unset | UUID):
    """

    at: datetime.datetime
    after_frame: int
    reason: str
    old_plan: str
    new_plan: str
    predicted_old_s: float
    predicted_new_s: float
    old_deployment: None | Unset | UUID = UNSET
    new_deployment: None | Unset | UUID = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        at = self.at.isoformat()

        after_frame = self.after_frame

        reason = self.reason

        old_plan = self.old_plan

        new_plan = self.new_plan

        predicted_old_s = self.predicted_old_s

        predicted_new_s = self.predicted_new_s

        old_deployment: None | str | Unset
        if isinstance(self.old_deployment, Unset):
            old_deployment = UNSET
        elif isinstance(self.old_deployment, UUID):
            old_deployment = str(self.old_deployment)
        else:
            old_deployment = self.old_deployment

        new_deployment: None | str | Unset
        if isinstance(self.new_deployment, Unset):
            new_deployment = UNSET
        elif isinstance(self.new_deployment, UUID):
            new_deployment = str(self.new_deployment)
        else:
            new_deployment = self.new_deployment

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "at": at,
                "after_frame": after_frame,
                "reason": reason,
                "old_plan": old_plan,
                "new_plan": new_plan,
                "predicted_old_s": predicted_old_s,
                "predicted_new_s": predicted_new_s,
            }
        )
        if old_deployment is not UNSET:
            field_dict["old_deployment"] = old_deployment
        if new_deployment is not UNSET:
            field_dict["new_deployment"] = new_deployment

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        at = datetime.datetime.fromisoformat(d.pop("at"))

        after_frame = d.pop("after_frame")

        reason = d.pop("reason")

        old_plan = d.pop("old_plan")

        new_plan = d.pop("new_plan")

        predicted_old_s = d.pop("predicted_old_s")

        predicted_new_s = d.pop("predicted_new_s")

        def _parse_old_deployment(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                old_deployment_type_0 = UUID(data)

                return old_deployment_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        old_deployment = _parse_old_deployment(d.pop("old_deployment", UNSET))

        def _parse_new_deployment(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                new_deployment_type_0 = UUID(data)

                return new_deployment_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        new_deployment = _parse_new_deployment(d.pop("new_deployment", UNSET))

        plan_switch = cls(
            at=at,
            after_frame=after_frame,
            reason=reason,
            old_plan=old_plan,
            new_plan=new_plan,
            predicted_old_s=predicted_old_s,
            predicted_new_s=predicted_new_s,
            old_deployment=old_deployment,
            new_deployment=new_deployment,
        )

        plan_switch.additional_properties = d
        return plan_switch

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
