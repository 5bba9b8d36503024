from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.latency_percentiles import LatencyPercentiles
    from ..models.run_energy import RunEnergy
    from ..models.session_summary_by_priority import SessionSummaryByPriority
    from ..models.session_summary_configs import SessionSummaryConfigs
    from ..models.stage_times import StageTimes


T = TypeVar("T", bound="SessionSummary")


@_attrs_define
class SessionSummary:
    """A session's numbers so far (empty until its first frames are recorded).

    Attributes:
        frames (int | Unset):
        ok (int | Unset):
        failed (int | Unset):
        latency_s (LatencyPercentiles | Unset):
        throughput_fps (float | None | Unset):
        deadline_s (float | None | Unset):
        deadline_misses (int | Unset): Frames with a deadline answered late or failed (drops are apart)
        late (int | Unset): Of the misses, the frames answered late
        dropped (int | Unset): Frames a stage dropped before computing them, their deadline out of reach (docs/qos.md)
        budget_dropped (int | Unset): Of the drops, the frames its source dropped over the coordinator's budget, with no
            allowed alternative (their error starts 'budget:'; docs/qos.md, "Budgets")
        by_priority (SessionSummaryByPriority | Unset): The same per priority class of the frames (a served request may
            carry its own)
        mean_accuracy (float | None | Unset): Dynamic inference: the mean measured accuracy of the configurations that
            answered
        configs (SessionSummaryConfigs | Unset): Dynamic inference: frames per configuration its source chose
            (docs/qos.md)
        predicted_latency_s (float | None | Unset):
        predicted_throughput_fps (float | None | Unset):
        mean_stage_s (StageTimes | Unset): Seconds of one request's stages (a stage's own, or their sum over the
            stages).
        overlapped (int | Unset): Frames entering before the last left
        energy (RunEnergy | Unset): The source device's joules per request (docs/energy.md, "On runs"): ``joules`` is
            the figure to read,
            ``basis`` says which it is: measured (the source's power meters), estimated (its traced compute and
            latency priced by its profile's power model) or predicted (the plan's).
    """

    frames: int | Unset = UNSET
    ok: int | Unset = UNSET
    failed: int | Unset = UNSET
    latency_s: LatencyPercentiles | Unset = UNSET
    throughput_fps: float | None | Unset = UNSET
    deadline_s: float | None | Unset = UNSET
    deadline_misses: int | Unset = UNSET
    late: int | Unset = UNSET
    dropped: int | Unset = UNSET
    budget_dropped: int | Unset = UNSET
    by_priority: SessionSummaryByPriority | Unset = UNSET
    mean_accuracy: float | None | Unset = UNSET
    configs: SessionSummaryConfigs | Unset = UNSET
    predicted_latency_s: float | None | Unset = UNSET
    predicted_throughput_fps: float | None | Unset = UNSET
    mean_stage_s: StageTimes | Unset = UNSET
    overlapped: int | Unset = UNSET
    energy: RunEnergy | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        frames = self.frames

        ok = self.ok

        failed = self.failed

        latency_s: dict[str, Any] | Unset = UNSET
        if not isinstance(self.latency_s, Unset):
            latency_s = self.latency_s.to_dict()

        throughput_fps: float | None | Unset
        if isinstance(self.throughput_fps, Unset):
            throughput_fps = UNSET
        else:
            throughput_fps = self.throughput_fps

        deadline_s: float | None | Unset
        if isinstance(self.deadline_s, Unset):
            deadline_s = UNSET
        else:
            deadline_s = self.deadline_s

        deadline_misses = self.deadline_misses

        late = self.late

        dropped = self.dropped

        budget_dropped = self.budget_dropped

        by_priority: dict[str, Any] | Unset = UNSET
        if not isinstance(self.by_priority, Unset):
            by_priority = self.by_priority.to_dict()

        mean_accuracy: float | None | Unset
        if isinstance(self.mean_accuracy, Unset):
            mean_accuracy = UNSET
        else:
            mean_accuracy = self.mean_accuracy

        configs: dict[str, Any] | Unset = UNSET
        if not isinstance(self.configs, Unset):
            configs = self.configs.to_dict()

        predicted_latency_s: float | None | Unset
        if isinstance(self.predicted_latency_s, Unset):
            predicted_latency_s = UNSET
        else:
            predicted_latency_s = self.predicted_latency_s

        predicted_throughput_fps: float | None | Unset
        if isinstance(self.predicted_throughput_fps, Unset):
            predicted_throughput_fps = UNSET
        else:
            predicted_throughput_fps = self.predicted_throughput_fps

        mean_stage_s: dict[str, Any] | Unset = UNSET
        if not isinstance(self.mean_stage_s, Unset):
            mean_stage_s = self.mean_stage_s.to_dict()

        overlapped = self.overlapped

        energy: dict[str, Any] | Unset = UNSET
        if not isinstance(self.energy, Unset):
            energy = self.energy.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if frames is not UNSET:
            field_dict["frames"] = frames
        if ok is not UNSET:
            field_dict["ok"] = ok
        if failed is not UNSET:
            field_dict["failed"] = failed
        if latency_s is not UNSET:
            field_dict["latency_s"] = latency_s
        if throughput_fps is not UNSET:
            field_dict["throughput_fps"] = throughput_fps
        if deadline_s is not UNSET:
            field_dict["deadline_s"] = deadline_s
        if deadline_misses is not UNSET:
            field_dict["deadline_misses"] = deadline_misses
        if late is not UNSET:
            field_dict["late"] = late
        if dropped is not UNSET:
            field_dict["dropped"] = dropped
        if budget_dropped is not UNSET:
            field_dict["budget_dropped"] = budget_dropped
        if by_priority is not UNSET:
            field_dict["by_priority"] = by_priority
        if mean_accuracy is not UNSET:
            field_dict["mean_accuracy"] = mean_accuracy
        if configs is not UNSET:
            field_dict["configs"] = configs
        if predicted_latency_s is not UNSET:
            field_dict["predicted_latency_s"] = predicted_latency_s
        if predicted_throughput_fps is not UNSET:
            field_dict["predicted_throughput_fps"] = predicted_throughput_fps
        if mean_stage_s is not UNSET:
            field_dict["mean_stage_s"] = mean_stage_s
        if overlapped is not UNSET:
            field_dict["overlapped"] = overlapped
        if energy is not UNSET:
            field_dict["energy"] = energy

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.latency_percentiles import LatencyPercentiles  # noqa: PLC0415
        from ..models.run_energy import RunEnergy  # noqa: PLC0415
        from ..models.session_summary_by_priority import SessionSummaryByPriority  # noqa: PLC0415
        from ..models.session_summary_configs import SessionSummaryConfigs  # noqa: PLC0415
        from ..models.stage_times import StageTimes  # noqa: PLC0415

        d = dict(src_dict)
        frames = d.pop("frames", UNSET)

        ok = d.pop("ok", UNSET)

        failed = d.pop("failed", UNSET)

        _latency_s = d.pop("latency_s", UNSET)
        latency_s: LatencyPercentiles | Unset
        if isinstance(_latency_s, Unset):
            latency_s = UNSET
        else:
            latency_s = LatencyPercentiles.from_dict(_latency_s)

        def _parse_throughput_fps(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        throughput_fps = _parse_throughput_fps(d.pop("throughput_fps", UNSET))

        def _parse_deadline_s(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        deadline_s = _parse_deadline_s(d.pop("deadline_s", UNSET))

        deadline_misses = d.pop("deadline_misses", UNSET)

        late = d.pop("late", UNSET)

        dropped = d.pop("dropped", UNSET)

        budget_dropped = d.pop("budget_dropped", UNSET)

        _by_priority = d.pop("by_priority", UNSET)
        by_priority: SessionSummaryByPriority | Unset
        if isinstance(_by_priority, Unset):
            by_priority = UNSET
        else:
            by_priority = SessionSummaryByPriority.from_dict(_by_priority)

        def _parse_mean_accuracy(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        mean_accuracy = _parse_mean_accuracy(d.pop("mean_accuracy", UNSET))

        _configs = d.pop("configs", UNSET)
        configs: SessionSummaryConfigs | Unset
        if isinstance(_configs, Unset):
            configs = UNSET
        else:
            configs = SessionSummaryConfigs.from_dict(_configs)

        def _parse_predicted_latency_s(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        predicted_latency_s = _parse_predicted_latency_s(d.pop("predicted_latency_s", UNSET))

        def _parse_predicted_throughput_fps(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        predicted_throughput_fps = _parse_predicted_throughput_fps(d.pop("predicted_throughput_fps", UNSET))

        _mean_stage_s = d.pop("mean_stage_s", UNSET)
        mean_stage_s: StageTimes | Unset
        if isinstance(_mean_stage_s, Unset):
            mean_stage_s = UNSET
        else:
            mean_stage_s = StageTimes.from_dict(_mean_stage_s)

        overlapped = d.pop("overlapped", UNSET)

        _energy = d.pop("energy", UNSET)
        energy: RunEnergy | Unset
        if isinstance(_energy, Unset):
            energy = UNSET
        else:
            energy = RunEnergy.from_dict(_energy)

        session_summary = cls(
            frames=frames,
            ok=ok,
            failed=failed,
            latency_s=latency_s,
            throughput_fps=throughput_fps,
            deadline_s=deadline_s,
            deadline_misses=deadline_misses,
            late=late,
            dropped=dropped,
            budget_dropped=budget_dropped,
            by_priority=by_priority,
            mean_accuracy=mean_accuracy,
            configs=configs,
            predicted_latency_s=predicted_latency_s,
            predicted_throughput_fps=predicted_throughput_fps,
            mean_stage_s=mean_stage_s,
            overlapped=overlapped,
            energy=energy,
        )

        session_summary.additional_properties = d
        return session_summary

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
