from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.alert_state import AlertState

T = TypeVar("T", bound="Alert")


@_attrs_define
class Alert:
    """
    Attributes:
        id (int):
        rule (int):
        rule_name (str):
        kind (str):
        device (UUID):
        device_name (str):
        state (AlertState): * `fired` - Fired
            * `acknowledged` - Acknowledged
            * `resolved` - Resolved Default: AlertState.FIRED.
        value (float | None): What was measured when it fired
        message (str):
        fired_at (datetime.datetime):
        acknowledged_at (datetime.datetime | None):
        acknowledged_by (str): Required. 150 characters or fewer. Letters, digits and @/./+/-/_ only.
        resolved_at (datetime.datetime | None):
        deliveries (Any):
    """

    id: int
    rule: int
    rule_name: str
    kind: str
    device: UUID
    device_name: str
    value: float | None
    message: str
    fired_at: datetime.datetime
    acknowledged_at: datetime.datetime | None
    acknowledged_by: str
    resolved_at: datetime.datetime | None
    deliveries: Any
    state: AlertState = AlertState.FIRED
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        rule = self.rule

        rule_name = self.rule_name

        kind = self.kind

        device = str(self.device)

        device_name = self.device_name

        state = self.state.value

        value: float | None
        value = self.value

        message = self.message

        fired_at = self.fired_at.isoformat()

        acknowledged_at: None | str
        if isinstance(self.acknowledged_at, datetime.datetime):
            acknowledged_at = self.acknowledged_at.isoformat()
        else:
            acknowledged_at = self.acknowledged_at

        acknowledged_by = self.acknowledged_by

        resolved_at: None | str
        if isinstance(self.resolved_at, datetime.datetime):
            resolved_at = self.resolved_at.isoformat()
        else:
            resolved_at = self.resolved_at

        deliveries = self.deliveries

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "rule": rule,
                "rule_name": rule_name,
                "kind": kind,
                "device": device,
                "device_name": device_name,
                "state": state,
                "value": value,
                "message": message,
                "fired_at": fired_at,
                "acknowledged_at": acknowledged_at,
                "acknowledged_by": acknowledged_by,
                "resolved_at": resolved_at,
                "deliveries": deliveries,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        rule = d.pop("rule")

        rule_name = d.pop("rule_name")

        kind = d.pop("kind")

        device = UUID(d.pop("device"))

        device_name = d.pop("device_name")

        state = AlertState(d.pop("state"))

        def _parse_value(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        value = _parse_value(d.pop("value"))

        message = d.pop("message")

        fired_at = datetime.datetime.fromisoformat(d.pop("fired_at"))

        def _parse_acknowledged_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                acknowledged_at_type_0 = datetime.datetime.fromisoformat(data)

                return acknowledged_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        acknowledged_at = _parse_acknowledged_at(d.pop("acknowledged_at"))

        acknowledged_by = d.pop("acknowledged_by")

        def _parse_resolved_at(data: object) -> datetime.datetime | None:
            if data is None:
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                resolved_at_type_0 = datetime.datetime.fromisoformat(data)

                return resolved_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None, data)

        resolved_at = _parse_resolved_at(d.pop("resolved_at"))

        deliveries = d.pop("deliveries")

        alert = cls(
            id=id,
            rule=rule,
            rule_name=rule_name,
            kind=kind,
            device=device,
            device_name=device_name,
            state=state,
            value=value,
            message=message,
            fired_at=fired_at,
            acknowledged_at=acknowledged_at,
            acknowledged_by=acknowledged_by,
            resolved_at=resolved_at,
            deliveries=deliveries,
        )

        alert.additional_properties = d
        return alert

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
