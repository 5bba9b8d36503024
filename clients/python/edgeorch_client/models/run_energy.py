from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="RunEnergy")


@_attrs_define
class RunEnergy:
    """The source device's joules per request (docs/energy.md, "On runs"): ``joules`` is the figure to read,
    ``basis`` says which it is: measured (the source's power meters), estimated (its traced compute and
    latency priced by its profile's power model) or predicted (the plan's).

        Attributes:
            predicted_j (float | None):
            emulated_j (float | None): Estimated: traced compute and latency x the profile's power model
            how (str):
            joules (float | None | Unset): J per request: measured, else estimated
            basis (None | str | Unset): measured, estimated or predicted
            measured_j (float | None | Unset): From the source's power.* telemetry while it ran
            measured_w (float | None | Unset): Its mean power then
            meter (None | str | Unset): The power.* metric(s) read
    """

    predicted_j: float | None
    emulated_j: float | None
    how: str
    joules: float | None | Unset = UNSET
    basis: None | str | Unset = UNSET
    measured_j: float | None | Unset = UNSET
    measured_w: float | None | Unset = UNSET
    meter: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        predicted_j: float | None
        predicted_j = self.predicted_j

        emulated_j: float | None
        emulated_j = self.emulated_j

        how = self.how

        joules: float | None | Unset
        if isinstance(self.joules, Unset):
            joules = UNSET
        else:
            joules = self.joules

        basis: None | str | Unset
        if isinstance(self.basis, Unset):
            basis = UNSET
        else:
            basis = self.basis

        measured_j: float | None | Unset
        if isinstance(self.measured_j, Unset):
            measured_j = UNSET
        else:
            measured_j = self.measured_j

        measured_w: float | None | Unset
        if isinstance(self.measured_w, Unset):
            measured_w = UNSET
        else:
            measured_w = self.measured_w

        meter: None | str | Unset
        if isinstance(self.meter, Unset):
            meter = UNSET
        else:
            meter = self.meter

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "predicted_j": predicted_j,
                "emulated_j": emulated_j,
                "how": how,
            }
        )
        if joules is not UNSET:
            field_dict["joules"] = joules
        if basis is not UNSET:
            field_dict["basis"] = basis
        if measured_j is not UNSET:
            field_dict["measured_j"] = measured_j
        if measured_w is not UNSET:
            field_dict["measured_w"] = measured_w
        if meter is not UNSET:
            field_dict["meter"] = meter

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_predicted_j(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        predicted_j = _parse_predicted_j(d.pop("predicted_j"))

        def _parse_emulated_j(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        emulated_j = _parse_emulated_j(d.pop("emulated_j"))

        how = d.pop("how")

        def _parse_joules(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        joules = _parse_joules(d.pop("joules", UNSET))

        def _parse_basis(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        basis = _parse_basis(d.pop("basis", UNSET))

        def _parse_measured_j(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        measured_j = _parse_measured_j(d.pop("measured_j", UNSET))

        def _parse_measured_w(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        measured_w = _parse_measured_w(d.pop("measured_w", UNSET))

        def _parse_meter(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        meter = _parse_meter(d.pop("meter", UNSET))

        run_energy = cls(
            predicted_j=predicted_j,
            emulated_j=emulated_j,
            how=how,
            joules=joules,
            basis=basis,
            measured_j=measured_j,
            measured_w=measured_w,
            meter=meter,
        )

        run_energy.additional_properties = d
        return run_energy

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
