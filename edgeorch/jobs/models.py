"""Jobs (one request), sessions (a stream of frames), the deployments they run on, and measurement requests.

A ``Job`` or ``Session`` row is the source of truth for its state; Celery and the agents only move it along
through ``services``. Every move goes through ``Run.move_to``, which refuses transitions that
``choices.TRANSITIONS`` does not allow and never leaves a terminal state.
"""

from __future__ import annotations

import statistics
import uuid
from pathlib import Path

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import sql
from django.utils import timezone
from django.utils.crypto import salted_hmac

from edgeorch import events as dashboard

from .choices import (
    TERMINAL,
    TRANSITIONS,
    DeploymentState,
    Failover,
    InputKind,
    MeasurementState,
    Priority,
    RunState,
)


class IllegalTransition(Exception):
    """A state change the state machine does not allow (e.g. a result for a cancelled job)."""


def skips_flush() -> bool:
    """Whether run-state commits skip PostgreSQL's disk flush (``SET LOCAL synchronous_commit TO OFF``):
    on PostgreSQL unless ``JOB_SYNCHRONOUS_COMMIT``; see ``services.run_transaction`` for what that risks."""
    return connection.vendor == "postgresql" and not settings.JOB_SYNCHRONOUS_COMMIT


def update_without_flush(queryset, **values) -> int:
    """``queryset.update(**values)``, committing on PostgreSQL without waiting for the disk (unless
    ``JOB_SYNCHRONOUS_COMMIT``; see ``services.run_transaction`` for what that risks), still one round trip:
    the statement goes with ``SET LOCAL synchronous_commit`` in one query string, which PostgreSQL runs as
    one implicit transaction. It needs Django's client-side parameter binding and its private ``UpdateQuery``
    (tests/test_private_internals.py); inside ``atomic()`` the same costs four round trips, about twice the
    time (docs/benchmarks.md, "Run state commits")."""
    if not skips_flush():
        return queryset.update(**values)
    query = queryset.query.chain(sql.UpdateQuery)
    query.add_update_values(values)
    statement, params = query.get_compiler(queryset.db).as_sql()
    with transaction.mark_for_rollback_on_error(using=queryset.db), connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF; " + statement, params)
        cursor.nextset()  # the UPDATE's result
        return cursor.rowcount


class SecondsSince(models.Func):
    """Seconds from a row's datetime column to ``moment``, as a float: lets one UPDATE store a latency
    measured from the row's own start, without reading the row first."""

    output_field = models.FloatField()

    def __init__(self, column: str, moment):
        super().__init__(models.Value(moment, output_field=models.DateTimeField()), models.F(column))

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="EXTRACT(EPOCH FROM (%(expressions)s))", arg_joiner=" - ", **extra
        )

    def as_sqlite(self, compiler, connection, **extra):
        # Django's own microsecond difference (julianday() parses only milliseconds).
        return self.as_sql(
            compiler,
            connection,
            template="django_timestamp_diff(%(expressions)s) / 1e6",
            arg_joiner=", ",
            **extra,
        )


def run_dir(kind: str, pk) -> Path:
    return Path(settings.MEDIA_ROOT) / kind / str(pk)


SECRET_SALT = "edgeorch.jobs.Deployment.secret"


