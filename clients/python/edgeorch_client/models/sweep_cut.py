from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="SweepCut")


@_attrs_define
class SweepCut:
    """
    Attributes:
        cut (int): Blocks run on the source device (0: offload, n: local)
        label (str):
        cut_point (int | None): The catalog cut point index
        device_compute (float | None):
        transfer (float | None):
        queue (float | None):
        edge_compute (float | None):
        latency (float | None):
        bytes_ (float | None):
        error (None | str):
        energy (float | None | Unset): J of the source device
        energy_compute (float | None | Unset):
        energy_radio (float | None | Unset):
        energy_idle (float | None | Unset):
    """

    cut: int
    label: str
    cut_point: int | None
    device_compute: float | None
    transfer: float | None
    queue: float | None
    edge_compute: float | None
    latency: float | None
    bytes_: float | None
    error: None | str
    energy: float | None | Unset = UNSET
    energy_compute: float | None | Unset = UNSET
    energy_radio: float | None | Unset = UNSET
    energy_idle: float | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        cut = self.cut

        label = self.label

        cut_point: int | None
        cut_point = self.cut_point

        device_compute: float | None
        device_compute = self.device_compute

        transfer: float | None
        transfer = self.transfer

        queue: float | None
        queue = self.queue

        edge_compute: float | None
        edge_compute = self.edge_compute

        latency: float | None
        latency = self.latency

        bytes_: float | None
        bytes_ = self.bytes_

        error: None | str
        error = self.error

        energy: float | None | Unset
        if isinstance(self.energy, Unset):
            energy = UNSET
        else:
            energy = self.energy

        energy_compute: float | None | Unset
        if isinstance(self.energy_compute, Unset):
            energy_compute = UNSET
        else:
            energy_compute = self.energy_compute

        energy_radio: float | None | Unset
        if isinstance(self.energy_radio, Unset):
            energy_radio = UNSET
        else:
            energy_radio = self.energy_radio

        energy_idle: float | None | Unset
        if isinstance(self.energy_idle, Unset):
            energy_idle = UNSET
        else:
            energy_idle = self.energy_idle

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "cut": cut,
                "label": label,
                "cut_point": cut_point,
                "device_compute": device_compute,
                "transfer": transfer,
                "queue": queue,
                "edge_compute": edge_compute,
                "latency": latency,
                "bytes": bytes_,
                "error": error,
            }
        )
        if energy is not UNSET:
            field_dict["energy"] = energy
        if energy_compute is not UNSET:
            field_dict["energy_compute"] = energy_compute
        if energy_radio is not UNSET:
            field_dict["energy_radio"] = energy_radio
        if energy_idle is not UNSET:
            field_dict["energy_idle"] = energy_idle

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        cut = d.pop("cut")

        label = d.pop("label")

        def _parse_cut_point(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        cut_point = _parse_cut_point(d.pop("cut_point"))

        def _parse_device_compute(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        device_compute = _parse_device_compute(d.pop("device_compute"))

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

        def _parse_edge_compute(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        edge_compute = _parse_edge_compute(d.pop("edge_compute"))

        def _parse_latency(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        latency = _parse_latency(d.pop("latency"))

        def _parse_bytes_(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        bytes_ = _parse_bytes_(d.pop("bytes"))

        def _parse_error(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        error = _parse_error(d.pop("error"))

        def _parse_energy(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        energy = _parse_energy(d.pop("energy", UNSET))

        def _parse_energy_compute(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        energy_compute = _parse_energy_compute(d.pop("energy_compute", UNSET))

        def _parse_energy_radio(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        energy_radio = _parse_energy_radio(d.pop("energy_radio", UNSET))

        def _parse_energy_idle(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        energy_idle = _parse_energy_idle(d.pop("energy_idle", UNSET))

        sweep_cut = cls(
            cut=cut,
            label=label,
            cut_point=cut_point,
            device_compute=device_compute,
            transfer=transfer,
            queue=queue,
            edge_compute=edge_compute,
            latency=latency,
            bytes_=bytes_,
            error=error,
            energy=energy,
            energy_compute=energy_compute,
            energy_radio=energy_radio,
            energy_idle=energy_idle,
        )

        sweep_cut.additional_properties = d
        return sweep_cut

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
