from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="Stage")


@_attrs_define
class Stage:
    """
    Attributes:
        device (str):
        unit (str):
        first_block (int | None):
        last_block (int | None):
        nodes (list[str]):
        compute (float | None):
        transfer (float | None):
        queue (float | None):
        energy (float | None | Unset): J: the source device's share while this stage runs
    """

    device: str
    unit: str
    first_block: int | None
    last_block: int | None
    nodes: list[str]
    compute: float | None
    transfer: float | None
    queue: float | None
    energy: float | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        device = self.device

        unit = self.unit

        first_block: int | None
        first_block = self.first_block

        last_block: int | None
        last_block = self.last_block

        nodes = self.nodes

        compute: float | None
        compute = self.compute

        transfer: float | None
        transfer = self.transfer

        queue: float | None
        queue = self.queue

        energy: float | None | Unset
        if isinstance(self.energy, Unset):
            energy = UNSET
        else:
            energy = self.energy

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "device": device,
                "unit": unit,
                "first_block": first_block,
                "last_block": last_block,
                "nodes": nodes,
                "compute": compute,
                "transfer": transfer,
                "queue": queue,
            }
        )
        if energy is not UNSET:
            field_dict["energy"] = energy

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        device = d.pop("device")

        unit = d.pop("unit")

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

        nodes = cast(list[str], d.pop("nodes"))

        def _parse_compute(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        compute = _parse_compute(d.pop("compute"))

        def _parse_transfer(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        transfer = _parse_transfer(d.pop("transfer"))

        def _parse_queue(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        queue = _parse_queue(d.pop("queue"))

        def _parse_energy(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        energy = _parse_energy(d.pop("energy", UNSET))

        stage = cls(
            device=device,
            unit=unit,
            first_block=first_block,
            last_block=last_block,
            nodes=nodes,
            compute=compute,
            transfer=transfer,
            queue=queue,
            energy=energy,
        )

        stage.additional_properties = d
        return stage

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