class Deployment(models.Model):
    """Segments of one model placed on devices, loaded by their agents; reused while those devices stay
    online.

    ``key`` identifies the placement (model, cuts, device and codec per stage) so that jobs with the same plan
    share one deployment. ``stages`` holds, per stage, the description sent in ``deploy`` plus its device;
    ``ready_devices`` fills as ``deploy_status`` messages arrive. ``secret`` (derived, not stored)
    authenticates the data plane.
    ``job_overheads`` holds what recent one-shot jobs on it took beyond their plan's latency (the ``run``
    message's and the result's way through the control plane, which the plan does not model); their median
    (``job_overhead_s``) is added to the next jobs' predicted latency.
    """

    OVERHEAD_SAMPLES = 9

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    key = models.CharField(max_length=64, db_index=True)
    model = models.ForeignKey("catalog.MLModel", on_delete=models.PROTECT, related_name="deployments")
    cuts = models.CharField(max_length=200, blank=True)
    stages = models.JSONField(help_text="[{stage, device, url, sha256, inputs, outputs, next}]")
    devices = models.JSONField(help_text="Device ids, in stage order, without repeats")
    ready_devices = models.JSONField(default=list)
    state = models.CharField(
        max_length=10, choices=DeploymentState.choices, default=DeploymentState.DEPLOYING
    )
    error = models.TextField(blank=True)
    load_s = models.JSONField(default=dict, help_text="Seconds each device took to load its stages")
    job_overheads = models.JSONField(
        default=list,
        blank=True,
        help_text="Seconds recent jobs on it took beyond their plan's latency, newest last",
    )
    arms = models.JSONField(
        default=list,
        blank=True,
        help_text="ans: every arm it holds, [{cut, edge, first_stage}] (the source picks one per frame); "
        "empty: one chain, entered at stage 0",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    ready_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["key", "state"])]

    def __str__(self) -> str:
        return f"deployment {str(self.id)[:8]} of {self.model_id} [{self.cuts}]"

    @property
    def secret(self) -> str:
        """The key of this deployment's data-plane handshake, sent to its agents (``deploy``, a run's
        ``entry``): an HMAC of its id under ``SECRET_KEY``, so the database holds no usable secret
        (docs/deployment.md, "Secrets at rest"). Rotating ``SECRET_KEY`` changes it: the restart that takes
        the new key drops the agents' sockets, which retires their deployments."""
        return salted_hmac(SECRET_SALT, str(self.pk), algorithm="sha256").hexdigest()

    @property
    def first_stage(self) -> dict:
        return self.stages[0]

    @property
    def job_overhead_s(self) -> float:
        """The median of ``job_overheads`` (0.0 until three jobs have finished on it)."""
        samples = self.job_overheads or []
        return statistics.median(samples) if len(samples) >= 3 else 0.0

    def stage_of(self, device_id: str) -> int | None:
        """The first stage that runs on ``device_id`` (None when it runs none)."""
        return next((s["stage"] for s in self.stages if s["device"] == str(device_id)), None)


