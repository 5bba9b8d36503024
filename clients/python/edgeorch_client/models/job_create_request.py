from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.objective import Objective
from ..types import UNSET, Unset

T = TypeVar("T", bound="JobCreateRequest")


@_attrs_define
class JobCreateRequest:
    """A job as JSON: its input is test sample ``sample`` or a seeded random tensor.

    Attributes:
        model (str): Model id, or name (newest version)
        source (str): The source device (where the input is captured): its id, or its name
        strategy (str | Unset): A planner strategy Default: 'device-edge'.
        params (Any | Unset): Strategy parameters, e.g. {"cut": 2, "device": "…"}
        devices (list[str] | Unset): Devices to consider, by id or name (default: all)
        codec (str | Unset): Activation codec: raw, fp16, int8, zlib Default: 'raw'.
        objective (Objective | Unset): * `latency` - latency
            * `energy` - energy
            * `energy_under_deadline` - energy_under_deadline
        sample (int | Unset): Use test sample k of the model's data
        seed (int | Unset): Seed of the random input (no upload, no sample), 0 to 2**32-1 Default: 0.
        timeout_s (float | Unset): Seconds before the run fails as timed out, 0.1 to 7 days (default: the server's)
    """

    model: str
    source: str
    strategy: str | Unset = "device-edge"
    params: Any | Unset = UNSET
    devices: list[str] | Unset = UNSET
    codec: str | Unset = "raw"
    objective: Objective | Unset = UNSET
    sample: int | Unset = UNSET
    seed: int | Unset = 0
    timeout_s: float | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        model = self.model

        source = self.source

        strategy = self.strategy

        params = self.params

        devices: list[str] | Unset = UNSET
        if not isinstance(self.devices, Unset):
            devices = self.devices

        codec = self.codec

        objective: str | Unset = UNSET
        if not isinstance(self.objective, Unset):
            objective = self.objective.value

        sample = self.sample

        seed = self.seed

        timeout_s = self.timeout_s

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "model": model,
                "source": source,
            }
        )
        if strategy is not UNSET:
            field_dict["strategy"] = strategy
        if params is not UNSET:
            field_dict["params"] = params
        if devices is not UNSET:
            field_dict["devices"] = devices
        if codec is not UNSET:
            field_dict["codec"] = codec
        if objective is not UNSET:
            field_dict["objective"] = objective
        if sample is not UNSET:
            field_dict["sample"] = sample
        if seed is not UNSET:
            field_dict["seed"] = seed
        if timeout_s is not UNSET:
            field_dict["timeout_s"] = timeout_s

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        model = d.pop("model")

        source = d.pop("source")

        strategy = d.pop("strategy", UNSET)

        params = d.pop("params", UNSET)

        devices = cast(list[str], d.pop("devices", UNSET))

        codec = d.pop("codec", UNSET)

        _objective = d.pop("objective", UNSET)
        objective: Objective | Unset
        if isinstance(_objective, Unset):
            objective = UNSET
        else:
            objective = Objective(_objective)

        sample = d.pop("sample", UNSET)

        seed = d.pop("seed", UNSET)

        timeout_s = d.pop("timeout_s", UNSET)

        job_create_request = cls(
            model=model,
            source=source,
            strategy=strategy,
            params=params,
            devices=devices,
            codec=codec,
            objective=objective,
            sample=sample,
            seed=seed,
            timeout_s=timeout_s,
        )

        job_create_request.additional_properties = d
        return job_create_request

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
