from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="StageTimes")


@_attrs_define
class StageTimes:
    """Seconds of one request's stages (a stage's own, or their sum over the stages).

    Attributes:
        queue_s (float):
        compute_s (float):
        serialize_s (float):
        transfer_s (float):
    """

    queue_s: float
    compute_s: float
    serialize_s: float
    transfer_s: float
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        queue_s = self.queue_s

        compute_s = self.compute_s

        serialize_s = self.serialize_s

        transfer_s = self.transfer_s

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "queue_s": queue_s,
                "compute_s": compute_s,
                "serialize_s": serialize_s,
                "transfer_s": transfer_s,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        queue_s = d.pop("queue_s")

        compute_s = d.pop("compute_s")

        serialize_s = d.pop("serialize_s")

        transfer_s = d.pop("transfer_s")

        stage_times = cls(
            queue_s=queue_s,
            compute_s=compute_s,
            serialize_s=serialize_s,
            transfer_s=transfer_s,
        )

        stage_times.additional_properties = d
        return stage_times

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
