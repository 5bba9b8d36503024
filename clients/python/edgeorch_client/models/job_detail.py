from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.input_kind import InputKind
from ..models.run_state import RunState
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.output_summary import OutputSummary
    from ..models.placement import Placement
    from ..models.run_energy import RunEnergy
    from ..models.stage_row import StageRow
    from ..models.stage_times import StageTimes


T = TypeVar("T", bound="JobDetail")


@_attrs_define
class JobDetail:
    """
    Attributes:
        id (int):
        model (int):
        model_name (str):
        source (UUID):
        source_name (str):
        strategy (str):
        objective (str): What its strategy minimises: latency, energy or energy_under_deadline (docs/energy.md)
        timeout_s (float):
        prediction_error (float | None):
        created_at (datetime.datetime):
        plan (None | Placement):
        output (None | OutputSummary):
        output_url (None | str):
        stages (list[StageRow]):
        totals (StageTimes): Seconds of one request's stages (a stage's own, or their sum over the stages).
        energy (RunEnergy): The source device's joules per request (docs/energy.md, "On runs"): ``joules`` is the figure
            to read,
            ``basis`` says which it is: measured (the source's power meters), estimated (its traced compute and
            latency priced by its profile's power model) or predicted (the plan's).
        state (RunState | Unset): * `pending` - Pending
            * `planning` - Planning
            * `deploying` - Deploying
            * `running` - Running
            * `completed` - Completed
            * `failed` - Failed
            * `cancelled` - Cancelled
        reason (str | Unset): Why it failed or was cancelled
        failed_stage (int | None | Unset):
        params (Any | Unset): Strategy parameters (cut=, device=, k=)
        candidates (Any | Unset): Device ids to consider; [] = all
        codec (str | Unset):
        input_kind (InputKind | Unset): * `upload` - Uploaded .npy
            * `sample` - Test sample of the model's own data
            * `random` - Seeded random tensor
        input_sample (int | None | Unset):
        predicted_latency_s (float | None | Unset):
        started_at (datetime.datetime | None | Unset): When the source agent was told to run
        finished_at (datetime.datetime | None | Unset):
        measured_latency_s (float | None | Unset):
        deployment (None | Unset | UUID):
    """

    id: int
    model: int
    model_name: str
    source: UUID
    source_name: str
    strategy: str
    objective: str
    timeout_s: float
    prediction_error: float | None
    created_at: datetime.datetime
    plan: None | Placement
    output: None | OutputSummary
    output_url: None | str
    stages: list[StageRow]
    totals: StageTimes
    energy: RunEnergy
    state: RunState | Unset = UNSET
    reason: str | Unset = UNSET
    failed_stage: int | None | Unset = UNSET
    params: Any | Unset = UNSET
    candidates: Any | Unset = UNSET
    codec: str | Unset = UNSET
    input_kind: InputKind | Unset = UNSET
    input_sample: int | None | Unset = UNSET
    predicted_latency_s: float | None | Unset = UNSET
    started_at: datetime.datetime | None | Unset = UNSET
    finished_at: datetime.datetime | None | Unset = UNSET
    measured_latency_s: float | None | Unset = UNSET
    deployment: None | Unset | UUID = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.output_summary import OutputSummary  # noqa: PLC0415
        from ..models.placement import Placement  # noqa: PLC0415

        id = self.id

        model = self.model

        model_name = self.model_name

        source = str(self.source)

        source_name = self.source_name

        strategy = self.strategy

        objective = self.objective

        timeout_s = self.timeout_s

        prediction_error: float | None
        prediction_error = self.prediction_error

        created_at = self.created_at.isoformat()

        plan: dict[str, Any] | None
        if isinstance(self.plan, Placement):
            plan = self.plan.to_dict()
        else:
            plan = self.plan

        output: dict[str, Any] | None
        if isinstance(self.output, OutputSummary):
            output = self.output.to_dict()
        else:
            output = self.output

        output_url: None | str
        output_url = self.output_url

        stages = []
        for stages_item_data in self.stages:
            stages_item = stages_item_data.to_dict()
            stages.append(stages_item)

        totals = self.totals.to_dict()

        energy = self.energy.to_dict()

        state: str | Unset = UNSET
        if not isinstance(self.state, Unset):
            state = self.state.value

        reason = self.reason

        failed_stage: int | None | Unset
        if isinstance(self.failed_stage, Unset):
            failed_stage = UNSET
        else:
            failed_stage = self.failed_stage

        params = self.params

        candidates = self.candidates

        codec = self.codec

        input_kind: str | Unset = UNSET
        if not isinstance(self.input_kind, Unset):
            input_kind = self.input_kind.value

        input_sample: int | None | Unset
        if isinstance(self.input_sample, Unset):
            input_sample = UNSET
        else:
            input_sample = self.input_sample

        predicted_latency_s: float | None | Unset
        if isinstance(self.predicted_latency_s, Unset):
            predicted_latency_s = UNSET
        else:
            predicted_latency_s = self.predicted_latency_s

        started_at: None | str | Unset
        if isinstance(self.started_at, Unset):
            started_at = UNSET
        elif isinstance(self.started_at, datetime.datetime):
            started_at = self.started_at.isoformat()
        else:
            started_at = self.started_at

        finished_at: None | str | Unset
        if isinstance(self.finished_at, Unset):
            finished_at = UNSET
        elif isinstance(self.finished_at, datetime.datetime):
            finished_at = self.finished_at.isoformat()
        else:
            finished_at = self.finished_at

        measured_latency_s: float | None | Unset
        if isinstance(self.measured_latency_s, Unset):
            measured_latency_s = UNSET
        else:
            measured_latency_s = self.measured_latency_s

        deployment: None | str | Unset
        if isinstance(self.deployment, Unset):
            deployment = UNSET
        elif isinstance(self.deployment, UUID):
            deployment = str(self.deployment)
        else:
            deployment = self.deployment

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "model": model,
                "model_name": model_name,
                "source": source,
                "source_name": source_name,
                "strategy": strategy,
                "objective": objective,
                "timeout_s": timeout_s,
                "prediction_error": prediction_error,
                "created_at": created_at,
                "plan": plan,
                "output": output,
                "output_url": output_url,
                "stages": stages,
                "totals": totals,
                "energy": energy,
            }
        )
        if state is not UNSET:
            field_dict["state"] = state
        if reason is not UNSET:
            field_dict["reason"] = reason
        if failed_stage is not UNSET:
            field_dict["failed_stage"] = failed_stage
        if params is not UNSET:
            field_dict["params"] = params
        if candidates is not UNSET:
            field_dict["candidates"] = candidates
        if codec is not UNSET:
            field_dict["codec"] = codec
        if input_kind is not UNSET:
            field_dict["input_kind"] = input_kind
        if input_sample is not UNSET:
            field_dict["input_sample"] = input_sample
        if predicted_latency_s is not UNSET:
            field_dict["predicted_latency_s"] = predicted_latency_s
        if started_at is not UNSET:
            field_dict["started_at"] = started_at
        if finished_at is not UNSET:
            field_dict["finished_at"] = finished_at
        if measured_latency_s is not UNSET:
            field_dict["measured_latency_s"] = measured_latency_s
        if deployment is not UNSET:
            field_dict["deployment"] = deployment

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.output_summary import OutputSummary  # noqa: PLC0415
        from ..models.placement import Placement  # noqa: PLC0415
        from ..models.run_energy import RunEnergy  # noqa: PLC0415
        from ..models.stage_row import StageRow  # noqa: PLC0415
        from ..models.stage_times import StageTimes  # noqa: PLC0415

        d = dict(src_dict)
        id = d.pop("id")

        model = d.pop("model")

        model_name = d.pop("model_name")

        source = UUID(d.pop("source"))

        source_name = d.pop("source_name")

        strategy = d.pop("strategy")

        objective = d.pop("objective")

        timeout_s = d.pop("timeout_s")

        def _parse_prediction_error(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        prediction_error = _parse_prediction_error(d.pop("prediction_error"))

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        def _parse_plan(data: object) -> None | Placement:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                plan_type_1 = Placement.from_dict(data)

                return plan_type_1
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Placement, data)

        plan = _parse_plan(d.pop("plan"))

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

        def _parse_output_url(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        output_url = _parse_output_url(d.pop("output_url"))

        stages = []
        _stages = d.pop("stages")
        for stages_item_data in _stages:
            stages_item = StageRow.from_dict(stages_item_data)

            stages.append(stages_item)

        totals = StageTimes.from_dict(d.pop("totals"))

        energy = RunEnergy.from_dict(d.pop("energy"))

        _state = d.pop("state", UNSET)
        state: RunState | Unset
        if isinstance(_state, Unset):
            state = UNSET
        else:
            state = RunState(_state)

        reason = d.pop("reason", UNSET)

        def _parse_failed_stage(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        failed_stage = _parse_failed_stage(d.pop("failed_stage", UNSET))

        params = d.pop("params", UNSET)

        candidates = d.pop("candidates", UNSET)

        codec = d.pop("codec", UNSET)

        _input_kind = d.pop("input_kind", UNSET)
        input_kind: InputKind | Unset
        if isinstance(_input_kind, Unset):
            input_kind = UNSET
        else:
            input_kind = InputKind(_input_kind)

        def _parse_input_sample(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        input_sample = _parse_input_sample(d.pop("input_sample", UNSET))

        def _parse_predicted_latency_s(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        predicted_latency_s = _parse_predicted_latency_s(d.pop("predicted_latency_s", UNSET))

        def _parse_started_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                started_at_type_0 = datetime.datetime.fromisoformat(data)

                return started_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        started_at = _parse_started_at(d.pop("started_at", UNSET))

        def _parse_finished_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                finished_at_type_0 = datetime.datetime.fromisoformat(data)

                return finished_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        finished_at = _parse_finished_at(d.pop("finished_at", UNSET))

        def _parse_measured_latency_s(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        measured_latency_s = _parse_measured_latency_s(d.pop("measured_latency_s", UNSET))

        def _parse_deployment(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                deployment_type_0 = UUID(data)

                return deployment_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        deployment = _parse_deployment(d.pop("deployment", UNSET))

        job_detail = cls(
            id=id,
            model=model,
            model_name=model_name,
            source=source,
            source_name=source_name,
            strategy=strategy,
            objective=objective,
            timeout_s=timeout_s,
            prediction_error=prediction_error,
            created_at=created_at,
            plan=plan,
            output=output,
            output_url=output_url,
            stages=stages,
            totals=totals,
            energy=energy,
            state=state,
            reason=reason,
            failed_stage=failed_stage,
            params=params,
            candidates=candidates,
            codec=codec,
            input_kind=input_kind,
            input_sample=input_sample,
            predicted_latency_s=predicted_latency_s,
            started_at=started_at,
            finished_at=finished_at,
            measured_latency_s=measured_latency_s,
            deployment=deployment,
        )

        job_detail.additional_properties = d
        return job_detail

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
