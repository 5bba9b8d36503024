from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="TraceStage")


@_attrs_define
class TraceStage:
    """One stage of a job's download: planned against measured (stage -1: the input's hop to stage 0).

    Attributes:
        stage (int):
        device (str):
        device_name (None | str):
        first_block (int | None):
        last_block (int | None):
        predicted_queue_s (float | None):
        predicted_compute_s (float | None):
        predicted_transfer_s (float | None):
        queue_s (float | None):
        compute_s (float | None):
        serialize_s (float | None):
        transfer_s (float | None):
        start (float | None): Agent clock, epoch seconds
        end (float | None):
        relayed (bool | None):
    """

    stage: int
    device: str
    device_name: None | str
    first_block: int | None
    last_block: int | None
    predicted_queue_s: float | None
    predicted_compute_s: float | None
    predicted_transfer_s: float | None
    queue_s: float | None
    compute_s: float | None
    serialize_s: float | None
    transfer_s: float | None
    start: float | None
    end: float | None
    relayed: bool | None
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        stage = self.stage

        device = self.device

        device_name: None | str
        device_name = self.device_name

        first_block: int | None
        first_block = self.first_block

        last_block: int | None
        last_block = self.last_block

        predicted_queue_s: float | None
        predicted_queue_s = self.predicted_queue_s

        predicted_compute_s: float | None
        predicted_compute_s = self.predicted_compute_s

        predicted_transfer_s: float | None
        predicted_transfer_s = self.predicted_transfer_s

        queue_s: float | None
        queue_s = self.queue_s

        compute_s: float | None
        compute_s = self.compute_s

        serialize_s: float | None
        serialize_s = self.serialize_s

        transfer_s: float | None
        transfer_s = self.transfer_s

        start: float | None
        start = self.start

        end: float | None
        end = self.end

        relayed: bool | None
        relayed = self.relayed

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "stage": stage,
                "device": device,
                "device_name": device_name,
                "first_block": first_block,
                "last_block": last_block,
                "predicted_queue_s": predicted_queue_s,
                "predicted_compute_s": predicted_compute_s,
                "predicted_transfer_s": predicted_transfer_s,
                "queue_s": queue_s,
                "compute_s": compute_s,
                "serialize_s": serialize_s,
                "transfer_s": transfer_s,
                "start": start,
                "end": end,
                "relayed": relayed,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        stage = d.pop("stage")

        device = d.pop("device")

        def _parse_device_name(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        device_name = _parse_device_name(d.pop("device_name"))

        def _parse_first_block(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        first_block = _parse_first_block(d.pop("first_block"))

        def _parse_last_block(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        last_block = _parse_last_block(d.pop("last_block"))

        def _parse_predicted_queue_s(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        predicted_queue_s = _parse_predicted_queue_s(d.pop("predicted_queue_s"))

        def _parse_predicted_compute_s(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        predicted_compute_s = _parse_predicted_compute_s(d.pop("predicted_compute_s"))

        def _parse_predicted_transfer_s(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        predicted_transfer_s = _parse_predicted_transfer_s(d.pop("predicted_transfer_s"))

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

        def _parse_serialize_s(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        serialize_s = _parse_serialize_s(d.pop("serialize_s"))

        def _parse_transfer_s(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        transfer_s = _parse_transfer_s(d.pop("transfer_s"))

        def _parse_start(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        start = _parse_start(d.pop("start"))

        def _parse_end(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        end = _parse_end(d.pop("end"))

        def _parse_relayed(data: object) -> bool | None:
            if data is None:
                return data
            return cast(bool | None, data)

        relayed = _parse_relayed(d.pop("relayed"))

        trace_stage = cls(
            stage=stage,
            device=device,
            device_name=device_name,
            first_block=first_block,
            last_block=last_block,
            predicted_queue_s=predicted_queue_s,
            predicted_compute_s=predicted_compute_s,
            predicted_transfer_s=predicted_transfer_s,
            queue_s=queue_s,
            compute_s=compute_s,
            serialize_s=serialize_s,
            transfer_s=transfer_s,
            start=start,
            end=end,
            relayed=relayed,
        )

        trace_stage.additional_properties = d
        return trace_stage

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
