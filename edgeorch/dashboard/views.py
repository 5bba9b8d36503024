"""Server-rendered pages. Views stay thin: they call the apps' services and render."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import ensure_csrf_cookie

from edgeorch.api.permissions import is_operator
from edgeorch.catalog.models import MLModel
from edgeorch.devices import services as devices
from edgeorch.devices.api import public_base_url
from edgeorch.devices.choices import DeviceRole, DeviceStatus
from edgeorch.devices.models import Device, EnrollmentToken
from edgeorch.jobs.choices import ACTIVE
from edgeorch.jobs.models import Failure

from .users import RECENT_FRAMES

FLEET_ROWS_RENDERED = 100


@login_required
@ensure_csrf_cookie
def fleet(request):
    """Every device with its status and when it was last seen. A fleet of more than ``FLEET_ROWS_RENDERED``
    devices is drawn by the page's script alone, from its snapshot: rendering the rows here too made a
    500-device page 312 KiB and held back its first byte and the snapshot's request (docs/benchmarks.md,
    "Dashboard")."""
    devices_all = list(Device.objects.all())
    context = {
        "devices": devices_all if len(devices_all) <= FLEET_ROWS_RENDERED else [],
        "device_count": len(devices_all),
        # The fleet page's filters (dashboard/fleet.js) and, for operators, its bulk actions.
        "statuses": DeviceStatus.choices,
        "roles": DeviceRole.choices,
        "profiles": sorted({d.profile for d in devices_all if d.profile}),
        "tags": sorted({t for d in devices_all for t in d.tags or []}),
        "operator": is_operator(request.user),
        "models": MLModel.objects.only("id", "name", "version"),
        # The latest devices lost by running sessions, and what their failover did (docs/failover.md).
        "failures": Failure.objects.select_related("session", "switch").order_by("-detected_at")[:10],
        "liveness_timeout": f"{settings.LIVENESS_TIMEOUT_S:g} s",
        "telemetry_interval": f"{settings.TELEMETRY_INTERVAL_S:g} s",
    }
    return render(request, "dashboard/fleet.html", context)


class EnrollmentTokenForm(forms.Form):
    name = forms.CharField(max_length=100, required=False, help_text="What the token is for")
    max_uses = forms.IntegerField(min_value=1, max_value=100000, initial=1, help_text="Devices it may enroll")
    ttl_hours = forms.FloatField(min_value=0.01, max_value=24 * 365, initial=24, label="Valid for (hours)")
    role = forms.ChoiceField(choices=DeviceRole.choices, initial=DeviceRole.END_DEVICE)
    profile = forms.CharField(max_length=64, required=False, help_text="Device profile (optional)")


@login_required
def enrollment(request):
    """Create an enrollment token and show, once, the command that installs an agent with it."""
    created = None
    form = EnrollmentTokenForm(request.POST or None)
    if request.method == "POST":
        if not is_operator(request.user):
            raise PermissionDenied("Only operators may create enrollment tokens.")
        if form.is_valid():
            data = form.cleaned_data
            token, plain = devices.create_enrollment_token(
                created_by=request.user,
                name=data["name"],
                max_uses=data["max_uses"],
                ttl=timedelta(hours=data["ttl_hours"]),
                profile=data["profile"],
                role=data["role"],
            )
            created = {
                "token": token,
                "plain": plain,
                "command": devices.install_command(public_base_url(request), plain),
            }
            form = EnrollmentTokenForm()
    tokens = EnrollmentToken.objects.all()[:50]
    return render(request, "dashboard/enrollment.html", {"form": form, "created": created, "tokens": tokens})


@login_required
@ensure_csrf_cookie
def device(request, pk):
    """One device: live charts of its telemetry, the stages it ran, its links (drawn by
    dashboard/device.js); for operators, rename, profile, probe and revoke (dashboard/device_actions.js)."""
    context = {
        "device": get_object_or_404(Device, pk=pk),
        "operator": is_operator(request.user),
        "models": MLModel.objects.only("id", "name", "version"),
        "day_ago": (timezone.now() - timedelta(hours=24)).isoformat(),  # the 24 h download's start
    }
    return render(request, "dashboard/device.html", context)


@login_required
@ensure_csrf_cookie
def run_form(request):
    """Start a job or a stream session; the planner's predicted breakdown is shown first
    (dashboard/run.js)."""
    from edgeorch import planning

    devices = Device.objects.exclude(status=DeviceStatus.REVOKED).order_by("name")
    context = {
        "models": MLModel.objects.only("id", "name", "version"),
        "devices": devices,
        "strategies": planning.STRATEGIES.values(),
        "operator": is_operator(request.user),
    }
    return render(request, "dashboard/run.html", context)


@login_required
def users(request):
    """Which running sessions (users) each device serves, their deadline misses, drops and configurations,
    and each device's stage queues, live (dashboard/users.js, from GET /api/dashboard/users/)."""
    return render(request, "dashboard/users.html", {"recent": RECENT_FRAMES})


