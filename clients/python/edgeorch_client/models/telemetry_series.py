from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.telemetry_point import TelemetryPoint


T = TypeVar("T", bound="TelemetrySeries")


@_attrs_define
class TelemetrySeries:
    """
    Attributes:
        device (UUID):
        metric (str):
        since (datetime.datetime):
        until (datetime.datetime):
        bucket_seconds (float):
        points (list[TelemetryPoint]):
        metrics (list[str]): Every metric the device has
    """

    device: UUID
    metric: str
    since: datetime.datetime
    until: datetime.datetime
    bucket_seconds: float
    points: list[TelemetryPoint]
    metrics: list[str]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        device = str(self.device)

        metric = self.metric

        since = self.since.isoformat()

        until = self.until.isoformat()

        bucket_seconds = self.bucket_seconds

        points = []
        for points_item_data in self.points:
            points_item = points_item_data.to_dict()
            points.append(points_item)

        metrics = self.metrics

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "device": device,
                "metric": metric,
                "since": since,
                "until": until,
                "bucket_seconds": bucket_seconds,
                "points": points,
                "metrics": metrics,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.telemetry_point import TelemetryPoint  # noqa: PLC0415

        d = dict(src_dict)
        device = UUID(d.pop("device"))

        metric = d.pop("metric")

        since = datetime.datetime.fromisoformat(d.pop("since"))

        until = datetime.datetime.fromisoformat(d.pop("until"))

        bucket_seconds = d.pop("bucket_seconds")

        points = []
        _points = d.pop("points")
        for points_item_data in _points:
            points_item = TelemetryPoint.from_dict(points_item_data)

            points.append(points_item)

        metrics = cast(list[str], d.pop("metrics"))

        telemetry_series = cls(
            device=device,
            metric=metric,
            since=since,
            until=until,
            bucket_seconds=bucket_seconds,
            points=points,
            metrics=metrics,
        )

        telemetry_series.additional_properties = d
        return telemetry_series

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