class Run(models.Model):
    """What jobs and sessions share: the request, the plan, the state machine and the timing summary."""

    model = models.ForeignKey("catalog.MLModel", on_delete=models.PROTECT, related_name="+")
    source = models.ForeignKey("devices.Device", on_delete=models.PROTECT, related_name="+")
    strategy = models.CharField(max_length=40)
    params = models.JSONField(default=dict, blank=True, help_text="Strategy parameters (cut=, device=, k=)")
    candidates = models.JSONField(default=list, blank=True, help_text="Device ids to consider; [] = all")
    codec = models.CharField(max_length=10, default="raw")
    input_kind = models.CharField(max_length=10, choices=InputKind.choices, default=InputKind.RANDOM)
    input_sample = models.IntegerField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=RunState.choices, default=RunState.PENDING)
    reason = models.TextField(blank=True, help_text="Why it failed or was cancelled")
    failed_stage = models.IntegerField(null=True, blank=True)
    plan = models.JSONField(null=True, blank=True)
    deployment = models.ForeignKey(
        Deployment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    predicted_latency_s = models.FloatField(null=True, blank=True)
    timeout_s = models.FloatField()
    base_url = models.CharField(max_length=300, help_text="How agents reach this server (input URLs)")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(
        null=True, blank=True, help_text="When the source agent was told to run"
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL

    def move_to(self, state: str, **fields) -> list[str]:
        """Change state in memory (the caller saves the returned ``update_fields``); raises
        ``IllegalTransition`` for a move the state machine forbids."""
        self._check_move(self.pk, self.state, state)
        self.state = state
        if state in TERMINAL:
            self.finished_at = timezone.now()
            fields.setdefault("finished_at", self.finished_at)
        for name, value in fields.items():
            setattr(self, name, value)
        # Dashboards hear of every state change once it is committed (a rolled-back move never happened).
        event = (f"{self._meta.model_name}.{state}", self.progress())
        transaction.on_commit(lambda: dashboard.publish(*event))
        return ["state", *fields]

    @classmethod
    def _check_move(cls, pk, current: str, state: str) -> None:
        """Raise ``IllegalTransition`` for a move the state machine forbids (never out of a terminal
        state)."""
        allowed = state in (RunState.FAILED, RunState.CANCELLED) or state in TRANSITIONS.get(
            RunState(current), set()
        )
        if current in TERMINAL or not allowed:
            raise IllegalTransition(f"{cls._meta.model_name} {pk}: {current} -> {state} is not allowed")

    @classmethod
    def move_if(cls, pk, expected: str, state: str, *conditions, where: dict | None = None, **fields) -> bool:
        """``move_to`` as one UPDATE, for the hot path of a run: the row moves from ``expected`` to ``state``
        only if it is still in ``expected`` (and matches ``conditions`` and ``where``) when the statement
        runs; False if it was not. The database settles the race a lock would (a row being updated is
        re-checked once its other writer commits), in one round trip and with no transaction around it. The
        caller publishes the dashboard event (it needs the row)."""
        cls._check_move(pk, expected, state)
        if state in TERMINAL:
            fields.setdefault("finished_at", timezone.now())
        moving = cls._default_manager.filter(*conditions, pk=pk, state=expected, **(where or {}))
        return bool(update_without_flush(moving, state=state, **fields))

    PROGRESS_FIELDS = ("state", "reason", "failed_stage", "predicted_latency_s")  # what ``progress`` reads

    def progress(self) -> dict:
        """What a dashboard event says about this run's state."""
        return {
            "id": str(self.pk),
            "state": str(self.state),
            "reason": self.reason,
            "failed_stage": self.failed_stage,
            "predicted_latency_s": self.predicted_latency_s,
        }

    @property
    def stage_devices(self) -> list[str]:
        return [s["device"] for s in (self.plan or {}).get("stages", [])]


class Job(Run):
    """One inference request run along its plan; the last stage's agent reports the output and the trace.

    ``trace`` lists, per stage, its device and queue/compute/serialize/transfer seconds with wall-clock start
    and end; ``measured_latency_s`` runs from telling the source to run until the result arrived.
    """

    trace = models.JSONField(default=list, blank=True)
    output = models.JSONField(default=dict, blank=True, help_text="{name, shape, dtype, top_k}")
    measured_latency_s = models.FloatField(null=True, blank=True)

    class Meta(Run.Meta):
        indexes = [models.Index(fields=["state", "created_at"])]

    def __str__(self) -> str:
        return f"job {self.pk} ({self.state})"

    @property
    def directory(self) -> Path:
        return run_dir("jobs", self.pk)

    @property
    def input_path(self) -> Path:
        return self.directory / "input.npy"

    @property
    def output_path(self) -> Path:
        return self.directory / "output.npy"


class Session(Run):
    """A stream of ``frames`` requests at ``rate`` frames/s from the source, executed by the agents without a
    control-plane round trip per frame; per-frame records arrive in batches as ``Frame`` rows.

    ``deadline_s`` is the per-frame latency a frame must meet; ``summary`` holds p50/p95/p99, throughput and
    deadline misses once the stream is done (and is refreshed while it runs).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    rate = models.FloatField(help_text="Frames per second")
    frames = models.PositiveIntegerField()
    max_in_flight = models.PositiveIntegerField(default=1)
    deadline_s = models.FloatField(null=True, blank=True)
    frames_sent = models.PositiveIntegerField(default=0)
    frames_ok = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)
    adaptation = models.JSONField(
        default=dict, blank=True, help_text="adaptive: estimated conditions and the re-planner's bookkeeping"
    )
    input_source = models.JSONField(
        null=True,
        blank=True,
        help_text="Where the frames come from on the source device: {kind: video|images|camera|pushed, path, "
        "loop, index} (edgeorch_wire.shapes.StreamSource); null: the input tensor, every frame",
    )
    serve = models.JSONField(
        null=True,
        blank=True,
        help_text="a serving session: the model the source's inference endpoint answers for ({model, "
        "version, inputs, outputs}); its frames are the endpoint's requests. Null: a stream at ``rate``",
    )
    failover = models.CharField(
        max_length=8,
        choices=Failover.choices,
        default=Failover.NONE,
        help_text="What a lost stage device does to the session: none = it fails; cold = the control plane "
        "re-plans over the devices left, deploys, and the source sends the frames that were cut off again; "
        "warm = as cold, but onto a standby deployment loaded ahead for each device",
    )
    backup_sources = models.JSONField(
        default=list,
        blank=True,
        help_text="Sensing redundancy: other devices observing the same scene (ids, in order of preference); "
        "with a failover policy, losing the source moves the stream to the first of them that is online",
    )
    standbys = models.JSONField(
        default=dict,
        blank=True,
        help_text="warm failover: per device of the current deployment (not the source), the standby that "
        "takes over if it is lost: {device_id: {deployment, plan, memory_bytes: {device_id: bytes}}}",
    )
    learning = models.JSONField(
        default=dict,
        blank=True,
        help_text="ans: what the source has learned, as of its last report: {strategy, edge, arms: [{cut, "
        "estimate_s, bound_s, pulls}], reported_at} (docs/learning.md)",
    )
    priority = models.CharField(
        max_length=8,
        choices=Priority.choices,
        default=Priority.NORMAL,
        help_text="Its frames' priority class: every stage's queue serves a higher class first, then the "
        "earliest deadline; a served request's own priority overrides it (docs/qos.md)",
    )
    dynamic = models.JSONField(
        default=list,
        blank=True,
        help_text="Dynamic inference: the configurations its source chooses among per frame, as sent "
        "(``stream.dynamic.configs``: name, accuracy, first_stage, stages, ...); a frame's reported "
        "configuration is believed only if named here, and its accuracy is taken from here (docs/qos.md)",
    )
    admission = models.JSONField(
        default=dict,
        blank=True,
        help_text="Admission control's decision when it was asked for: {admitted, predicted_s, deadline_s, "
        "model, degraded_from?, reason} (docs/qos.md)",
    )
    budget = models.JSONField(
        default=dict,
        blank=True,
        help_text="The coordinator's budget for its source, as last sent: {id, deployment, edges: "
        '[{device_id, name, share, rate}], reason, at}; {}: none, no limit (docs/qos.md, "Budgets")',
    )

    class Meta(Run.Meta):
        indexes = [models.Index(fields=["state", "created_at"])]

    def __str__(self) -> str:
        return f"session {str(self.pk)[:8]} ({self.state})"

    @property
    def directory(self) -> Path:
        return run_dir("sessions", self.pk)

    @property
    def input_path(self) -> Path:
        return self.directory / "input.npy"


class Frame(models.Model):
    """One frame of a session as the source agent reported it."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="frame_records")
    request_id = models.IntegerField()
    ok = models.BooleanField()
    error = models.TextField(blank=True)
    latency_s = models.FloatField()
    trace = models.JSONField(default=list)
    deadline_met = models.BooleanField(null=True)
    output = models.JSONField(
        null=True, blank=True, help_text="{name, shape, dtype, top_k} of the last stage's first output"
    )
    received_at = models.DateTimeField(auto_now_add=True)
    resent = models.BooleanField(default=False, help_text="Sent again on a failover route (once)")
    failover_s = models.FloatField(null=True, blank=True, help_text="Seconds it waited for the failover")
    arm = models.IntegerField(
        null=True, blank=True, help_text="ans: the arm (cut) the source chose for it; null: the plan's route"
    )
    feedback = models.FloatField(
        null=True, blank=True, help_text="A user's score of this frame, 0 (bad) to 1 (good); null: none given"
    )
    model = models.ForeignKey(
        "catalog.MLModel",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The model that answered: the session's, or the variant a failover fell back to",
    )
    dropped = models.BooleanField(
        default=False,
        help_text="A stage dropped it before computing it: its deadline could not be met (``error`` says "
        "why). A dropped frame is not a deadline miss (a late or failed answer): docs/qos.md",
    )
    priority = models.CharField(
        max_length=8, blank=True, help_text="Its priority class (blank: reported without one)"
    )
    deadline_s = models.FloatField(
        null=True, blank=True, help_text="Its own deadline, seconds from its start (null: none)"
    )
    config = models.CharField(
        max_length=200,
        blank=True,
        help_text="Dynamic inference: the configuration (exit, split, variant) its source chose for it; "
        "blank: the plan's route",
    )
    accuracy = models.FloatField(
        null=True, blank=True, help_text="That configuration's measured accuracy (the catalog's), if answered"
    )

    class Meta:
        ordering = ["session", "request_id"]
        constraints = [models.UniqueConstraint(fields=["session", "request_id"], name="jobs_frame_once")]

    def __str__(self) -> str:
        return f"frame {self.request_id} of {self.session_id}"


class PlanSwitch(models.Model):
    """An ``adaptive`` session moved to another plan between two frames: why, and what was predicted.

    Frames up to ``after_frame`` (the last one reported when the switch was sent) ran on the old plan;
    later frames run on the new one once the source has the switch (the frames in flight finish where they
    are).
    """

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="switches")
    at = models.DateTimeField(auto_now_add=True)
    after_frame = models.IntegerField(help_text="The last frame reported before the switch")
    reason = models.TextField()
    old_plan = models.CharField(max_length=300)
    new_plan = models.CharField(max_length=300)
    old_deployment = models.UUIDField(null=True)
    new_deployment = models.UUIDField(null=True)
    predicted_old_s = models.FloatField(help_text="The old placement's latency under the new conditions")
    predicted_new_s = models.FloatField()

    class Meta:
        ordering = ["session", "at"]

    def __str__(self) -> str:
        return f"switch of {self.session_id} after frame {self.after_frame}"

    def to_dict(self) -> dict:
        return {
            "at": self.at.isoformat(),
            "after_frame": self.after_frame,
            "reason": self.reason,
            "old_plan": self.old_plan,
            "new_plan": self.new_plan,
            "predicted_old_s": self.predicted_old_s,
            "predicted_new_s": self.predicted_new_s,
            "new_deployment": str(self.new_deployment) if self.new_deployment else None,
        }


class BudgetChange(models.Model):
    """A budget the coordinator set for a session's source and sent it (docs/qos.md, "Budgets"): the edges
    its frames may go to, each with its share and rate, and why."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="budget_changes")
    at = models.DateTimeField(auto_now_add=True)
    budget_id = models.CharField(max_length=64)
    deployment = models.UUIDField(null=True, blank=True, help_text="The deployment it was set for")
    edges = models.JSONField(help_text="[{device_id, name, share, rate}]; rate null: no limit there")
    reason = models.TextField()

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"budget {self.budget_id} of {self.session_id}"

    def to_dict(self) -> dict:
        return {
            "at": self.at,
            "budget_id": self.budget_id,
            "deployment": str(self.deployment) if self.deployment else None,
            "edges": self.edges,
            "reason": self.reason,
        }


class Failure(models.Model):
    """A device a running session depended on was lost, and what the session's failover did about it.

    ``detected_at``: when the control plane noticed (its websocket closed, or its heartbeat was missed);
    ``detection_s``: from the last time it was heard from to then (a closed socket: near 0; a silent device:
    about the liveness timeout). ``recovered_at``: when the first frame answered on the failover route ended
    (``mttr_s`` = recovered_at - detected_at). ``outcome``: recovering, recovered, or failed (``reason``).
    ``restored_at``: when the session went back to a plan with the device, once it had been back for
    ``EDGEORCH_FAILBACK_HOLD`` seconds without a break (hysteresis: a flapping device is not taken back).
    ``fallback``: where the model could not meet the session's deadline on the devices left, the variant it
    fell back to and the accuracy that cost (the session returns to its own model at failback).
    """

    RECOVERING, RECOVERED, FAILED = "recovering", "recovered", "failed"

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="failures")
    device = models.ForeignKey("devices.Device", null=True, on_delete=models.SET_NULL, related_name="+")
    device_name = models.CharField(max_length=100)
    stage = models.IntegerField(null=True, help_text="The stage the lost device ran")
    detected_at = models.DateTimeField()
    detection_s = models.FloatField(null=True, help_text="From the device's last message to detection")
    policy = models.CharField(max_length=8, choices=Failover.choices)
    outcome = models.CharField(
        max_length=10,
        default=RECOVERING,
        choices=[(RECOVERING, "Recovering"), (RECOVERED, "Recovered"), (FAILED, "Failed")],
    )
    reason = models.TextField(blank=True)
    switch = models.ForeignKey(PlanSwitch, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    replanned_s = models.FloatField(null=True, help_text="Detection to the new route sent to the source")
    takeover = models.CharField(
        max_length=8, blank=True, help_text="How it failed over: warm (a standby took over) or cold"
    )
    recovered_at = models.DateTimeField(null=True, blank=True)
    restored_at = models.DateTimeField(
        null=True, blank=True, help_text="When the session went back to a plan using the device again"
    )
    detected_by = models.CharField(
        max_length=12,
        blank=True,
        help_text="control (its channel closed or went silent) or dataplane (a peer could not reach it)",
    )
    fallback = models.JSONField(
        null=True,
        blank=True,
        help_text="The smaller variant the session fell back to: {model, variant, accuracy, accuracy_cost}",
    )

    class Meta:
        ordering = ["session", "detected_at"]

    def __str__(self) -> str:
        return f"{self.device_name} lost by {self.session_id} ({self.outcome})"

    @property
    def mttr_s(self) -> float | None:
        if self.recovered_at is None:
            return None
        return (self.recovered_at - self.detected_at).total_seconds()

    def to_dict(self) -> dict:
        return {
            "device": str(self.device_id) if self.device_id else None,
            "device_name": self.device_name,
            "stage": self.stage,
            "policy": self.policy,
            "detected_at": self.detected_at.isoformat(),
            "detection_s": self.detection_s,
            "outcome": self.outcome,
            "reason": self.reason,
            "new_plan": self.switch.new_plan if self.switch_id and self.switch else None,
            "replanned_s": self.replanned_s,
            "takeover": self.takeover,
            "recovered_at": self.recovered_at.isoformat() if self.recovered_at else None,
            "mttr_s": self.mttr_s,
            "restored_at": self.restored_at.isoformat() if self.restored_at else None,
            "detected_by": self.detected_by,
            "fallback": self.fallback,
        }


class Measurement(models.Model):
    """A profiling or link-probing request sent to an agent, until its answer is stored (in ``plans``)."""

    PROFILE, PROBE = "profile", "probe"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=8, choices=[(PROFILE, "Profile"), (PROBE, "Probe")])
    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="+")
    model = models.ForeignKey(
        "catalog.MLModel", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    state = models.CharField(max_length=8, choices=MeasurementState.choices, default=MeasurementState.PENDING)
    error = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} of {self.device_id} ({self.state})"


class VariantBandit(models.Model):
    """What the ``qoe-bandit`` strategy has learned for one device and one base model: which of the model's
    variants gives the best quality of experience in which conditions (``planning.qoe.QoEBandit``'s state),
    kept across sessions (``jobs.services.selection``)."""

    device = models.ForeignKey("devices.Device", on_delete=models.CASCADE, related_name="variant_bandits")
    model = models.ForeignKey("catalog.MLModel", on_delete=models.CASCADE, related_name="variant_bandits")
    state = models.JSONField(default=dict, help_text="QoEBandit.to_dict(): arms, A, b, s, pulls")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["device", "model"], name="jobs_variant_bandit_once")]

    def __str__(self) -> str:
        return f"variant bandit of {self.model_id} on {self.device_id}"
