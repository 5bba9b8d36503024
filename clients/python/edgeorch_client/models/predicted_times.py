from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="PredictedTimes")


@_attrs_define
class PredictedTimes:
    """
    Attributes:
        queue_s (float | None):
        compute_s (float | None):
        transfer_s (float | None):
    """

    queue_s: float | None
    compute_s: float | None
    transfer_s: float | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        queue_s: float | None
        queue_s = self.queue_s

        compute_s: float | None
        compute_s = self.compute_s

        transfer_s: float | None
        transfer_s = self.transfer_s

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "queue_s": queue_s,
                "compute_s": compute_s,
                "transfer_s": transfer_s,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_queue_s(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        queue_s = _parse_queue_s(d.pop("queue_s"))

        def _parse_compute_s(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        compute_s = _parse_compute_s(d.pop("compute_s"))

        def _parse_transfer_s(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        transfer_s = _parse_transfer_s(d.pop("transfer_s"))

        predicted_times = cls(
            queue_s=queue_s,
            compute_s=compute_s,
            transfer_s=transfer_s,
        )

        predicted_times.additional_properties = d
        return predicted_times

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
