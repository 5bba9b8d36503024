from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="PredictorReport")


@_attrs_define
class PredictorReport:
    """
    Attributes:
        profiles (int):
        pairs (int): (device, model) pairs profiled
        held_out_pairs (int):
        train_samples (int):
        test_samples (int):
        mape (float | None): A fraction: 0.05 = 5%; null with too few profiles
        device_classes (list[str]):
        detail (str):
    """

    profiles: int
    pairs: int
    held_out_pairs: int
    train_samples: int
    test_samples: int
    mape: float | None
    device_classes: list[str]
    detail: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        profiles = self.profiles

        pairs = self.pairs

        held_out_pairs = self.held_out_pairs

        train_samples = self.train_samples

        test_samples = self.test_samples

        mape: float | None
        mape = self.mape

        device_classes = self.device_classes

        detail = self.detail

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "profiles": profiles,
                "pairs": pairs,
                "held_out_pairs": held_out_pairs,
                "train_samples": train_samples,
                "test_samples": test_samples,
                "mape": mape,
                "device_classes": device_classes,
                "detail": detail,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        profiles = d.pop("profiles")

        pairs = d.pop("pairs")

        held_out_pairs = d.pop("held_out_pairs")

        train_samples = d.pop("train_samples")

        test_samples = d.pop("test_samples")

        def _parse_mape(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        mape = _parse_mape(d.pop("mape"))

        device_classes = cast(list[str], d.pop("device_classes"))

        detail = d.pop("detail")

        predictor_report = cls(
            profiles=profiles,
            pairs=pairs,
            held_out_pairs=held_out_pairs,
            train_samples=train_samples,
            test_samples=test_samples,
            mape=mape,
            device_classes=device_classes,
            detail=detail,
        )

        predictor_report.additional_properties = d
        return predictor_report

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
