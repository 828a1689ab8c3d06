"""Charts as PNG bytes (matplotlib, Agg backend: no display, safe in a server thread).

Each function takes plain data and returns an image; the queries live with the concept.
"""

from __future__ import annotations

import io
from datetime import date

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def team_race_chart(
    days: list[date],
    series: dict[str, list[float]],
    title: str = "",
    ylabel: str = "points per head",
) -> bytes:
    """The team race: one line per team, cumulative points per head at the end of each day."""
    figure, axes = plt.subplots(figsize=(7, 3.6))
    labels = [d.strftime("%a %d") for d in days]
    for team, values in series.items():
        axes.plot(labels[: len(values)], values, marker="o", linewidth=2, label=team)
    if not series:
        axes.text(0.5, 0.5, "—", ha="center", va="center", transform=axes.transAxes)
    axes.set_title(title)
    axes.set_ylabel(ylabel)
    axes.grid(axis="y", alpha=0.3)
    axes.spines[["top", "right"]].set_visible(False)
    if series:
        axes.legend(loc="upper left", fontsize="small", frameon=False)
    return _png(figure)
