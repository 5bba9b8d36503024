"""The model page's chart: bytes crossing each cut and cumulative MACs, the picture of where splitting is
cheap."""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio
from django.templatetags.static import static
from django.utils.html import format_html


def figure_html(figure: go.Figure, div_id: str) -> str:
    """A figure as a page draws it: its JSON in the div's ``data-figure`` and static/charts/figures.js, which
    draws it (rather than Plotly's inline script, which the Content-Security-Policy refuses)."""
    return format_html(
        '<div id="{}" class="plotly-graph-div" data-figure="{}"></div><script defer src="{}"></script>',
        div_id,
        pio.to_json(figure),
        static("charts/figures.js"),
    )


def cut_chart_html(model) -> str:
    """An HTML fragment (plotly.js is loaded by the page from the local copy) for a model's cut points."""
    cuts = list(model.cut_points.all())
    labels = [f"{c.index}: {c.tensors[0]['name']}" + (" (+1)" if c.kind == "pair" else "") for c in cuts]
    figure = go.Figure()
    figure.add_bar(x=labels, y=[(c.bytes or 0) / 1024 for c in cuts], name="activation at cut (KiB)")
    figure.add_scatter(
        x=labels,
        y=[c.macs_before / 1e6 for c in cuts],
        name="cumulative MACs (M)",
        yaxis="y2",
        mode="lines+markers",
    )
    figure.update_layout(
        margin={"l": 60, "r": 60, "t": 30, "b": 120},
        height=420,
        xaxis={"title": "cut point", "tickangle": -45, "showticklabels": len(cuts) <= 60},
        yaxis={"title": "KiB crossing the cut"},
        yaxis2={"title": "MACs before the cut (M)", "overlaying": "y", "side": "right"},
        legend={"orientation": "h", "y": 1.1},
    )
    return figure_html(figure, "cut-chart")
