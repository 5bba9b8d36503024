"""States and choices of jobs, sessions, deployments and measurements."""

from django.db import models


class RunState(models.TextChoices):
    """The life of a one-shot job or a stream session; ``TERMINAL`` states never change again."""

    PENDING = "pending", "Pending"
    PLANNING = "planning", "Planning"
    DEPLOYING = "deploying", "Deploying"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


TERMINAL = frozenset({RunState.COMPLETED, RunState.FAILED, RunState.CANCELLED})
ACTIVE = frozenset(set(RunState) - TERMINAL)

# Strategies that plan for themselves from what they learn (re-plans, bandits): admission control does not
# predict them, the coordinator does not move them, and they do not take dynamic inference.
SELF_PLANNING = frozenset({"adaptive", "ans", "qoe-bandit"})

# Which state may follow which: anything active may fail or be cancelled; the happy path moves forward.
TRANSITIONS = {
    RunState.PENDING: {RunState.PLANNING, RunState.RUNNING},  # straight to running: a ready deployment
    RunState.PLANNING: {RunState.DEPLOYING, RunState.RUNNING},
    RunState.DEPLOYING: {RunState.RUNNING},
    RunState.RUNNING: {RunState.COMPLETED},
}


class Failover(models.TextChoices):
    """A session's failover policy (``Session.failover``)."""

    NONE = "none", "None: a lost stage device fails the session"
    COLD = "cold", "Cold: re-plan over the devices left, deploy, send the cut-off frames again"
    WARM = "warm", "Warm: a standby deployment per stage device is loaded ahead; it takes over at once"


class Priority(models.TextChoices):
    """A session's priority class (``Session.priority``; edgeorch_wire.qos.PRIORITIES, lowest first): every
    stage's queue serves a higher class first, then the earliest deadline (docs/qos.md)."""

    LOW = "low", "Low: served after every other class"
    NORMAL = "normal", "Normal (the default)"
    HIGH = "high", "High: served before normal and low"
    CRITICAL = "critical", "Critical: served first"


class DeploymentState(models.TextChoices):
    DEPLOYING = "deploying", "Deploying"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"
    RETIRED = "retired", "Retired (a device went away)"


class InputKind(models.TextChoices):
    UPLOAD = "upload", "Uploaded .npy"
    SAMPLE = "sample", "Test sample of the model's own data"
    RANDOM = "random", "Seeded random tensor"


class MeasurementState(models.TextChoices):
    PENDING = "pending", "Waiting for the agent"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
