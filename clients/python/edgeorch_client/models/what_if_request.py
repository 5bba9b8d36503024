from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.objective import Objective
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.overrides_request import OverridesRequest


T = TypeVar("T", bound="WhatIfRequest")


@_attrs_define
class WhatIfRequest:
    """
    Attributes:
        model (str): Model id, or name (newest version)
        source (str): The source device: id or name
        strategy (str | Unset):  Default: 'multi-device'.
        devices (list[str] | Unset): Devices to consider (default: all online)
        result (None | str | Unset): Where the result goes (default: the source)
        deadline_ms (float | None | Unset):
        params (Any | Unset): Strategy parameters, e.g. {"cut": 2, "device": "…"}
        objective (Objective | Unset): * `latency` - latency
            * `energy` - energy
            * `energy_under_deadline` - energy_under_deadline
        overrides (OverridesRequest | Unset):
    """

    model: str
    source: str
    strategy: str | Unset = "multi-device"
    devices: list[str] | Unset = UNSET
    result: None | str | Unset = UNSET
    deadline_ms: float | None | Unset = UNSET
    params: Any | Unset = UNSET
    objective: Objective | Unset = UNSET
    overrides: OverridesRequest | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        model = self.model

        source = self.source

        strategy = self.strategy

        devices: list[str] | Unset = UNSET
        if not isinstance(self.devices, Unset):
            devices = self.devices

        result: None | str | Unset
        if isinstance(self.result, Unset):
            result = UNSET
        else:
            result = self.result

        deadline_ms: float | None | Unset
        if isinstance(self.deadline_ms, Unset):
            deadline_ms = UNSET
        else:
            deadline_ms = self.deadline_ms

        params = self.params

        objective: str | Unset = UNSET
        if not isinstance(self.objective, Unset):
            objective = self.objective.value

        overrides: dict[str, Any] | Unset = UNSET
        if not isinstance(self.overrides, Unset):
            overrides = self.overrides.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "model": model,
                "source": source,
            }
        )
        if strategy is not UNSET:
            field_dict["strategy"] = strategy
        if devices is not UNSET:
            field_dict["devices"] = devices
        if result is not UNSET:
            field_dict["result"] = result
        if deadline_ms is not UNSET:
            field_dict["deadline_ms"] = deadline_ms
        if params is not UNSET:
            field_dict["params"] = params
        if objective is not UNSET:
            field_dict["objective"] = objective
        if overrides is not UNSET:
            field_dict["overrides"] = overrides

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.overrides_request import OverridesRequest  # noqa: PLC0415

        d = dict(src_dict)
        model = d.pop("model")

        source = d.pop("source")

        strategy = d.pop("strategy", UNSET)

        devices = cast(list[str], d.pop("devices", UNSET))

        def _parse_result(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        result = _parse_result(d.pop("result", UNSET))

        def _parse_deadline_ms(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        deadline_ms = _parse_deadline_ms(d.pop("deadline_ms", UNSET))

        params = d.pop("params", UNSET)

        _objective = d.pop("objective", UNSET)
        objective: Objective | Unset
        if isinstance(_objective, Unset):
            objective = UNSET
        else:
            objective = Objective(_objective)

        _overrides = d.pop("overrides", UNSET)
        overrides: OverridesRequest | Unset
        if isinstance(_overrides, Unset):
            overrides = UNSET
        else:
            overrides = OverridesRequest.from_dict(_overrides)

        what_if_request = cls(
            model=model,
            source=source,
            strategy=strategy,
            devices=devices,
            result=result,
            deadline_ms=deadline_ms,
            params=params,
            objective=objective,
            overrides=overrides,
        )

        what_if_request.additional_properties = d
        return what_if_request

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
