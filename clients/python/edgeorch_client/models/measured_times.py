from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="MeasuredTimes")


@_attrs_define
class MeasuredTimes:
    """A stage's traced timings: seconds, and ``start``/``end`` (epoch seconds); any may be missing.

    Attributes:
        queue_s (float | None | Unset):
        compute_s (float | None | Unset):
        serialize_s (float | None | Unset):
        transfer_s (float | None | Unset):
        start (float | None | Unset):
        end (float | None | Unset):
        relayed (bool | None | Unset): Came through the server
    """

    queue_s: float | None | Unset = UNSET
    compute_s: float | None | Unset = UNSET
    serialize_s: float | None | Unset = UNSET
    transfer_s: float | None | Unset = UNSET
    start: float | None | Unset = UNSET
    end: float | None | Unset = UNSET
    relayed: bool | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        queue_s: float | None | Unset
        if isinstance(self.queue_s, Unset):
            queue_s = UNSET
        else:
            queue_s = self.queue_s

        compute_s: float | None | Unset
        if isinstance(self.compute_s, Unset):
            compute_s = UNSET
        else:
            compute_s = self.compute_s

        serialize_s: float | None | Unset
        if isinstance(self.serialize_s, Unset):
            serialize_s = UNSET
        else:
            serialize_s = self.serialize_s

        transfer_s: float | None | Unset
        if isinstance(self.transfer_s, Unset):
            transfer_s = UNSET
        else:
            transfer_s = self.transfer_s

        start: float | None | Unset
        if isinstance(self.start, Unset):
            start = UNSET
        else:
            start = self.start

        end: float | None | Unset
        if isinstance(self.end, Unset):
            end = UNSET
        else:
            end = self.end

        relayed: bool | None | Unset
        if isinstance(self.relayed, Unset):
            relayed = UNSET
        else:
            relayed = self.relayed

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if queue_s is not UNSET:
            field_dict["queue_s"] = queue_s
        if compute_s is not UNSET:
            field_dict["compute_s"] = compute_s
        if serialize_s is not UNSET:
            field_dict["serialize_s"] = serialize_s
        if transfer_s is not UNSET:
            field_dict["transfer_s"] = transfer_s
        if start is not UNSET:
            field_dict["start"] = start
        if end is not UNSET:
            field_dict["end"] = end
        if relayed is not UNSET:
            field_dict["relayed"] = relayed

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_queue_s(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        queue_s = _parse_queue_s(d.pop("queue_s", UNSET))

        def _parse_compute_s(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        compute_s = _parse_compute_s(d.pop("compute_s", UNSET))

        def _parse_serialize_s(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        serialize_s = _parse_serialize_s(d.pop("serialize_s", UNSET))

        def _parse_transfer_s(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        transfer_s = _parse_transfer_s(d.pop("transfer_s", UNSET))

        def _parse_start(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        start = _parse_start(d.pop("start", UNSET))

        def _parse_end(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        end = _parse_end(d.pop("end", UNSET))

        def _parse_relayed(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        relayed = _parse_relayed(d.pop("relayed", UNSET))

        measured_times = cls(
            queue_s=queue_s,
            compute_s=compute_s,
            serialize_s=serialize_s,
            transfer_s=transfer_s,
            start=start,
            end=end,
            relayed=relayed,
        )

        measured_times.additional_properties = d
        return measured_times

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
