from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.topology_stage_measured_type_0 import TopologyStageMeasuredType0
    from ..models.topology_stage_predicted import TopologyStagePredicted


T = TypeVar("T", bound="TopologyStage")


@_attrs_define
class TopologyStage:
    """
    Attributes:
        stage (int):
        device (str):
        device_name (str):
        blocks (list[int]): [first, last] block
        predicted (TopologyStagePredicted): The plan's queue, compute and transfer seconds
        measured (None | TopologyStageMeasuredType0): Medians over the recent frames: queue_s, compute_s, serialize_s,
            transfer_s, total_s; frames
        slow (bool): The stage with the largest measured total
    """

    stage: int
    device: str
    device_name: str
    blocks: list[int]
    predicted: TopologyStagePredicted
    measured: None | TopologyStageMeasuredType0
    slow: bool
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.topology_stage_measured_type_0 import TopologyStageMeasuredType0  # noqa: PLC0415

        stage = self.stage

        device = self.device

        device_name = self.device_name

        blocks = self.blocks

        predicted = self.predicted.to_dict()

        measured: dict[str, Any] | None
        if isinstance(self.measured, TopologyStageMeasuredType0):
            measured = self.measured.to_dict()
        else:
            measured = self.measured

        slow = self.slow

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "stage": stage,
                "device": device,
                "device_name": device_name,
                "blocks": blocks,
                "predicted": predicted,
                "measured": measured,
                "slow": slow,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.topology_stage_measured_type_0 import TopologyStageMeasuredType0  # noqa: PLC0415
        from ..models.topology_stage_predicted import TopologyStagePredicted  # noqa: PLC0415

        d = dict(src_dict)
        stage = d.pop("stage")

        device = d.pop("device")

        device_name = d.pop("device_name")

        blocks = cast(list[int], d.pop("blocks"))

        predicted = TopologyStagePredicted.from_dict(d.pop("predicted"))

        def _parse_measured(data: object) -> None | TopologyStageMeasuredType0:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                measured_type_0 = TopologyStageMeasuredType0.from_dict(data)

                return measured_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | TopologyStageMeasuredType0, data)

        measured = _parse_measured(d.pop("measured"))

        slow = d.pop("slow")

        topology_stage = cls(
            stage=stage,
            device=device,
            device_name=device_name,
            blocks=blocks,
            predicted=predicted,
            measured=measured,
            slow=slow,
        )

        topology_stage.additional_properties = d
        return topology_stage

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
