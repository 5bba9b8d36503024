from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="RunEnergy")


@_attrs_define
class RunEnergy:
    """The source device's joules per request: the plan's prediction and the run's emulated figure.

    Attributes:
        predicted_j (float | None):
        emulated_j (float | None): Mean per frame in a session's summary
        how (str):
    """

    predicted_j: float | None
    emulated_j: float | None
    how: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        predicted_j: float | None
        predicted_j = self.predicted_j

        emulated_j: float | None
        emulated_j = self.emulated_j

        how = self.how

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "predicted_j": predicted_j,
                "emulated_j": emulated_j,
                "how": how,
            }
        )

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

        run_energy = cls(
            predicted_j=predicted_j,
            emulated_j=emulated_j,
            how=how,
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
