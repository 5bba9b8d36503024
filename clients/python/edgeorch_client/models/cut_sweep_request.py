from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.objective import Objective
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.overrides_request import OverridesRequest


T = TypeVar("T", bound="CutSweepRequest")


@_attrs_define
class CutSweepRequest:
    """
    Attributes:
        model (str): Model id, or name (newest version)
        source (str): The source device: id or name
        edge (str): The edge device: id or name
        objective (Objective | Unset): * `latency` - latency
            * `energy` - energy
            * `energy_under_deadline` - energy_under_deadline Default: Objective.LATENCY.
        deadline_ms (float | None | Unset): For objective energy_under_deadline
        overrides (OverridesRequest | Unset):
    """

    model: str
    source: str
    edge: str
    objective: Objective | Unset = Objective.LATENCY
    deadline_ms: float | None | Unset = UNSET
    overrides: OverridesRequest | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        model = self.model

        source = self.source

        edge = self.edge

        objective: str | Unset = UNSET
        if not isinstance(self.objective, Unset):
            objective = self.objective.value

        deadline_ms: float | None | Unset
        if isinstance(self.deadline_ms, Unset):
            deadline_ms = UNSET
        else:
            deadline_ms = self.deadline_ms

        overrides: dict[str, Any] | Unset = UNSET
        if not isinstance(self.overrides, Unset):
            overrides = self.overrides.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "model": model,
                "source": source,
                "edge": edge,
            }
        )
        if objective is not UNSET:
            field_dict["objective"] = objective
        if deadline_ms is not UNSET:
            field_dict["deadline_ms"] = deadline_ms
        if overrides is not UNSET:
            field_dict["overrides"] = overrides

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.overrides_request import OverridesRequest  # noqa: PLC0415

        d = dict(src_dict)
        model = d.pop("model")

        source = d.pop("source")

        edge = d.pop("edge")

        _objective = d.pop("objective", UNSET)
        objective: Objective | Unset
        if isinstance(_objective, Unset):
            objective = UNSET
        else:
            objective = Objective(_objective)

        def _parse_deadline_ms(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        deadline_ms = _parse_deadline_ms(d.pop("deadline_ms", UNSET))

        _overrides = d.pop("overrides", UNSET)
        overrides: OverridesRequest | Unset
        if isinstance(_overrides, Unset):
            overrides = UNSET
        else:
            overrides = OverridesRequest.from_dict(_overrides)

        cut_sweep_request = cls(
            model=model,
            source=source,
            edge=edge,
            objective=objective,
            deadline_ms=deadline_ms,
            overrides=overrides,
        )

        cut_sweep_request.additional_properties = d
        return cut_sweep_request

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
