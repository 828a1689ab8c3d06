"""PNG charts for reports and digests: small, generic, and free of business rules.

Each `*_chart` function takes plain labels and numbers and returns PNG bytes; the
`*_figure` ones return the matplotlib `Figure` before it is encoded (tests read its axes).
They draw on a `Figure` with the Agg canvas (no pyplot, no global state), so they are safe
to call from any thread and need no display. Matplotlib is imported on the first drawing,
not with this module: a process that never draws never pays for it. Axes that count
things get whole-number ticks only; callers skip a chart that would show nothing.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, ParamSpec

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "bar_chart",
    "funnel_chart",
    "matrix_chart",
    "team_race_chart",
    "team_race_figure",
    "weekly_by_team_chart",
    "weekly_by_team_figure",
    "PNG_MAGIC",
]

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_COLOUR = "#2b6cb0"
_NEGATIVE = "#c05621"
_DPI = 110


def bar_figure(
    labels: Sequence[str],
    values: Sequence[float],
    title: str,
    value_label: str = "",
    horizontal: bool = True,
    value_format: str = "{:,.0f}",
) -> Figure:
    """Bars, one per label; negative values are drawn in a second colour."""
    height = max(2.5, 0.45 * len(labels) + 1.2) if horizontal else 4.0
    figure = _figure((7.5, height), _DPI)
    axes = figure.add_subplot()
    colours = [_NEGATIVE if v < 0 else _COLOUR for v in values]
    positions = list(range(len(labels)))
    if horizontal:
        bars = axes.barh(positions, values, color=colours)
        axes.set_yticks(positions, labels=list(labels))
        axes.invert_yaxis()
        axes.set_xlabel(value_label)
        axes.axvline(0, color="#444444", linewidth=0.8)
    else:
        bars = axes.bar(positions, values, color=colours)
        axes.set_xticks(positions, labels=list(labels), rotation=30, ha="right")
        axes.set_ylabel(value_label)
    axes.bar_label(bars, labels=[value_format.format(v) for v in values], padding=3, fontsize=8)
    if all(float(v).is_integer() for v in values):
        _whole_numbers(axes.xaxis if horizontal else axes.yaxis)
    _finish(figure, axes, title)
    return figure


def funnel_chart(stages: Sequence[tuple[str, float]], title: str) -> bytes:
    """A funnel: centred bars narrowing stage by stage, each labelled with its count."""
    figure = _figure((7.5, max(2.5, 0.55 * len(stages) + 1.2)), _DPI)
    axes = figure.add_subplot()
    widest = max((value for _, value in stages), default=0) or 1
    for row, (label, value) in enumerate(stages):
        axes.barh(row, value, left=(widest - value) / 2, color=_COLOUR, height=0.8)
        axes.text(
            widest / 2,
            row,
            f"{label}: {value:,.0f}",
            ha="center",
            va="center",
            color="white" if value > widest * 0.3 else "black",
            fontsize=9,
        )
    axes.set_ylim(len(stages) - 0.5, -0.5)
    axes.set_xlim(0, widest)
    axes.axis("off")
    _finish(figure, axes, title)
    return _png(figure)


def matrix_chart(
    rows: Sequence[str],
    columns: Sequence[str],
    values: Sequence[Sequence[float]],
    title: str,
    row_label: str = "",
    column_label: str = "",
) -> bytes:
    """A heat map with each cell's number written in it (zeros left blank)."""
    size = max(4.0, 0.55 * max(len(rows), len(columns), 1) + 2.5)
    figure = _figure((size + 1.5, size), _DPI)
    axes = figure.add_subplot()
    grid = [list(r) for r in values] or [[0.0]]
    image = axes.imshow(grid, cmap="Blues", aspect="auto")
    axes.set_xticks(range(len(columns)), labels=list(columns), rotation=40, ha="right")
    axes.set_yticks(range(len(rows)), labels=list(rows))
    axes.set_xlabel(column_label)
    axes.set_ylabel(row_label)
    top = max((v for r in grid for v in r), default=0) or 1
    for i, line in enumerate(grid):
        for j, value in enumerate(line):
            if value:
                colour = "white" if value > top * 0.6 else "black"
                axes.text(j, i, f"{value:,.0f}", ha="center", va="center", color=colour, fontsize=8)
    colorbar = figure.colorbar(image, ax=axes, shrink=0.8)
    if all(float(v).is_integer() for r in grid for v in r):
        _whole_numbers(colorbar.ax.yaxis)
    _finish(figure, axes, title)
    return _png(figure)


def weekly_by_team_figure(
    weeks: list[date], series: dict[str, list[int]], title: str = "", ylabel: str = ""
) -> Figure:
    """A stacked bar chart of counts per week (x) by team (stacks)."""
    from matplotlib import colormaps

    figure = _figure((8, 4.2), 100)
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
    _whole_numbers(axes.yaxis)
    axes.spines[["top", "right"]].set_visible(False)
    if series:
        axes.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    figure.tight_layout()
    return figure


def team_race_figure(
    days: Sequence[date],
    series: Mapping[str, Sequence[float]],
    title: str = "",
    value_label: str = "points per head",
) -> Figure:
    """A campaign's team race: one line per team, its running total at the end of each day.

    The legend sits below the plot, never on a line."""
    figure = _figure((7.5, 4.6), _DPI)
    axes = figure.add_subplot()
    labels = [f"{d:%a} {d.day}" for d in days]
    for team, values in series.items():
        axes.plot(labels[: len(values)], list(values), marker="o", linewidth=2, label=team)
    if series:
        axes.legend(
            loc="upper center",
            bbox_to_anchor=(0.5, -0.12),
            ncol=min(len(series), 3),
            fontsize=8,
            frameon=False,
        )
    axes.set_ylabel(value_label)
    axes.set_ylim(bottom=0)
    _whole_numbers(axes.yaxis)
    axes.grid(axis="y", alpha=0.3)
    axes.spines[["top", "right"]].set_visible(False)
    _finish(figure, axes, title)
    return figure


def _figure(size: tuple[float, float], dpi: int) -> Figure:
    """A figure on the Agg canvas; the first call imports matplotlib."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=size, dpi=dpi)
    FigureCanvasAgg(figure)
    return figure


def _whole_numbers(axis: Any) -> None:
    """Ticks at whole numbers only: a count of 0.25 referrals means nothing."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def _finish(figure: Figure, axes: object, title: str) -> None:
    figure.suptitle(title, fontsize=12)
    figure.tight_layout()


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.canvas.print_png(buffer)  # type: ignore[attr-defined]
    return buffer.getvalue()


_Args = ParamSpec("_Args")


def _encoded(draw: Callable[_Args, Figure]) -> Callable[_Args, bytes]:
    """The PNG-bytes twin of a `*_figure` function: same arguments, encoded result."""

    @functools.wraps(draw)
    def chart(*args: _Args.args, **kwargs: _Args.kwargs) -> bytes:
        return _png(draw(*args, **kwargs))

    chart.__name__ = chart.__qualname__ = draw.__name__.replace("_figure", "_chart")
    return chart


bar_chart = _encoded(bar_figure)
weekly_by_team_chart = _encoded(weekly_by_team_figure)
team_race_chart = _encoded(team_race_figure)
