from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.measured_times import MeasuredTimes
    from ..models.predicted_times import PredictedTimes


T = TypeVar("T", bound="StageRow")


@_attrs_define
class StageRow:
    """One planned stage (or the input's hop, stage -1) with its predicted and measured timings.

    Attributes:
        stage (int): -1: the source sending the input to the first stage
        device (None | str):
        device_name (None | str):
        blocks (list[int | None]): [first, last]
        predicted (PredictedTimes):
        measured (MeasuredTimes | None): The traced timings; null: not traced
        input_ (bool | Unset):
    """

    stage: int
    device: None | str
    device_name: None | str
    blocks: list[int | None]
    predicted: PredictedTimes
    measured: MeasuredTimes | None
    input_: bool | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.measured_times import MeasuredTimes  # noqa: PLC0415

        stage = self.stage

        device: None | str
        device = self.device

        device_name: None | str
        device_name = self.device_name

        blocks = []
        for blocks_item_data in self.blocks:
            blocks_item: int | None
            blocks_item = blocks_item_data
            blocks.append(blocks_item)

        predicted = self.predicted.to_dict()

        measured: dict[str, Any] | None
        if isinstance(self.measured, MeasuredTimes):
            measured = self.measured.to_dict()
        else:
            measured = self.measured

        input_ = self.input_

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
            }
        )
        if input_ is not UNSET:
            field_dict["input"] = input_

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.measured_times import MeasuredTimes  # noqa: PLC0415
        from ..models.predicted_times import PredictedTimes  # noqa: PLC0415

        d = dict(src_dict)
        stage = d.pop("stage")

        def _parse_device(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        device = _parse_device(d.pop("device"))

        def _parse_device_name(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        device_name = _parse_device_name(d.pop("device_name"))

        blocks = []
        _blocks = d.pop("blocks")
        for blocks_item_data in _blocks:

            def _parse_blocks_item(data: object) -> int | None:
                if data is None:
                    return data
                return cast(int | None, data)

            blocks_item = _parse_blocks_item(blocks_item_data)

            blocks.append(blocks_item)

        predicted = PredictedTimes.from_dict(d.pop("predicted"))

        def _parse_measured(data: object) -> MeasuredTimes | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                measured_type_1 = MeasuredTimes.from_dict(data)

                return measured_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(MeasuredTimes | None, data)

        measured = _parse_measured(d.pop("measured"))

        input_ = d.pop("input", UNSET)

        stage_row = cls(
            stage=stage,
            device=device,
            device_name=device_name,
            blocks=blocks,
            predicted=predicted,
            measured=measured,
            input_=input_,
        )

        stage_row.additional_properties = d
        return stage_row

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
