from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.failover_policy import FailoverPolicy
from ..models.input_kind import InputKind
from ..models.priority import Priority
from ..models.run_state import RunState
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.budget import Budget
    from ..models.budget_change import BudgetChange
    from ..models.placement import Placement
    from ..models.plan_switch import PlanSwitch
    from ..models.session_detail_failures_item import SessionDetailFailuresItem
    from ..models.session_summary import SessionSummary
    from ..models.stage_row import StageRow


T = TypeVar("T", bound="SessionDetail")


@_attrs_define
class SessionDetail:
    """
    Attributes:
        id (UUID):
        model (int):
        model_name (str):
        source (UUID):
        source_name (str):
        strategy (str):
        objective (str): What its strategy minimises: latency, energy or energy_under_deadline (docs/energy.md)
        timeout_s (float):
        prediction_error (float | None):
        created_at (datetime.datetime):
        rate (float): Frames per second
        frames (int):
        summary (SessionSummary): A session's numbers so far (empty until its first frames are recorded).
        input_ (Any): Where the frames come from on the source: {kind, path, loop, index}; null: the tensor
        battery_below (float | None): Low-battery policy: below this battery %, the re-planner plans by objective energy
        objective_now (str): The objective the re-planner plans by now (energy while the battery is low)
        budget (Budget): The coordinator's budget for a session's source (docs/qos.md, "Budgets").
        plan (None | Placement):
        stages (list[StageRow]):
        switches (list[PlanSwitch]):
        budget_changes (list[BudgetChange]): The budgets the coordinator set for it and sent its source, the latest 50,
            oldest first
        failures (list[SessionDetailFailuresItem]): Devices the session lost while running and what its failover did:
            {device, device_name, stage, policy, detected_at, detection_s, outcome, reason, new_plan, replanned_s, takeover,
            recovered_at, mttr_s, restored_at}
        learning (Any): What the session has learned: for ans, as of the source's last report, {strategy, edge, arms:
            [{cut, estimate_s, bound_s, pulls, beside}], reported_at} (beside: of the pulls, the looks beside local frames);
            for qoe-bandit, {strategy, current, arms: [{variant, model, accuracy, estimate, width, pulls}], windows:
            [{variant, first, last, frames, answered, latency_s, accuracy, feedback, reward}], context, context_features},
            and with split ans ans: [{model, edge, arms: [{cut, estimate_s, bound_s, pulls, beside}], reported_at}] per
            variant learned on; {} for other strategies (docs/learning.md)
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
        max_in_flight (int | Unset):
        deadline_s (float | None | Unset):
        priority (Priority | Unset): * `low` - Low: served after every other class
            * `normal` - Normal (the default)
            * `high` - High: served before normal and low
            * `critical` - Critical: served first
        frames_sent (int | Unset):
        frames_ok (int | Unset):
        serve (Any | Unset): a serving session: the model the source's inference endpoint answers for ({model, version,
            inputs, outputs}); its frames are the endpoint's requests. Null: a stream at ``rate``
        failover (FailoverPolicy | Unset): * `none` - None: a lost stage device fails the session
            * `cold` - Cold: re-plan over the devices left, deploy, send the cut-off frames again
            * `warm` - Warm: a standby deployment per stage device is loaded ahead; it takes over at once
        backup_sources (Any | Unset): Sensing redundancy: other devices observing the same scene (ids, in order of
            preference); with a failover policy, losing the source moves the stream to the first of them that is online
        admission (Any | Unset): Admission control's decision when it was asked for: {admitted, predicted_s, deadline_s,
            model, degraded_from?, reason} (docs/qos.md)
        dynamic (Any | Unset): Dynamic inference: the configurations its source chooses among per frame, as sent
            (``stream.dynamic.configs``: name, accuracy, first_stage, stages, ...); a frame's reported configuration is
            believed only if named here, and its accuracy is taken from here (docs/qos.md)
        deployment (None | Unset | UUID):
        standbys (Any | Unset): warm failover: per device of the current deployment (not the source), the standby that
            takes over if it is lost: {device_id: {deployment, plan, memory_bytes: {device_id: bytes}}}
    """

    id: UUID
    model: int
    model_name: str
    source: UUID
    source_name: str
    strategy: str
    objective: str
    timeout_s: float
    prediction_error: float | None
    created_at: datetime.datetime
    rate: float
    frames: int
    summary: SessionSummary
    input_: Any
    battery_below: float | None
    objective_now: str
    budget: Budget
    plan: None | Placement
    stages: list[StageRow]
    switches: list[PlanSwitch]
    budget_changes: list[BudgetChange]
    failures: list[SessionDetailFailuresItem]
    learning: Any
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
    max_in_flight: int | Unset = UNSET
    deadline_s: float | None | Unset = UNSET
    priority: Priority | Unset = UNSET
    frames_sent: int | Unset = UNSET
    frames_ok: int | Unset = UNSET
    serve: Any | Unset = UNSET
    failover: FailoverPolicy | Unset = UNSET
    backup_sources: Any | Unset = UNSET
    admission: Any | Unset = UNSET
    dynamic: Any | Unset = UNSET
    deployment: None | Unset | UUID = UNSET
    standbys: Any | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.placement import Placement  # noqa: PLC0415

        id = str(self.id)

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

        rate = self.rate

        frames = self.frames

        summary = self.summary.to_dict()

        input_ = self.input_

        battery_below: float | None
        battery_below = self.battery_below

        objective_now = self.objective_now

        budget = self.budget.to_dict()

        plan: dict[str, Any] | None
        if isinstance(self.plan, Placement):
            plan = self.plan.to_dict()
        else:
            plan = self.plan

        stages = []
        for stages_item_data in self.stages:
            stages_item = stages_item_data.to_dict()
            stages.append(stages_item)

        switches = []
        for switches_item_data in self.switches:
            switches_item = switches_item_data.to_dict()
            switches.append(switches_item)

        budget_changes = []
        for budget_changes_item_data in self.budget_changes:
            budget_changes_item = budget_changes_item_data.to_dict()
            budget_changes.append(budget_changes_item)

        failures = []
        for failures_item_data in self.failures:
            failures_item = failures_item_data.to_dict()
            failures.append(failures_item)

        learning = self.learning

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

        max_in_flight = self.max_in_flight

        deadline_s: float | None | Unset
        if isinstance(self.deadline_s, Unset):
            deadline_s = UNSET
        else:
            deadline_s = self.deadline_s

        priority: str | Unset = UNSET
        if not isinstance(self.priority, Unset):
            priority = self.priority.value

        frames_sent = self.frames_sent

        frames_ok = self.frames_ok

        serve = self.serve

        failover: str | Unset = UNSET
        if not isinstance(self.failover, Unset):
            failover = self.failover.value

        backup_sources = self.backup_sources

        admission = self.admission

        dynamic = self.dynamic

        deployment: None | str | Unset
        if isinstance(self.deployment, Unset):
            deployment = UNSET
        elif isinstance(self.deployment, UUID):
            deployment = str(self.deployment)
        else:
            deployment = self.deployment

        standbys = self.standbys

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
                "rate": rate,
                "frames": frames,
                "summary": summary,
                "input": input_,
                "battery_below": battery_below,
                "objective_now": objective_now,
                "budget": budget,
                "plan": plan,
                "stages": stages,
                "switches": switches,
                "budget_changes": budget_changes,
                "failures": failures,
                "learning": learning,
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
        if max_in_flight is not UNSET:
            field_dict["max_in_flight"] = max_in_flight
        if deadline_s is not UNSET:
            field_dict["deadline_s"] = deadline_s
        if priority is not UNSET:
            field_dict["priority"] = priority
        if frames_sent is not UNSET:
            field_dict["frames_sent"] = frames_sent
        if frames_ok is not UNSET:
            field_dict["frames_ok"] = frames_ok
        if serve is not UNSET:
            field_dict["serve"] = serve
        if failover is not UNSET:
            field_dict["failover"] = failover
        if backup_sources is not UNSET:
            field_dict["backup_sources"] = backup_sources
        if admission is not UNSET:
            field_dict["admission"] = admission
        if dynamic is not UNSET:
            field_dict["dynamic"] = dynamic
        if deployment is not UNSET:
            field_dict["deployment"] = deployment
        if standbys is not UNSET:
            field_dict["standbys"] = standbys

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.budget import Budget  # noqa: PLC0415
        from ..models.budget_change import BudgetChange  # noqa: PLC0415
        from ..models.placement import Placement  # noqa: PLC0415
        from ..models.plan_switch import PlanSwitch  # noqa: PLC0415
        from ..models.session_detail_failures_item import SessionDetailFailuresItem  # noqa: PLC0415
        from ..models.session_summary import SessionSummary  # noqa: PLC0415
        from ..models.stage_row import StageRow  # noqa: PLC0415

        d = dict(src_dict)
        id = UUID(d.pop("id"))

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

        rate = d.pop("rate")

        frames = d.pop("frames")

        summary = SessionSummary.from_dict(d.pop("summary"))

        input_ = d.pop("input")

        def _parse_battery_below(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        battery_below = _parse_battery_below(d.pop("battery_below"))

        objective_now = d.pop("objective_now")

        budget = Budget.from_dict(d.pop("budget"))

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

        stages = []
        _stages = d.pop("stages")
        for stages_item_data in _stages:
            stages_item = StageRow.from_dict(stages_item_data)

            stages.append(stages_item)

        switches = []
        _switches = d.pop("switches")
        for switches_item_data in _switches:
            switches_item = PlanSwitch.from_dict(switches_item_data)

            switches.append(switches_item)

        budget_changes = []
        _budget_changes = d.pop("budget_changes")
        for budget_changes_item_data in _budget_changes:
            budget_changes_item = BudgetChange.from_dict(budget_changes_item_data)

            budget_changes.append(budget_changes_item)

        failures = []
        _failures = d.pop("failures")
        for failures_item_data in _failures:
            failures_item = SessionDetailFailuresItem.from_dict(failures_item_data)

            failures.append(failures_item)

        learning = d.pop("learning")

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

        max_in_flight = d.pop("max_in_flight", UNSET)

        def _parse_deadline_s(data: object) -> float | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(float | None | Unset, data)

        deadline_s = _parse_deadline_s(d.pop("deadline_s", UNSET))

        _priority = d.pop("priority", UNSET)
        priority: Priority | Unset
        if isinstance(_priority, Unset):
            priority = UNSET
        else:
            priority = Priority(_priority)

        frames_sent = d.pop("frames_sent", UNSET)

        frames_ok = d.pop("frames_ok", UNSET)

        serve = d.pop("serve", UNSET)

        _failover = d.pop("failover", UNSET)
        failover: FailoverPolicy | Unset
        if isinstance(_failover, Unset):
            failover = UNSET
        else:
            failover = FailoverPolicy(_failover)

        backup_sources = d.pop("backup_sources", UNSET)

        admission = d.pop("admission", UNSET)

        dynamic = d.pop("dynamic", UNSET)

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

        standbys = d.pop("standbys", UNSET)

        session_detail = cls(
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
            rate=rate,
            frames=frames,
            summary=summary,
            input_=input_,
            battery_below=battery_below,
            objective_now=objective_now,
            budget=budget,
            plan=plan,
            stages=stages,
            switches=switches,
            budget_changes=budget_changes,
            failures=failures,
            learning=learning,
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
            max_in_flight=max_in_flight,
            deadline_s=deadline_s,
            priority=priority,
            frames_sent=frames_sent,
            frames_ok=frames_ok,
            serve=serve,
            failover=failover,
            backup_sources=backup_sources,
            admission=admission,
            dynamic=dynamic,
            deployment=deployment,
            standbys=standbys,
        )

        session_detail.additional_properties = d
        return session_detail

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
