from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.measurement_kind import MeasurementKind
from ..models.measurement_state import MeasurementState
from ..types import UNSET, Unset

T = TypeVar("T", bound="Measurement")


@_attrs_define
class Measurement:
    """
    Attributes:
        id (UUID):
        kind (MeasurementKind): * `profile` - Profile
            * `probe` - Probe
        device (UUID):
        created_at (datetime.datetime):
        model (int | None | Unset):
        state (MeasurementState | Unset): * `pending` - Waiting for the agent
            * `done` - Done
            * `failed` - Failed
        error (str | Unset):
        result (Any | Unset):
        finished_at (datetime.datetime | None | Unset):
    """

    id: UUID
    kind: MeasurementKind
    device: UUID
    created_at: datetime.datetime
    model: int | None | Unset = UNSET
    state: MeasurementState | Unset = UNSET
    error: str | Unset = UNSET
    result: Any | Unset = UNSET
    finished_at: datetime.datetime | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = str(self.id)

        kind = self.kind.value

        device = str(self.device)

        created_at = self.created_at.isoformat()

        model: int | None | Unset
        if isinstance(self.model, Unset):
            model = UNSET
        else:
            model = self.model

        state: str | Unset = UNSET
        if not isinstance(self.state, Unset):
            state = self.state.value

        error = self.error

        result = self.result

        finished_at: None | str | Unset
        if isinstance(self.finished_at, Unset):
            finished_at = UNSET
        elif isinstance(self.finished_at, datetime.datetime):
            finished_at = self.finished_at.isoformat()
        else:
            finished_at = self.finished_at

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "kind": kind,
                "device": device,
                "created_at": created_at,
            }
        )
        if model is not UNSET:
            field_dict["model"] = model
        if state is not UNSET:
            field_dict["state"] = state
        if error is not UNSET:
            field_dict["error"] = error
        if result is not UNSET:
            field_dict["result"] = result
        if finished_at is not UNSET:
            field_dict["finished_at"] = finished_at

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = UUID(d.pop("id"))

        kind = MeasurementKind(d.pop("kind"))

        device = UUID(d.pop("device"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        def _parse_model(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        model = _parse_model(d.pop("model", UNSET))

        _state = d.pop("state", UNSET)
        state: MeasurementState | Unset
        if isinstance(_state, Unset):
            state = UNSET
        else:
            state = MeasurementState(_state)

        error = d.pop("error", UNSET)

        result = d.pop("result", UNSET)

        def _parse_finished_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                finished_at_type_0 = datetime.datetime.fromisoformat(data)

                return finished_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        finished_at = _parse_finished_at(d.pop("finished_at", UNSET))

        measurement = cls(
            id=id,
            kind=kind,
            device=device,
            created_at=created_at,
            model=model,
            state=state,
            error=error,
            result=result,
            finished_at=finished_at,
        )

        measurement.additional_properties = d
        return measurement

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
