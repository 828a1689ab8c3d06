"""Charts: read through their axes, never their pixels; cached so a turn doesn't draw twice."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from sqlmodel import func, select

from bot import chart_cache, digest, jobs
from bot.campaigns import race_chart, record_idea
from bot.charts import bar_figure, team_race_figure, weekly_by_team_figure
from bot.context import Context
from bot.store import Store
from bot.store.models import ChartImage
from tests.campaign_support import KIERAN, MONDAY, NADIA, PNG, PRIYA, later
from tests.factories import person

DAYS = [date(2026, 11, 30) + timedelta(days=n) for n in range(5)]


def _ideas(ctx: Context, email: str, count: int, when) -> None:
    with ctx.store.write() as s:
        author = person(s, email)
        for n in range(count):
            record_idea(s, author, f"Idea {n}: Acme may need help with VAT", when)


def _chart_rows(store: Store) -> int:
    with store.read() as s:
        return int(s.exec(select(func.count()).select_from(ChartImage)).one())


def _ticks_are_whole(ticks) -> bool:
    return all(float(t).is_integer() for t in ticks)


# -- what the charts show ---------------------------------------------------------------------


def test_the_team_race_legend_sits_below_the_lines() -> None:
    series = {f"Team {n}": [float(n + d) for d in range(5)] for n in range(6)}
    figure = team_race_figure(DAYS, series, title="Winter week")
    figure.canvas.draw()
    [axes] = figure.axes
    legend = axes.get_legend()
    plot, box = axes.get_window_extent(), legend.get_window_extent()
    assert box.y1 <= plot.y0  # entirely under the plotting area: it covers no line
    assert box.y0 >= 0 and box.x0 >= 0 and box.x1 <= figure.bbox.x1  # and not cut off
    assert [t.get_text() for t in legend.get_texts()] == list(series)


def test_a_team_race_counts_in_whole_points_from_zero() -> None:
    figure = team_race_figure(DAYS, {"Tax": [0.25, 0.5, 1.0, 1.75, 2.5]})
    [axes] = figure.axes
    assert axes.get_ylim()[0] == 0
    assert _ticks_are_whole(axes.get_yticks())
    [line] = axes.get_lines()
    assert list(line.get_ydata()) == [0.25, 0.5, 1.0, 1.75, 2.5]  # the data stays exact


def test_count_bars_have_whole_number_ticks() -> None:
    figure = bar_figure(["Tax", "Corporate", "Employment"], [1.0, -2.0, 0.0], "Net givers")
    [axes] = figure.axes
    assert _ticks_are_whole(axes.get_xticks())
    money = bar_figure(["Tax"], [1234.5], "Value won")
    assert len(money.axes[0].get_xticks()) > 1  # fractional values keep their own ticks


def test_the_weekly_chart_counts_referrals_in_whole_numbers() -> None:
    weeks = [date(2026, 11, 2) + timedelta(weeks=n) for n in range(4)]
    figure = weekly_by_team_figure(weeks, {"Tax": [0, 1, 0, 1], "Corporate": [1, 0, 0, 0]})
    [axes] = figure.axes
    assert _ticks_are_whole(axes.get_yticks())
    assert [t.get_text() for t in axes.get_legend().get_texts()] == ["Tax", "Corporate"]


# -- nothing to show, no chart ----------------------------------------------------------------


def test_a_campaign_nobody_has_scored_in_shows_no_chart(ctx, week, chat) -> None:
    with ctx.store.read() as s:
        assert race_chart(s, week, later(hours=1), ctx.settings.zone) is None
    [reply] = chat(KIERAN).send("/leaderboard teams")
    assert reply.image is None and reply.image_alt == ""
    assert "scored yet" in reply.text


def test_weeks_without_referrals_make_a_digest_without_a_chart(ctx: Context) -> None:
    built, png = jobs.build(ctx, MONDAY)
    assert png is None
    assert [r.kind for r in digest.digest_replies(built, png, "C-DIGEST")] == ["digest"]


# -- the cache --------------------------------------------------------------------------------


def test_the_team_board_draws_its_chart_once_and_reuses_it(ctx, week, chat, clock) -> None:
    _ideas(ctx, NADIA, 2, later(hours=1))
    clock.move_to(later(hours=1) + timedelta(minutes=30))
    [first] = chat(KIERAN).send("/leaderboard teams")
    [again] = chat(PRIYA).send("/leaderboard teams")
    assert first.image and first.image.startswith(PNG)
    assert again.image == first.image and _chart_rows(ctx.store) == 1
    _ideas(ctx, PRIYA, 1, later(hours=2))  # new points: a new picture
    clock.move_to(later(hours=2) + timedelta(minutes=30))
    [changed] = chat(KIERAN).send("/leaderboard teams")
    assert changed.image and changed.image != first.image and _chart_rows(ctx.store) == 2


def test_a_second_replica_reuses_the_stored_chart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    one, two = Store(url), Store(url)
    drawn: list[str] = []

    def draw() -> bytes:
        drawn.append("drawn")
        return PNG + b"picture"

    key = chart_cache.chart_key("team_race", 1, {"series": {"Tax": [1, 2]}})
    spec = chart_cache.ChartSpec(key, draw)
    assert chart_cache.cached_chart(one, spec) == PNG + b"picture"
    assert chart_cache.cached_chart(two, spec) == PNG + b"picture"
    assert drawn == ["drawn"]
    assert chart_cache.chart_key("team_race", 1, {"series": {"Tax": [1, 3]}}) != key


def test_housekeeping_forgets_old_charts(ctx: Context) -> None:
    with ctx.store.write() as s:
        s.add(ChartImage(key="old", png=PNG, created_at=MONDAY - timedelta(days=30)))
        s.add(ChartImage(key="new", png=PNG, created_at=MONDAY))
        chart_cache.prune(s, MONDAY)
    with ctx.store.read() as s:
        assert [c.key for c in s.exec(select(ChartImage))] == ["new"]
