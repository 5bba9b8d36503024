"""Run pages (minimal; the dashboard styles them later): the list, a job, a session."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from edgeorch.api.permissions import is_operator
from edgeorch.catalog.models import MLModel

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
        "gaps": stats.gap_breakdown(job, stages),
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
        **_learning(session),
    }
    return render(request, "jobs/session.html", context)


def _learning(session) -> dict:
    """A learning session's page: what it learned (``learning``), each choice's frames and mean latency,
    the regret against the best fixed choice in hindsight, the choice per frame (``stats.learned_summary``).
    """
    if session.strategy not in stats.LEARNING:
        return {}
    learned = stats.learned_summary(session)
    labels = _choice_labels(session, learned)
    field = stats.LEARNING[session.strategy]
    rows = session.frame_records.filter(ok=True).order_by("request_id")
    frames = [
        (r, labels.get(c, str(c)), lat) for r, c, lat in rows.values_list("request_id", field, "latency_s")
    ]
    best = next((c["mean_latency_s"] for c in learned["choices"] if c["choice"] == learned["best"]), None)
    estimates = {str(a.get("cut", a.get("model"))): a for a in (session.learning or {}).get("arms", [])}
    for choice in learned["choices"]:
        choice["label"] = labels.get(choice["choice"], str(choice["choice"]))
        choice["learned"] = estimates.get(str(choice["choice"]))
    what = "arm (cut)" if learned["by"] == "arm" else "variant"
    looks = [  # ans: the looks beside local frames per arm (of its pulls; no frame of the session)
        (labels.get(a["cut"], f"cut {a['cut']}"), a["beside"])
        for a in (session.learning or {}).get("arms", [])
        if isinstance(a.get("cut"), int) and isinstance(a.get("beside"), int) and a["beside"] > 0
    ]
    return {
        "learned": learned,
        "looks_beside": looks,
        "choices_chart": charts.choices_html(frames, best, what),
        "learned_what": what,
    }


def _choice_labels(session, learned: dict) -> dict:
    if learned["by"] == "arm":
        n = len(session.model.blocks)
        return {
            c["choice"]: "local" if c["choice"] == n else f"cut {c['choice']}" for c in learned["choices"]
        }
    ids = [c["choice"] for c in learned["choices"] if c["choice"] is not None]
    return {m.pk: f"{m.name}" for m in MLModel.all_objects.filter(pk__in=ids)}
