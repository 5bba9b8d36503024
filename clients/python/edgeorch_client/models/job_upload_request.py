from __future__ import annotations

from collections.abc import Mapping
from io import BytesIO
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from .. import types
from ..models.objective import Objective
from ..types import UNSET, File, FileTypes, Unset

T = TypeVar("T", bound="JobUploadRequest")


@_attrs_define
class JobUploadRequest:
    """A job as multipart/form-data, with its input tensor uploaded as a .npy file.

    Attributes:
        model (str): Model id, or name (newest version)
        source (str): The source device (where the input is captured): its id, or its name
        strategy (str | Unset): A planner strategy Default: 'device-edge'.
        params (str | Unset): Strategy parameters as JSON text, e.g. {"cut": 2, "device": "…"}
        devices (list[str] | Unset): Devices to consider, by id or name (default: all)
        codec (str | Unset): Activation codec: raw, fp16, int8, zlib Default: 'raw'.
        objective (Objective | Unset): * `latency` - latency
            * `energy` - energy
            * `energy_under_deadline` - energy_under_deadline
        sample (int | Unset): Use test sample k of the model's data
        seed (int | Unset): Seed of the random input (no upload, no sample), 0 to 2**32-1 Default: 0.
        timeout_s (float | Unset): Seconds before the run fails as timed out, 0.1 to 7 days (default: the server's)
        input_ (File | Unset): The input tensor as a .npy file
    """

    model: str
    source: str
    strategy: str | Unset = "device-edge"
    params: str | Unset = UNSET
    devices: list[str] | Unset = UNSET
    codec: str | Unset = "raw"
    objective: Objective | Unset = UNSET
    sample: int | Unset = UNSET
    seed: int | Unset = 0
    timeout_s: float | Unset = UNSET
    input_: File | Unset = UNSET
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

        input_: FileTypes | Unset = UNSET
        if not isinstance(self.input_, Unset):
            input_ = self.input_.to_tuple()

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
        if input_ is not UNSET:
            field_dict["input"] = input_

        return field_dict

    def to_multipart(self) -> types.RequestFiles:
        files: types.RequestFiles = []

        files.append(("model", (None, str(self.model).encode(), "text/plain")))

        files.append(("source", (None, str(self.source).encode(), "text/plain")))

        if not isinstance(self.strategy, Unset):
            files.append(("strategy", (None, str(self.strategy).encode(), "text/plain")))

        if not isinstance(self.params, Unset):
            files.append(("params", (None, str(self.params).encode(), "text/plain")))

        if not isinstance(self.devices, Unset):
            for devices_item_element in self.devices:
                files.append(("devices", (None, str(devices_item_element).encode(), "text/plain")))

        if not isinstance(self.codec, Unset):
            files.append(("codec", (None, str(self.codec).encode(), "text/plain")))

        if not isinstance(self.objective, Unset):
            files.append(("objective", (None, str(self.objective.value).encode(), "text/plain")))

        if not isinstance(self.sample, Unset):
            files.append(("sample", (None, str(self.sample).encode(), "text/plain")))

        if not isinstance(self.seed, Unset):
            files.append(("seed", (None, str(self.seed).encode(), "text/plain")))

        if not isinstance(self.timeout_s, Unset):
            files.append(("timeout_s", (None, str(self.timeout_s).encode(), "text/plain")))

        if not isinstance(self.input_, Unset):
            files.append(("input", self.input_.to_tuple()))

        for prop_name, prop in self.additional_properties.items():
            files.append((prop_name, (None, str(prop).encode(), "text/plain")))

        return files

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

        _input_ = d.pop("input", UNSET)
        input_: File | Unset
        if isinstance(_input_, Unset):
            input_ = UNSET
        else:
            input_ = File(payload=BytesIO(_input_))

        job_upload_request = cls(
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
            input_=input_,
        )

        job_upload_request.additional_properties = d
        return job_upload_request

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
