from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.device_ref import DeviceRef
    from ..models.model_ref import ModelRef
    from ..models.planned_device import PlannedDevice
    from ..models.planned_link import PlannedLink
    from ..models.sweep_cut import SweepCut


T = TypeVar("T", bound="Sweep")


@_attrs_define
class Sweep:
    """
    Attributes:
        model (ModelRef):
        source (DeviceRef):
        edge (DeviceRef):
        cuts (list[SweepCut]):
        best (int | None):
        devices (list[PlannedDevice]):
        links (list[PlannedLink]):
        notes (list[str]):
        best_energy (int | None | Unset): The cut costing the source the fewest joules
        objective (str | Unset):
        deadline_ms (float | None | Unset):
        chosen (int | None | Unset): The cut the objective picks: latency best, energy best_energy,
            energy_under_deadline the cheapest cut within deadline_ms (the fastest when none is)
    """

    model: ModelRef
    source: DeviceRef
    edge: DeviceRef
    cuts: list[SweepCut]
    best: int | None
    devices: list[PlannedDevice]
    links: list[PlannedLink]
    notes: list[str]
    best_energy: int | None | Unset = UNSET
    objective: str | Unset = UNSET
    deadline_ms: float | None | Unset = UNSET
    chosen: int | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        model = self.model.to_dict()

        source = self.source.to_dict()

        edge = self.edge.to_dict()

        cuts = []
        for cuts_item_data in self.cuts:
            cuts_item = cuts_item_data.to_dict()
            cuts.append(cuts_item)

        best: int | None
        best = self.best

        devices = []
        for devices_item_data in self.devices:
            devices_item = devices_item_data.to_dict()
            devices.append(devices_item)

        links = []
        for links_item_data in self.links:
            links_item = links_item_data.to_dict()
            links.append(links_item)

        notes = self.notes

        best_energy: int | None | Unset
        if isinstance(self.best_energy, Unset):
            best_energy = UNSET
        else:
            best_energy = self.best_energy

        objective = self.objective

        deadline_ms: float | None | Unset
        if isinstance(self.deadline_ms, Unset):
            deadline_ms = UNSET
        else:
            deadline_ms = self.deadline_ms

        chosen: int | None | Unset
        if isinstance(self.chosen, Unset):
            chosen = UNSET
        else:
            chosen = self.chosen

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "model": model,
                "source": source,
                "edge": edge,
                "cuts": cuts,
                "best": best,
                "devices": devices,
                "links": links,
                "notes": notes,
            }
        )
        if best_energy is not UNSET:
            field_dict["best_energy"] = best_energy
        if objective is not UNSET:
            field_dict["objective"] = objective
        if deadline_ms is not UNSET:
            field_dict["deadline_ms"] = deadline_ms
        if chosen is not UNSET:
            field_dict["chosen"] = chosen

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.device_ref import DeviceRef  # noqa: PLC0415
        from ..models.model_ref import ModelRef  # noqa: PLC0415
        from ..models.planned_device import PlannedDevice  # noqa: PLC0415
        from ..models.planned_link import PlannedLink  # noqa: PLC0415
        from ..models.sweep_cut import SweepCut  # noqa: PLC0415

        d = dict(src_dict)
        model = ModelRef.from_dict(d.pop("model"))

        source = DeviceRef.from_dict(d.pop("source"))

        edge = DeviceRef.from_dict(d.pop("edge"))

        cuts = []
        _cuts = d.pop("cuts")
        for cuts_item_data in _cuts:
            cuts_item = SweepCut.from_dict(cuts_item_data)

            cuts.append(cuts_item)

        def _parse_best(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        best = _parse_best(d.pop("best"))

        devices = []
        _devices = d.pop("devices")
        for devices_item_data in _devices:
            devices_item = PlannedDevice.from_dict(devices_item_data)

            devices.append(devices_item)

        links = []
        _links = d.pop("links")
        for links_item_data in _links:
            links_item = PlannedLink.from_dict(links_item_data)

            links.append(links_item)

        notes = cast(list[str], d.pop("notes"))

        def _parse_best_energy(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        best_energy = _parse_best_energy(d.pop("best_energy", UNSET))

        objective = d.pop("objective", UNSET)

        def _parse_deadline_ms(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        deadline_ms = _parse_deadline_ms(d.pop("deadline_ms", UNSET))

        def _parse_chosen(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        chosen = _parse_chosen(d.pop("chosen", UNSET))

        sweep = cls(
            model=model,
            source=source,
            edge=edge,
            cuts=cuts,
            best=best,
            devices=devices,
            links=links,
            notes=notes,
            best_energy=best_energy,
            objective=objective,
            deadline_ms=deadline_ms,
            chosen=chosen,
        )

        sweep.additional_properties = d
        return sweep

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
