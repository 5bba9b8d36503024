"""Run pages (minimal; the dashboard styles them later): the list, a job, a session."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from edgeorch.api.permissions import is_operator

from . import charts, stats
from .api import stage_rows
from .models import Job, Session


@login_required
def run_list(request):
    """The newest jobs and sessions."""
    jobs = Job.objects.select_related("model", "source")[:50]
    sessions = Session.objects.select_related("model", "source")[:50]
    return render(request, "jobs/list.html", {"jobs": jobs, "sessions": sessions})


@login_required
def job_detail(request, pk: int):
    """One job: state, output, predicted against measured, per-stage timings and the stage timeline."""
    job = get_object_or_404(Job.objects.select_related("model", "source"), pk=pk)
    stages = stage_rows(job.plan, job.trace)
    context = {
        "job": job,
        "stages": stages,
        "totals": stats.stage_totals(job.trace),
        "error": stats.prediction_error(job.predicted_latency_s, job.measured_latency_s),
        "gantt": charts.gantt_html(stages),
        "has_output": job.output_path.is_file(),
        "operator": is_operator(request.user),
    }
    return render(request, "jobs/job.html", context)


@login_required
def session_detail(request, pk):
    """One session: its summary and the per-frame latency chart."""
    session = get_object_or_404(Session.objects.select_related("model", "source"), pk=pk)
    frames = list(session.frame_records.values_list("request_id", "latency_s", "ok"))
    context = {
        "session": session,
        "summary": session.summary,
        "stages": stage_rows(session.plan, []),
        "chart": charts.frame_latency_html(frames, session.deadline_s),
    }
    return render(request, "jobs/session.html", context)
