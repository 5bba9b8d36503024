from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.deployment_topology_deployment import DeploymentTopologyDeployment
    from ..models.deployment_topology_run_type_0 import DeploymentTopologyRunType0
    from ..models.deployment_topology_runs_item import DeploymentTopologyRunsItem
    from ..models.topology_device import TopologyDevice
    from ..models.topology_hop import TopologyHop
    from ..models.topology_stage import TopologyStage


T = TypeVar("T", bound="DeploymentTopology")


@_attrs_define
class DeploymentTopology:
    """A deployment's devices, stages, hops and slow stage, and the runs on it
    (``topology.deployment_topology``).

        Attributes:
            run (DeploymentTopologyRunType0 | None): The newest run on it, whose path is drawn; null: no run is on it
            frames (int): The frames the measured times come from
            devices (list[TopologyDevice]):
            stages (list[TopologyStage]):
            hops (list[TopologyHop]):
            path (list[str]): Device ids in a frame's order
            slow_stage (int | None):
            deployment (DeploymentTopologyDeployment): id, state, model, cuts, devices, ready_devices, load_s, arms, error,
                created_at, ready_at
            runs (list[DeploymentTopologyRunsItem]): The runs on it, newest first: kind, id, state, model, strategy, source,
                source_name, created_at, predicted_latency_s
    """

    run: DeploymentTopologyRunType0 | None
    frames: int
    devices: list[TopologyDevice]
    stages: list[TopologyStage]
    hops: list[TopologyHop]
    path: list[str]
    slow_stage: int | None
    deployment: DeploymentTopologyDeployment
    runs: list[DeploymentTopologyRunsItem]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.deployment_topology_run_type_0 import DeploymentTopologyRunType0  # noqa: PLC0415

        run: dict[str, Any] | None
        if isinstance(self.run, DeploymentTopologyRunType0):
            run = self.run.to_dict()
        else:
            run = self.run

        frames = self.frames

        devices = []
        for devices_item_data in self.devices:
            devices_item = devices_item_data.to_dict()
            devices.append(devices_item)

        stages = []
        for stages_item_data in self.stages:
            stages_item = stages_item_data.to_dict()
            stages.append(stages_item)

        hops = []
        for hops_item_data in self.hops:
            hops_item = hops_item_data.to_dict()
            hops.append(hops_item)

        path = self.path

        slow_stage: int | None
        slow_stage = self.slow_stage

        deployment = self.deployment.to_dict()

        runs = []
        for runs_item_data in self.runs:
            runs_item = runs_item_data.to_dict()
            runs.append(runs_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "run": run,
                "frames": frames,
                "devices": devices,
                "stages": stages,
                "hops": hops,
                "path": path,
                "slow_stage": slow_stage,
                "deployment": deployment,
                "runs": runs,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.deployment_topology_deployment import DeploymentTopologyDeployment  # noqa: PLC0415
        from ..models.deployment_topology_run_type_0 import DeploymentTopologyRunType0  # noqa: PLC0415
        from ..models.deployment_topology_runs_item import DeploymentTopologyRunsItem  # noqa: PLC0415
        from ..models.topology_device import TopologyDevice  # noqa: PLC0415
        from ..models.topology_hop import TopologyHop  # noqa: PLC0415
        from ..models.topology_stage import TopologyStage  # noqa: PLC0415

        d = dict(src_dict)

        def _parse_run(data: object) -> DeploymentTopologyRunType0 | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                run_type_0 = DeploymentTopologyRunType0.from_dict(data)

                return run_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(DeploymentTopologyRunType0 | None, data)

        run = _parse_run(d.pop("run"))

        frames = d.pop("frames")

        devices = []
        _devices = d.pop("devices")
        for devices_item_data in _devices:
            devices_item = TopologyDevice.from_dict(devices_item_data)

            devices.append(devices_item)

        stages = []
        _stages = d.pop("stages")
        for stages_item_data in _stages:
            stages_item = TopologyStage.from_dict(stages_item_data)

            stages.append(stages_item)

        hops = []
        _hops = d.pop("hops")
        for hops_item_data in _hops:
            hops_item = TopologyHop.from_dict(hops_item_data)

            hops.append(hops_item)

        path = cast(list[str], d.pop("path"))

        def _parse_slow_stage(data: object) -> int | None:
            if data is None:
                return data
            return cast(int | None, data)

        slow_stage = _parse_slow_stage(d.pop("slow_stage"))

        deployment = DeploymentTopologyDeployment.from_dict(d.pop("deployment"))

        runs = []
        _runs = d.pop("runs")
        for runs_item_data in _runs:
            runs_item = DeploymentTopologyRunsItem.from_dict(runs_item_data)

            runs.append(runs_item)

        deployment_topology = cls(
            run=run,
            frames=frames,
            devices=devices,
            stages=stages,
            hops=hops,
            path=path,
            slow_stage=slow_stage,
            deployment=deployment,
            runs=runs,
        )

        deployment_topology.additional_properties = d
        return deployment_topology

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
