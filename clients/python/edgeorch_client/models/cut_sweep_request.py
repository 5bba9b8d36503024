from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.overrides_request import OverridesRequest


T = TypeVar("T", bound="CutSweepRequest")


@_attrs_define
class CutSweepRequest:
    """
    Attributes:
        model (str): Model id, or name (newest version)
        source (str): The source device: id or name
        edge (str): The edge device: id or name
        overrides (OverridesRequest | Unset):
    """

    model: str
    source: str
    edge: str
    overrides: OverridesRequest | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        model = self.model

        source = self.source

        edge = self.edge

        overrides: dict[str, Any] | Unset = UNSET
        if not isinstance(self.overrides, Unset):
            overrides = self.overrides.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "model": model,
                "source": source,
                "edge": edge,
            }
        )
        if overrides is not UNSET:
            field_dict["overrides"] = overrides

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.overrides_request import OverridesRequest  # noqa: PLC0415

        d = dict(src_dict)
        model = d.pop("model")

        source = d.pop("source")

        edge = d.pop("edge")

        _overrides = d.pop("overrides", UNSET)
        overrides: OverridesRequest | Unset
        if isinstance(_overrides, Unset):
            overrides = UNSET
        else:
            overrides = OverridesRequest.from_dict(_overrides)

        cut_sweep_request = cls(
            model=model,
            source=source,
            edge=edge,
            overrides=overrides,
        )

        cut_sweep_request.additional_properties = d
        return cut_sweep_request

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
