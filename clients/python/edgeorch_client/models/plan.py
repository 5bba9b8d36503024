from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.alternative import Alternative
    from ..models.cut_tensor import CutTensor
    from ..models.energy import Energy
    from ..models.model_ref import ModelRef
    from ..models.planned_device import PlannedDevice
    from ..models.planned_link import PlannedLink
    from ..models.stage import Stage


T = TypeVar("T", bound="Plan")


@_attrs_define
class Plan:
    """A what-if: the placement with the model, devices and links it was planned from.

    Attributes:
        strategy (str):
        stages (list[Stage]):
        input_transfer (float | None):
        latency (float | None):
        throughput (float | None): frames/s
        deadline (float | None):
        deadline_met (bool | None):
        cut_tensors (list[CutTensor]):
        alternatives (list[Alternative]):
        notes (list[str]):
        model (ModelRef):
        devices (list[PlannedDevice]):
        links (list[PlannedLink]):
        energy (Energy | None | Unset):
        objective (str | Unset): What the strategy minimised
    """

    strategy: str
    stages: list[Stage]
    input_transfer: float | None
    latency: float | None
    throughput: float | None
    deadline: float | None
    deadline_met: bool | None
    cut_tensors: list[CutTensor]
    alternatives: list[Alternative]
    notes: list[str]
    model: ModelRef
    devices: list[PlannedDevice]
    links: list[PlannedLink]
    energy: Energy | None | Unset = UNSET
    objective: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.energy import Energy  # noqa: PLC0415

        strategy = self.strategy

        stages = []
        for stages_item_data in self.stages:
            stages_item = stages_item_data.to_dict()
            stages.append(stages_item)

        input_transfer: float | None
        input_transfer = self.input_transfer

        latency: float | None
        latency = self.latency

        throughput: float | None
        throughput = self.throughput

        deadline: float | None
        deadline = self.deadline

        deadline_met: bool | None
        deadline_met = self.deadline_met

        cut_tensors = []
        for cut_tensors_item_data in self.cut_tensors:
            cut_tensors_item = cut_tensors_item_data.to_dict()
            cut_tensors.append(cut_tensors_item)

        alternatives = []
        for alternatives_item_data in self.alternatives:
            alternatives_item = alternatives_item_data.to_dict()
            alternatives.append(alternatives_item)

        notes = self.notes

        model = self.model.to_dict()

        devices = []
        for devices_item_data in self.devices:
            devices_item = devices_item_data.to_dict()
            devices.append(devices_item)

        links = []
        for links_item_data in self.links:
            links_item = links_item_data.to_dict()
            links.append(links_item)

        energy: dict[str, Any] | None | Unset
        if isinstance(self.energy, Unset):
            energy = UNSET
        elif isinstance(self.energy, Energy):
            energy = self.energy.to_dict()
        else:
            energy = self.energy

        objective = self.objective

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "strategy": strategy,
                "stages": stages,
                "input_transfer": input_transfer,
                "latency": latency,
                "throughput": throughput,
                "deadline": deadline,
                "deadline_met": deadline_met,
                "cut_tensors": cut_tensors,
                "alternatives": alternatives,
                "notes": notes,
                "model": model,
                "devices": devices,
                "links": links,
            }
        )
        if energy is not UNSET:
            field_dict["energy"] = energy
        if objective is not UNSET:
            field_dict["objective"] = objective

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.alternative import Alternative  # noqa: PLC0415
        from ..models.cut_tensor import CutTensor  # noqa: PLC0415
        from ..models.energy import Energy  # noqa: PLC0415
        from ..models.model_ref import ModelRef  # noqa: PLC0415
        from ..models.planned_device import PlannedDevice  # noqa: PLC0415
        from ..models.planned_link import PlannedLink  # noqa: PLC0415
        from ..models.stage import Stage  # noqa: PLC0415

        d = dict(src_dict)
        strategy = d.pop("strategy")

        stages = []
        _stages = d.pop("stages")
        for stages_item_data in _stages:
            stages_item = Stage.from_dict(stages_item_data)

            stages.append(stages_item)

        def _parse_input_transfer(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        input_transfer = _parse_input_transfer(d.pop("input_transfer"))

        def _parse_latency(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        latency = _parse_latency(d.pop("latency"))

        def _parse_throughput(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        throughput = _parse_throughput(d.pop("throughput"))

        def _parse_deadline(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        deadline = _parse_deadline(d.pop("deadline"))

        def _parse_deadline_met(data: object) -> bool | None:
            if data is None:
                return data
            return cast(bool | None, data)

        deadline_met = _parse_deadline_met(d.pop("deadline_met"))

        cut_tensors = []
        _cut_tensors = d.pop("cut_tensors")
        for cut_tensors_item_data in _cut_tensors:
            cut_tensors_item = CutTensor.from_dict(cut_tensors_item_data)

            cut_tensors.append(cut_tensors_item)

        alternatives = []
        _alternatives = d.pop("alternatives")
        for alternatives_item_data in _alternatives:
            alternatives_item = Alternative.from_dict(alternatives_item_data)

            alternatives.append(alternatives_item)

        notes = cast(list[str], d.pop("notes"))

        model = ModelRef.from_dict(d.pop("model"))

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

        def _parse_energy(data: object) -> Energy | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                energy_type_1 = Energy.from_dict(data)

                return energy_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(Energy | None | Unset, data)

        energy = _parse_energy(d.pop("energy", UNSET))

        objective = d.pop("objective", UNSET)

        plan = cls(
            strategy=strategy,
            stages=stages,
            input_transfer=input_transfer,
            latency=latency,
            throughput=throughput,
            deadline=deadline,
            deadline_met=deadline_met,
            cut_tensors=cut_tensors,
            alternatives=alternatives,
            notes=notes,
            model=model,
            devices=devices,
            links=links,
            energy=energy,
            objective=objective,
        )

        plan.additional_properties = d
        return plan

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
