from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.failover_policy import FailoverPolicy
from ..models.objective import Objective
from ..models.priority import Priority
from ..types import UNSET, Unset

T = TypeVar("T", bound="SessionCreateRequest")


@_attrs_define
class SessionCreateRequest:
    """
    Attributes:
        model (str): Model id, or name (newest version)
        source (str): The source device (where the input is captured): its id, or its name
        strategy (str | Unset): A planner strategy Default: 'pipeline'.
        params (Any | Unset): Strategy parameters, e.g. {"cut": 2, "device": "…"}
        devices (list[str] | Unset): Devices to consider, by id or name (default: all)
        codec (str | Unset): Activation codec: raw, fp16, int8, zlib Default: 'raw'.
        objective (Objective | Unset): * `latency` - latency
            * `energy` - energy
            * `energy_under_deadline` - energy_under_deadline
        sample (int | Unset): Use test sample k of the model's data
        seed (int | Unset): Seed of the random input (no upload, no sample), 0 to 2**32-1 Default: 0.
        timeout_s (float | Unset): Seconds before the run fails as timed out, 0.1 to 7 days (default: the server's)
        rate (float | Unset): Frames per second, 0.001 to 10,000 (required unless `serve`)
        serve (bool | Unset): A serving session: its frames are the requests the source's inference endpoint takes
            (docs/serving.md), for as long as the source stays connected; no rate or frame count Default: False.
        frames (int | Unset): Frames to send, 1 to 100,000,000
        failover (FailoverPolicy | Unset): * `none` - None: a lost stage device fails the session
            * `cold` - Cold: re-plan over the devices left, deploy, send the cut-off frames again
            * `warm` - Warm: a standby deployment per stage device is loaded ahead; it takes over at once Default:
            FailoverPolicy.NONE.
        backup_sources (list[str] | Unset): Sensing redundancy: other devices observing the same scene (ids or names, in
            order of preference); with a failover policy, losing the source moves the stream to the first online one
        duration_s (float | Unset): Seconds to stream, up to 7 days
        battery_below (float | None | Unset): Low-battery policy (strategy adaptive): while the source's battery.percent
            is below this and it is not plugged in, re-plan by objective energy (docs/energy.md)
        deadline_s (float | Unset): Per-frame latency deadline, above 0 and at most 3600 s: every frame carries it;
            stage queues serve the earliest deadline first within a priority class and drop a frame that can no longer meet
            it (docs/qos.md)
        priority (Priority | Unset): * `low` - Low: served after every other class
            * `normal` - Normal (the default)
            * `high` - High: served before normal and low
            * `critical` - Critical: served first Default: Priority.NORMAL.
        max_in_flight (int | Unset): Frames in the pipeline at once, 1 to 1024 (default: one per stage)
        admission (bool | Unset): Admission control (needs `deadline_s`): refuse the session (409, saying why) unless
            its predicted latency, with the work queued ahead of it at its priority, meets the deadline now — or admit it on
            the most accurate of `fallback_variants` that does (docs/qos.md) Default: False.
        dynamic (bool | Unset): Dynamic inference: the source picks per frame the most accurate of the model and its
            variants (each planned and deployed) whose predicted latency, with the queueing it sees, meets `deadline_s`;
            frames say which (`config`, `accuracy`) (docs/qos.md) Default: False.
        fallback_variants (list[str] | Unset): Cheaper variants of the model (ids or names) admission control may admit
            it on instead
        input_ (Any | Unset): Frames from the source device: {kind: video|images|camera|pushed, path (video, images; a
            camera's device path or URL), loop (video, images), index (camera)}, each made the model's input by its
            preprocess spec; none: the sample or random tensor, every frame
    """

    model: str
    source: str
    strategy: str | Unset = "pipeline"
    params: Any | Unset = UNSET
    devices: list[str] | Unset = UNSET
    codec: str | Unset = "raw"
    objective: Objective | Unset = UNSET
    sample: int | Unset = UNSET
    seed: int | Unset = 0
    timeout_s: float | Unset = UNSET
    rate: float | Unset = UNSET
    serve: bool | Unset = False
    frames: int | Unset = UNSET
    failover: FailoverPolicy | Unset = FailoverPolicy.NONE
    backup_sources: list[str] | Unset = UNSET
    duration_s: float | Unset = UNSET
    battery_below: float | None | Unset = UNSET
    deadline_s: float | Unset = UNSET
    priority: Priority | Unset = Priority.NORMAL
    max_in_flight: int | Unset = UNSET
    admission: bool | Unset = False
    dynamic: bool | Unset = False
    fallback_variants: list[str] | Unset = UNSET
    input_: Any | Unset = UNSET
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

        rate = self.rate

        serve = self.serve

        frames = self.frames

        failover: str | Unset = UNSET
        if not isinstance(self.failover, Unset):
            failover = self.failover.value

        backup_sources: list[str] | Unset = UNSET
        if not isinstance(self.backup_sources, Unset):
            backup_sources = self.backup_sources

        duration_s = self.duration_s

        battery_below: float | None | Unset
        if isinstance(self.battery_below, Unset):
            battery_below = UNSET
        else:
            battery_below = self.battery_below

        deadline_s = self.deadline_s

        priority: str | Unset = UNSET
        if not isinstance(self.priority, Unset):
            priority = self.priority.value

        max_in_flight = self.max_in_flight

        admission = self.admission

        dynamic = self.dynamic

        fallback_variants: list[str] | Unset = UNSET
        if not isinstance(self.fallback_variants, Unset):
            fallback_variants = self.fallback_variants

        input_ = self.input_

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
        if rate is not UNSET:
            field_dict["rate"] = rate
        if serve is not UNSET:
            field_dict["serve"] = serve
        if frames is not UNSET:
            field_dict["frames"] = frames
        if failover is not UNSET:
            field_dict["failover"] = failover
        if backup_sources is not UNSET:
            field_dict["backup_sources"] = backup_sources
        if duration_s is not UNSET:
            field_dict["duration_s"] = duration_s
        if battery_below is not UNSET:
            field_dict["battery_below"] = battery_below
        if deadline_s is not UNSET:
            field_dict["deadline_s"] = deadline_s
        if priority is not UNSET:
            field_dict["priority"] = priority
        if max_in_flight is not UNSET:
            field_dict["max_in_flight"] = max_in_flight
        if admission is not UNSET:
            field_dict["admission"] = admission
        if dynamic is not UNSET:
            field_dict["dynamic"] = dynamic
        if fallback_variants is not UNSET:
            field_dict["fallback_variants"] = fallback_variants
        if input_ is not UNSET:
            field_dict["input"] = input_

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

        rate = d.pop("rate", UNSET)

        serve = d.pop("serve", UNSET)

        frames = d.pop("frames", UNSET)

        _failover = d.pop("failover", UNSET)
        failover: FailoverPolicy | Unset
        if isinstance(_failover, Unset):
            failover = UNSET
        else:
            failover = FailoverPolicy(_failover)

        backup_sources = cast(list[str], d.pop("backup_sources", UNSET))

        duration_s = d.pop("duration_s", UNSET)

        def _parse_battery_below(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        battery_below = _parse_battery_below(d.pop("battery_below", UNSET))

        deadline_s = d.pop("deadline_s", UNSET)

        _priority = d.pop("priority", UNSET)
        priority: Priority | Unset
        if isinstance(_priority, Unset):
            priority = UNSET
        else:
            priority = Priority(_priority)

        max_in_flight = d.pop("max_in_flight", UNSET)

        admission = d.pop("admission", UNSET)

        dynamic = d.pop("dynamic", UNSET)

        fallback_variants = cast(list[str], d.pop("fallback_variants", UNSET))

        input_ = d.pop("input", UNSET)

        session_create_request = cls(
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
            rate=rate,
            serve=serve,
            frames=frames,
            failover=failover,
            backup_sources=backup_sources,
            duration_s=duration_s,
            battery_below=battery_below,
            deadline_s=deadline_s,
            priority=priority,
            max_in_flight=max_in_flight,
            admission=admission,
            dynamic=dynamic,
            fallback_variants=fallback_variants,
            input_=input_,
        )

        session_create_request.additional_properties = d
        return session_create_request

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
