"""Charts as PNG bytes (matplotlib's Agg canvas: no display, no pyplot state, thread-safe)."""

from __future__ import annotations

import io
from datetime import date

import matplotlib

matplotlib.use("Agg")

from matplotlib import colormaps  # noqa: E402  (the backend must be chosen first)
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402


def weekly_by_team_chart(
    weeks: list[date], series: dict[str, list[int]], title: str = "", ylabel: str = ""
) -> bytes:
    """A stacked bar chart of counts per week (x) by team (stacks), as PNG bytes."""
    figure = Figure(figsize=(8, 4.2), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    labels = [f"{week.day} {week.strftime('%b')}" for week in weeks]
    bottoms = [0] * len(weeks)
    colours = colormaps["tab10"]
    for n, (team, counts) in enumerate(series.items()):
        axes.bar(labels, counts, bottom=bottoms, label=team, color=colours(n % 10), width=0.7)
        bottoms = [b + c for b, c in zip(bottoms, counts, strict=True)]
    if title:
        axes.set_title(title, fontsize=11)
    if ylabel:
        axes.set_ylabel(ylabel)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.spines[["top", "right"]].set_visible(False)
    if series:
        axes.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
