"""Charts of the run pages: the stage timeline (a Gantt of stages per device) and per-frame latency."""

from __future__ import annotations

import plotly.graph_objects as go

from edgeorch.catalog.charts import figure_html

PARTS = (
    ("queue_s", "queue", "#bbbbbb"),
    ("compute_s", "compute", "#1f77b4"),
    ("serialize_s", "serialize", "#ff7f0e"),
    ("transfer_s", "transfer", "#2ca02c"),
)
# A hop that went through the control plane (the next agent could not be reached): its transfer bar.
RELAYED = ("transfer_s", "transfer relayed via the control plane", "#d62728")


def _ms(seconds: float) -> float:
    return seconds * 1000.0


def gantt_html(stages: list[dict]) -> str:
    """One row per stage (labelled with its device); bars: queueing, compute, serialisation, transfer, in ms
    from the first stage's start. The agents' wall clocks are compared as they are (same host in tests)."""
    measured = [s for s in stages if s.get("measured")]
    if not measured:
        return ""
    origin = min(s["measured"]["start"] - (s["measured"]["queue_s"] or 0) for s in measured)
    figure = go.Figure()
    labels = [
        f"{'input' if s.get('input') else 'stage ' + str(s['stage'])} · {s['device_name']}" for s in measured
    ]
    # A stage whose input was relayed marks the hop into it: the previous stage's transfer bar.
    relayed = {s["stage"] - 1 for s in measured if s["measured"].get("relayed")}
    for key, name, colour in (*PARTS, RELAYED) if relayed else PARTS:
        bases, widths = [], []
        for s in measured:
            m = s["measured"]
            begin = {
                "queue_s": m["start"] - (m["queue_s"] or 0),
                "compute_s": m["start"],
                "serialize_s": m["start"] + (m["compute_s"] or 0),
                "transfer_s": m["end"],
            }[key]
            bases.append(_ms(begin - origin))
            width = m.get(key) or 0.0
            if key == "transfer_s" and (s["stage"] in relayed) != (name == RELAYED[1]):
                width = 0.0  # the other transfer series draws this hop
            widths.append(_ms(width))
        figure.add_bar(y=labels, x=widths, base=bases, orientation="h", name=name, marker_color=colour)
    figure.update_layout(
        barmode="overlay",
        height=120 + 50 * len(measured),
        margin={"l": 180, "r": 20, "t": 30, "b": 40},
        xaxis={"title": "ms since the request entered stage 0"},
        yaxis={"autorange": "reversed"},
        legend={"orientation": "h", "y": 1.15},
    )
    return figure_html(figure, "gantt")


def frame_latency_html(frames: list[tuple[int, float, bool]], deadline_s: float | None) -> str:
    """Per-frame latency (ms) by request id; failed frames in red; the deadline as a line."""
    if not frames:
        return ""
    figure = go.Figure()
    ok = [f for f in frames if f[2]]
    bad = [f for f in frames if not f[2]]
    figure.add_scatter(x=[f[0] for f in ok], y=[_ms(f[1]) for f in ok], mode="markers+lines", name="latency")
    if bad:
        figure.add_scatter(
            x=[f[0] for f in bad],
            y=[_ms(f[1]) for f in bad],
            mode="markers",
            name="failed",
            marker_color="red",
        )
    if deadline_s is not None:
        figure.add_hline(y=_ms(deadline_s), line_dash="dash", annotation_text="deadline")
    figure.update_layout(
        height=360,
        margin={"l": 60, "r": 20, "t": 30, "b": 40},
        xaxis={"title": "frame"},
        yaxis={"title": "latency (ms)"},
    )
    return figure_html(figure, "frame-latency")


def choices_html(rows: list[tuple[int, str, float]], best_mean_s: float | None, what: str) -> str:
    """A learning session's choice per answered frame (``rows``: request id, choice label, latency) and,
    once a best fixed choice is known, the cumulative regret against it (ms, right axis)."""
    if not rows:
        return ""
    figure = go.Figure()
    figure.add_scatter(
        x=[r[0] for r in rows], y=[r[1] for r in rows], mode="markers", name=f"{what} chosen", yaxis="y"
    )
    if best_mean_s is not None:
        total, curve = 0.0, []
        for _, _, latency in rows:
            total += latency - best_mean_s
            curve.append(_ms(total))
        figure.add_scatter(
            x=[r[0] for r in rows], y=curve, mode="lines", name="cumulative regret", yaxis="y2"
        )
    figure.update_layout(
        height=320,
        margin={"l": 60, "r": 60, "t": 30, "b": 40},
        xaxis={"title": "frame"},
        yaxis={"title": what, "type": "category"},
        yaxis2={"title": "cumulative regret (ms)", "overlaying": "y", "side": "right", "showgrid": False},
        legend={"orientation": "h", "y": -0.25},
    )
    return figure_html(figure, "frame-choices")
