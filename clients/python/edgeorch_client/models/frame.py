from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.output_summary import OutputSummary


T = TypeVar("T", bound="Frame")


@_attrs_define
class Frame:
    """
    Attributes:
        request_id (int):
        ok (bool):
        latency_s (float):
        output (None | OutputSummary):
        model (None | str): The model that answered, 'name vversion': the session's, or the variant a failover fell back
            to (null: not known)
        error (str | Unset):
        deadline_met (bool | None | Unset):
        dropped (bool | Unset): A stage dropped it before computing it: its deadline could not be met (``error`` says
            why). A dropped frame is not a deadline miss (a late or failed answer): docs/qos.md
        priority (str | Unset): Its priority class (blank: reported without one)
        deadline_s (float | None | Unset): Its own deadline, seconds from its start (null: none)
        trace (Any | Unset):
        resent (bool | Unset): Sent again on a failover route (once)
        failover_s (float | None | Unset): Seconds it waited for the failover
        arm (int | None | Unset): ans: the arm (cut) the source chose for it; null: the plan's route
        config (str | Unset): Dynamic inference: the configuration (exit, split, variant) its source chose for it;
            blank: the plan's route
        accuracy (float | None | Unset): That configuration's measured accuracy (the catalog's), if answered
        feedback (float | None | Unset): A user's score of this frame, 0 (bad) to 1 (good); null: none given
    """

    request_id: int
    ok: bool
    latency_s: float
    output: None | OutputSummary
    model: None | str
    error: str | Unset = UNSET
    deadline_met: bool | None | Unset = UNSET
    dropped: bool | Unset = UNSET
    priority: str | Unset = UNSET
    deadline_s: float | None | Unset = UNSET
    trace: Any | Unset = UNSET
    resent: bool | Unset = UNSET
    failover_s: float | None | Unset = UNSET
    arm: int | None | Unset = UNSET
    config: str | Unset = UNSET
    accuracy: float | None | Unset = UNSET
    feedback: float | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.output_summary import OutputSummary  # noqa: PLC0415

        request_id = self.request_id

        ok = self.ok

        latency_s = self.latency_s

        output: dict[str, Any] | None
        if isinstance(self.output, OutputSummary):
            output = self.output.to_dict()
        else:
            output = self.output

        model: None | str
        model = self.model

        error = self.error

        deadline_met: bool | None | Unset
        if isinstance(self.deadline_met, Unset):
            deadline_met = UNSET
        else:
            deadline_met = self.deadline_met

        dropped = self.dropped

        priority = self.priority

        deadline_s: float | None | Unset
        if isinstance(self.deadline_s, Unset):
            deadline_s = UNSET
        else:
            deadline_s = self.deadline_s

        trace = self.trace

        resent = self.resent

        failover_s: float | None | Unset
        if isinstance(self.failover_s, Unset):
            failover_s = UNSET
        else:
            failover_s = self.failover_s

        arm: int | None | Unset
        if isinstance(self.arm, Unset):
            arm = UNSET
        else:
            arm = self.arm

        config = self.config

        accuracy: float | None | Unset
        if isinstance(self.accuracy, Unset):
            accuracy = UNSET
        else:
            accuracy = self.accuracy

        feedback: float | None | Unset
        if isinstance(self.feedback, Unset):
            feedback = UNSET
        else:
            feedback = self.feedback

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "request_id": request_id,
                "ok": ok,
                "latency_s": latency_s,
                "output": output,
                "model": model,
            }
        )
        if error is not UNSET:
            field_dict["error"] = error
        if deadline_met is not UNSET:
            field_dict["deadline_met"] = deadline_met
        if dropped is not UNSET:
            field_dict["dropped"] = dropped
        if priority is not UNSET:
            field_dict["priority"] = priority
        if deadline_s is not UNSET:
            field_dict["deadline_s"] = deadline_s
        if trace is not UNSET:
            field_dict["trace"] = trace
        if resent is not UNSET:
            field_dict["resent"] = resent
        if failover_s is not UNSET:
            field_dict["failover_s"] = failover_s
        if arm is not UNSET:
            field_dict["arm"] = arm
        if config is not UNSET:
            field_dict["config"] = config
        if accuracy is not UNSET:
            field_dict["accuracy"] = accuracy
        if feedback is not UNSET:
            field_dict["feedback"] = feedback

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.output_summary import OutputSummary  # noqa: PLC0415

        d = dict(src_dict)
        request_id = d.pop("request_id")

        ok = d.pop("ok")

        latency_s = d.pop("latency_s")

        def _parse_output(data: object) -> None | OutputSummary:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                output_type_1 = OutputSummary.from_dict(data)

                return output_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | OutputSummary, data)

        output = _parse_output(d.pop("output"))

        def _parse_model(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        model = _parse_model(d.pop("model"))

        error = d.pop("error", UNSET)

        def _parse_deadline_met(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        deadline_met = _parse_deadline_met(d.pop("deadline_met", UNSET))

        dropped = d.pop("dropped", UNSET)

        priority = d.pop("priority", UNSET)

        def _parse_deadline_s(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        deadline_s = _parse_deadline_s(d.pop("deadline_s", UNSET))

        trace = d.pop("trace", UNSET)

        resent = d.pop("resent", UNSET)

        def _parse_failover_s(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        failover_s = _parse_failover_s(d.pop("failover_s", UNSET))

        def _parse_arm(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        arm = _parse_arm(d.pop("arm", UNSET))

        config = d.pop("config", UNSET)

        def _parse_accuracy(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        accuracy = _parse_accuracy(d.pop("accuracy", UNSET))

        def _parse_feedback(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        feedback = _parse_feedback(d.pop("feedback", UNSET))

        frame = cls(
            request_id=request_id,
            ok=ok,
            latency_s=latency_s,
            output=output,
            model=model,
            error=error,
            deadline_met=deadline_met,
            dropped=dropped,
            priority=priority,
            deadline_s=deadline_s,
            trace=trace,
            resent=resent,
            failover_s=failover_s,
            arm=arm,
            config=config,
            accuracy=accuracy,
            feedback=feedback,
        )

        frame.additional_properties = d
        return frame

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
