"""Serving at the source: the control plane's side of an agent's inference endpoint (docs/serving.md).

A request is served by the agent that takes it, on a route the control plane planned and deployed for the
model with that device as the source: a *serving session*, a ``Session`` whose ``serve`` is set. The agent
asks for one once (``serve_request``); ``request_serving`` answers at once (``serve_status``) and, when no
serving session of that model and source is live, starts one through the usual path (Celery dispatch,
planning, deployment, ``stream`` to the source once ready). Its requests' traces come back as the session's
frames; an ``adaptive`` serving session is re-planned from them like any adaptive stream.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from edgeorch_wire import protocol as p

from edgeorch.catalog.models import MLModel
from edgeorch.devices.models import Device
from edgeorch.jobs import agents
from edgeorch.jobs.choices import ACTIVE, RunState
from edgeorch.jobs.models import Session
from edgeorch.jobs.services import SubmitError, start_session
from edgeorch.jobs.services.commands import start_message
from edgeorch.jobs.services.submit import SERVING_FRAMES, serve_spec


def find_model(name: str, version: str | None) -> MLModel | None:
    query = Q(name=name) if version is None else Q(name=name, version=version)
    return MLModel.objects.filter(query).order_by("-created_at").first()


def live_serving(model: MLModel, source_id) -> Session | None:
    """The source's serving session of this model that is still pending, deploying or running."""
    return (
        Session.objects.filter(model=model, source_id=source_id, serve__isnull=False, state__in=ACTIVE)
        .order_by("-created_at")
        .first()
    )


def request_serving(device_pk, message: p.ServeRequest) -> p.ServeStatus:
    """The device's agent wants to serve ``message.model``: answer what it may expect, starting a serving
    session when none is live (at most one per model and source: the lookup and the start hold the source's
    row lock)."""
    model = find_model(message.model, message.version)
    if model is None:
        what = message.model if message.version is None else f"{message.model} version {message.version}"
        return p.ServeStatus(message.model, "unknown", f"no model {what} in the catalog", message.version)
    spec = serve_spec(model)

    def status(state: str, reason: str = "", session=None) -> p.ServeStatus:
        return p.ServeStatus(
            model.name,
            state,
            reason,
            model.version,
            str(session.pk) if session is not None else None,
            spec["inputs"],
            spec["outputs"],
        )

    with transaction.atomic():
        source = Device.objects.select_for_update().filter(pk=device_pk).first()
        if source is None:
            return status("failed", "this device is not registered")
        session = live_serving(model, device_pk)
        if session is not None:
            if session.state == RunState.RUNNING and session.deployment_id is not None:
                _resend_route(session)  # the agent lost it (a restart of its endpoint): send it again
            return status("deploying", "", session)
        strategy = message.strategy or settings.SERVING_STRATEGY
        try:
            session = start_session(
                model=model,
                source=source,
                strategy=strategy,
                rate=1.0,
                frames=SERVING_FRAMES,
                max_in_flight=None,
                serve=spec,
                failover=settings.SERVING_FAILOVER,
            )
        except SubmitError as exc:
            return status("failed", str(exc))
    return status("deploying", "", session)


def _resend_route(session: Session) -> None:
    device, stream, data = start_message(session, session.deployment)
    agents.send_on_commit(device, stream, data)
