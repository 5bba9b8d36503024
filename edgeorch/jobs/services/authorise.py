"""What a device may say about work: only about runs, deployments and measurements addressed to it.

The agent's execution messages (``jobs.handlers``) are checked here before anything acts on them: a
message about anything else raises ``Refusal`` (the gateway answers the agent ``error`` with the code
``forbidden`` and logs it, rate limited) and changes nothing. A run that does not exist is refused the same
way, so a device learns nothing about other devices' work by trying ids (job ids are sequential). Verbs:
``check_run``, ``check_session_source``, ``check_deployment``, ``check_relay``, ``check_result``,
``check_measurement``.
"""

from __future__ import annotations

import uuid

from edgeorch.gateway.registry import Refusal

from ..models import Deployment, Job, Measurement, Session

FORBIDDEN = "forbidden"


def not_yours(what: str) -> Refusal:
    return Refusal(FORBIDDEN, f"{what} is not addressed to this device")


def as_uuid(value: str | None, what: str) -> uuid.UUID:
    """An id from an agent's message as the key it must be; refused when it is not one."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Refusal("bad_value", f"{what} {value!r} is not an id") from None


def takes_part(run, device_id) -> bool:
    """Whether the device is the run's source or runs a stage of its deployment."""
    devices = run.deployment.devices if run.deployment is not None else []
    return str(device_id) in devices or str(run.source_id) == str(device_id)


def check_run(device_id, job_id: int, session_id: str | None) -> None:
    """A ``stage_error`` is about a job (``session_id`` null) or a session the device takes part in."""
    if session_id is None:
        run: Job | Session | None = _with_deployment(Job.objects.filter(pk=job_id)).first()
    else:
        run = _with_deployment(Session.objects.filter(pk=as_uuid(session_id, "session"))).first()
    if run is None or not takes_part(run, device_id):
        raise not_yours(f"job {job_id}" if session_id is None else f"session {session_id}")


def _with_deployment(runs):
    return runs.select_related("deployment").only("deployment__devices", "source_id")


def check_session_source(device_id, session_id: str) -> None:
    """A ``stream_report`` or ``stream_done`` comes from the session's source, and only from it."""
    if not Session.objects.filter(pk=as_uuid(session_id, "session"), source_id=device_id).exists():
        raise not_yours(f"session {session_id}")


def check_deployment(device_id, deployment_id: str) -> Deployment:
    """A ``deploy_status`` or ``relay`` comes from a device the deployment placed stages on."""
    deployment = (
        Deployment.objects.filter(pk=as_uuid(deployment_id, "deployment")).only("pk", "devices").first()
    )
    if deployment is None or str(device_id) not in deployment.devices:
        raise not_yours(f"deployment {deployment_id}")
    return deployment


def check_relay(device_id, deployment_id: str) -> None:
    """A ``relay`` comes from a device of the deployment, or from the source of a run on it (whose entry
    hop to the first stage's peer may be what could not get through)."""
    pk = as_uuid(deployment_id, "deployment")
    deployment = Deployment.objects.filter(pk=pk).only("pk", "devices").first()
    if deployment is not None and str(device_id) in deployment.devices:
        return
    sources = [kind.objects.filter(deployment_id=pk, source_id=device_id) for kind in (Job, Session)]
    if deployment is None or not any(runs.exists() for runs in sources):
        raise not_yours(f"deployment {deployment_id}")


def check_result(device_id, deployment_id: str, job_id: int) -> None:
    """A one-shot ``result`` is about a job on that deployment, from one of the deployment's devices."""
    check_deployment(device_id, deployment_id)
    if not Job.objects.filter(pk=job_id, deployment_id=deployment_id).exists():
        raise not_yours(f"job {job_id}")


def check_measurement(device_id, measurement_id: str, kind: str) -> None:
    """A ``profile_progress``, ``profile_result`` or ``probe_result`` is about a measurement asked of this
    device."""
    pk = as_uuid(measurement_id, kind)
    if not Measurement.objects.filter(pk=pk, kind=kind, device_id=device_id).exists():
        raise not_yours(f"{kind} {measurement_id}")
