"""Jobs and sessions: submit, plan, deploy, run, record what the agents report, and end every run cleanly.
One family of verbs per module, as Zulip's ``zerver/actions/``.

The flow of a one-shot job: ``submit.submit_job`` stores the row and its input and enqueues the task
``jobs.dispatch_job``, which runs ``dispatch.dispatch_job``: it plans (``plans.make_plan``), finds or creates
a ``Deployment`` (``deployments``) and either starts the run at once (the deployment is ready) or waits in
``deploying`` until every device's ``deploy_status`` has arrived (``deployments.record_deploy_status`` then
starts every run waiting on it). The agents pass activations peer to peer; the last stage's agent reports
``result`` + the output tensor (``results.record_result``). A stage error, a device disconnecting or the
timeout end the job ``failed`` with the reason and the stage (``lifecycle``). Streams report through
``sessions``; ``adaptive`` re-plans them live; ``measurements`` profiles and probes; ``relay`` forwards what
a peer cannot reach.

Races are settled on the rows. A state change either locks the run row (``select_for_update``, then
``Run.move_to``, which refuses to leave a terminal state) or, on the two hot paths (starting a run on a
ready deployment, storing a result), is one conditional UPDATE (``Run.move_if``) that moves the row only
from the state it expects. Either way a result arriving while the timeout fires finishes the job exactly
once, whichever commits first. Deployment readiness locks the deployment row first, then runs.

The modules import one way, lowest first: ``transactions``, ``enqueue``, ``commands``, ``lifecycle``,
``deployments``, ``results``, ``relay``, ``submit``, ``measurements``, ``adaptive``, ``dispatch``,
``sessions``. None imports ``jobs.tasks``: tasks are enqueued by name. Below, the verbs other apps call.
"""

from .deployments import record_deploy_status
from .dispatch import dispatch_job, dispatch_session
from .lifecycle import (
    cancel_job,
    device_gone,
    expire,
    expire_overdue,
    fail_job,
    record_stage_error,
    stop_session,
)
from .measurements import probe_fleet, probe_links, record_probe, record_profile, request_profile
from .relay import relay_channel, relay_failed
from .results import record_result
from .sessions import finish_session, record_frames
from .submit import SubmitError, start_session, submit_job

__all__ = [
    "SubmitError",
    "cancel_job",
    "device_gone",
    "dispatch_job",
    "dispatch_session",
    "expire",
    "expire_overdue",
    "fail_job",
    "finish_session",
    "probe_fleet",
    "probe_links",
    "record_deploy_status",
    "record_frames",
    "record_probe",
    "record_profile",
    "record_result",
    "record_stage_error",
    "relay_channel",
    "relay_failed",
    "request_profile",
    "start_session",
    "stop_session",
    "submit_job",
]