@login_required
def session_live(request, pk):
    """A stream session as it runs: per-frame latency stacked by compute/transfer/queue, deadline, stages."""
    from edgeorch.jobs.models import Session

    session = get_object_or_404(Session.objects.select_related("model", "source"), pk=pk)
    context = {"session": session, "operator": is_operator(request.user)}
    return render(request, "dashboard/session_live.html", context)


@login_required
def session_topology(request, pk):
    """A session's topology as it runs: its devices as nodes with the stages each runs, the hops of a frame
    with their bytes and measured links, the slow stage (dashboard/topology.js, from
    GET /api/sessions/{id}/topology/)."""
    from edgeorch.jobs.models import Session

    session = get_object_or_404(Session.objects.select_related("model", "source"), pk=pk)
    return _topology(
        request,
        session,
        "session",
        str(session.pk)[:8],
        "a frame",
        reverse("dashboard:session-live", args=[pk]),
    )


@login_required
def job_topology(request, pk: int):
    """A job's topology, the same view as a session's (dashboard/topology.js): the devices its plan placed
    stages on, the hops its request took, its slow stage from its trace (GET /api/jobs/{id}/topology/);
    live until it ends."""
    from edgeorch.jobs.models import Job

    job = get_object_or_404(Job.objects.select_related("model", "source"), pk=pk)
    return _topology(request, job, "job", str(job.pk), "the request", reverse("jobs:job", args=[pk]))


@login_required
def deployment_topology(request, pk):
    """A deployment's topology, the same view as a run's (dashboard/topology.js): the devices it placed
    segments on, the path its newest run's frames take, the links, the slow stage over the recent frames and
    jobs on it, and the runs on it (GET /api/deployments/{id}/topology/); live as they run."""
    from edgeorch.jobs.models import Deployment, Session

    deployment = get_object_or_404(Deployment.objects.select_related("model"), pk=pk)
    running = Session.objects.filter(deployment=deployment, state__in=ACTIVE).values_list("pk", flat=True)
    context = {
        "run": None,
        "deployment": deployment,
        "kind": "deployment",
        "name": str(deployment.pk)[:8],
        "what": "a frame",
        "api": f"/api/deployments/{deployment.pk}/topology/",
        # Its live sessions' own topics: their frames re-time the stages; state changes come on "runs". A
        # session started on it later is subscribed to by the page itself once the view lists it
        # (dashboard/topology.js), so its frames re-time the stages too, without a reload.
        "topics": ",".join(["runs", *(f"session:{sid}" for sid in running[:40])]),
    }
    return render(request, "dashboard/topology.html", context)


def _topology(request, run, kind: str, name: str, what: str, back: str):
    context = {
        "deployment_id": run.deployment_id,  # the segments it runs on: linked
        "topics": f"{kind}:{run.pk}",
        "run": run,
        "kind": kind,
        "name": name,
        "what": what,
        "back": back,
        "api": f"/api/{kind}s/{run.pk}/topology/",
    }
    return render(request, "dashboard/topology.html", context)
