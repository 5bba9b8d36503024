from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.frame_export_trace_item import FrameExportTraceItem


T = TypeVar("T", bound="FrameExport")


@_attrs_define
class FrameExport:
    """One frame of a session's download; a stage's timings summed over its stages.

    Attributes:
        request_id (int):
        ok (bool):
        latency_s (float):
        deadline_met (bool | None):
        resent (bool):
        failover_s (float | None):
        received_at (datetime.datetime):
        queue_s (float):
        compute_s (float):
        serialize_s (float):
        transfer_s (float):
        devices (str): The devices of its stages by name, in order: 'a > b'
        error (str):
        trace (list[FrameExportTraceItem]): Per stage, as the agents timed it
    """

    request_id: int
    ok: bool
    latency_s: float
    deadline_met: bool | None
    resent: bool
    failover_s: float | None
    received_at: datetime.datetime
    queue_s: float
    compute_s: float
    serialize_s: float
    transfer_s: float
    devices: str
    error: str
    trace: list[FrameExportTraceItem]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        request_id = self.request_id

        ok = self.ok

        latency_s = self.latency_s

        deadline_met: bool | None
        deadline_met = self.deadline_met

        resent = self.resent

        failover_s: float | None
        failover_s = self.failover_s

        received_at = self.received_at.isoformat()

        queue_s = self.queue_s

        compute_s = self.compute_s

        serialize_s = self.serialize_s

        transfer_s = self.transfer_s

        devices = self.devices

        error = self.error

        trace = []
        for trace_item_data in self.trace:
            trace_item = trace_item_data.to_dict()
            trace.append(trace_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "request_id": request_id,
                "ok": ok,
                "latency_s": latency_s,
                "deadline_met": deadline_met,
                "resent": resent,
                "failover_s": failover_s,
                "received_at": received_at,
                "queue_s": queue_s,
                "compute_s": compute_s,
                "serialize_s": serialize_s,
                "transfer_s": transfer_s,
                "devices": devices,
                "error": error,
                "trace": trace,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.frame_export_trace_item import FrameExportTraceItem  # noqa: PLC0415

        d = dict(src_dict)
        request_id = d.pop("request_id")

        ok = d.pop("ok")

        latency_s = d.pop("latency_s")

        def _parse_deadline_met(data: object) -> bool | None:
            if data is None:
                return data
            return cast(bool | None, data)

        deadline_met = _parse_deadline_met(d.pop("deadline_met"))

        resent = d.pop("resent")

        def _parse_failover_s(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        failover_s = _parse_failover_s(d.pop("failover_s"))

        received_at = datetime.datetime.fromisoformat(d.pop("received_at"))

        queue_s = d.pop("queue_s")

        compute_s = d.pop("compute_s")

        serialize_s = d.pop("serialize_s")

        transfer_s = d.pop("transfer_s")

        devices = d.pop("devices")

        error = d.pop("error")

        trace = []
        _trace = d.pop("trace")
        for trace_item_data in _trace:
            trace_item = FrameExportTraceItem.from_dict(trace_item_data)

            trace.append(trace_item)

        frame_export = cls(
            request_id=request_id,
            ok=ok,
            latency_s=latency_s,
            deadline_met=deadline_met,
            resent=resent,
            failover_s=failover_s,
            received_at=received_at,
            queue_s=queue_s,
            compute_s=compute_s,
            serialize_s=serialize_s,
            transfer_s=transfer_s,
            devices=devices,
            error=error,
            trace=trace,
        )

        frame_export.additional_properties = d
        return frame_export

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
