"""Leaderboards: ranks, per-head fairness, movement since yesterday, opt-in privacy, no clients."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import delete, event
from sqlmodel import col

from bot.campaigns import compute_boards, record_idea, team_race
from bot.catalog import load_catalog, load_into
from bot.channels.console import ConsoleChannel
from bot.charts import team_race_chart
from bot.context import Context
from bot.privacy import forget_person
from bot.store import Store
from bot.store.models import Campaign, Person, PointEvent
from tests.campaign_support import (
    JAMES,
    KIERAN,
    MONDAY,
    NADIA,
    OWEN,
    PNG,
    PRIYA,
    SAM,
    later,
    make_campaign,
    refer,
    step,
)
from tests.conftest import SAMPLE_CONTENT, load_benchmark, load_sample
from tests.factories import person

pytestmark = pytest.mark.postgres  # also on PostgreSQL under -m slow


def _ideas(ctx, email: str, count: int, when) -> None:
    with ctx.store.write() as s:
        author = person(s, email)
        for n in range(count):
            record_idea(s, author, f"Idea {n}: Acme may need help with VAT", when)


def _opt_in(ctx, *emails: str) -> None:
    with ctx.store.write() as s:
        for email in emails:
            row = person(s, email)
            row.leaderboard_opt_in = True
            s.add(row)


def test_per_head_ranking_lets_a_small_team_win(ctx, week) -> None:
    _ideas(ctx, NADIA, 5, later(hours=1))  # Operations: a team of one, 10 points
    _ideas(ctx, PRIYA, 5, later(hours=1))  # Employment: four people, 20 points
    _ideas(ctx, OWEN, 5, later(hours=1))
    with ctx.store.read() as s:
        boards = compute_boards(s, week, later(hours=2), ctx.settings.zone)
    operations, employment = boards.team("Operations"), boards.team("Employment")
    assert operations and employment
    assert (operations.points, operations.headcount, operations.per_head) == (10, 1, 10.0)
    assert (employment.points, employment.headcount, employment.per_head) == (20, 4, 5.0)
    assert operations.per_head_rank == 1 and employment.per_head_rank == 2
    assert employment.rank == 1 and operations.rank == 2  # raw points tell the other story
    assert boards.teams[0].name == "Operations"
    office = {s.name: s for s in boards.offices}
    assert office["Manchester"].points == 20  # Priya and Nadia are both in Manchester


def test_movement_since_the_end_of_yesterday(ctx, week, clock) -> None:
    _ideas(ctx, PRIYA, 3, later(hours=1))  # 6
    _ideas(ctx, SAM, 2, later(hours=1))  # 4
    clock.move_to(later(days=1, hours=2))
    _ideas(ctx, SAM, 2, later(days=1, hours=1))  # 8
    _ideas(ctx, JAMES, 1, later(days=1, hours=1))  # 2, new today
    with ctx.store.read() as s:
        first_day = compute_boards(s, week, later(hours=3), ctx.settings.zone)
        boards = compute_boards(s, week, later(days=1, hours=2), ctx.settings.zone)
    assert all(p.movement is None and not p.new for p in first_day.people)
    ranks = {p.name: (p.rank, p.points, p.movement, p.new) for p in boards.people}
    assert ranks == {
        "Sam Patel": (1, 8, 1, False),
        "Priya Shah": (2, 6, -1, False),
        "James Thornton": (3, 2, None, True),
    }
    tax = boards.team("Tax")
    assert tax and tax.movement == 1


def test_ties_share_a_rank(ctx, week) -> None:
    _ideas(ctx, PRIYA, 1, later(hours=1))
    _ideas(ctx, SAM, 1, later(hours=1))
    _ideas(ctx, JAMES, 2, later(hours=1))
    with ctx.store.read() as s:
        boards = compute_boards(s, week, later(hours=2), ctx.settings.zone)
    assert [(p.name, p.rank) for p in boards.people] == [
        ("James Thornton", 1),
        ("Priya Shah", 2),
        ("Sam Patel", 2),
    ]


def test_people_board_shows_only_those_who_opted_in(ctx, week, chat) -> None:
    _ideas(ctx, PRIYA, 3, later(hours=1))
    _ideas(ctx, SAM, 2, later(hours=1))
    _opt_in(ctx, SAM)
    public, private = chat(PRIYA).send("/leaderboard")
    assert "Sam Patel" in public.text and "Priya Shah" not in public.text
    assert "1 more person" in public.text
    assert private.private and "#1" in private.text
    # Someone who opted in gets no private aside, and sees the same board.
    assert [r.kind for r in chat(SAM).send("/leaderboard people")] == ["leaderboard_people"]
    # The team board and "me" still show Priya her own standing, privately.
    [me] = chat(PRIYA).send("/leaderboard me")
    assert me.private and "#1" in me.text and "6 points" in me.text


def test_opting_in_and_out(ctx, week, chat) -> None:
    _ideas(ctx, PRIYA, 1, later(hours=1))
    [reply] = chat(PRIYA).send("/crossbot leaderboard on")
    assert reply.kind == "leaderboard_optin"
    assert "Priya Shah" in chat(OWEN).send("/leaderboard")[0].text
    chat(PRIYA).send("/leaderboard optout")
    assert "Priya Shah" not in chat(OWEN).send("/leaderboard")[0].text
    chat(PRIYA).send("leaderboard opt in")
    with ctx.store.read() as s:
        assert person(s, PRIYA).leaderboard_opt_in


def test_no_client_names_on_any_board(ctx, week, chat) -> None:
    with ctx.store.write() as s:
        referral, _ = refer(s, person(s, PRIYA), person(s, SAM), "Northwind Foods Ltd", later())
        step(s, referral, "accepted", person(s, SAM), later(hours=1))
    _opt_in(ctx, PRIYA, SAM)
    for board in ("people", "teams", "offices", "me"):
        for reply in chat(PRIYA).send(f"/leaderboard {board}"):
            assert "Northwind" not in reply.text and "Northwind" not in reply.image_alt


def test_team_board_has_raw_and_per_head_and_a_chart(ctx, week, chat, clock) -> None:
    _ideas(ctx, NADIA, 2, later(hours=1))
    _ideas(ctx, PRIYA, 3, later(hours=1))
    clock.move_to(later(hours=2))  # the chart shows points up to now
    [reply] = chat(KIERAN).send("/leaderboard teams")
    assert reply.image and reply.image.startswith(PNG)
    per_head, total = reply.text.split("Total points")
    assert per_head.index("Operations") < per_head.index("Employment")
    assert total.index("Employment") < total.index("Operations")
    [offices] = chat(KIERAN).send("/leaderboard offices")
    assert "Manchester" in offices.text and offices.image is None


def test_team_race_series_accumulate_per_day(ctx, week) -> None:
    _ideas(ctx, NADIA, 1, later(hours=1))
    _ideas(ctx, NADIA, 2, later(days=1, hours=1))
    with ctx.store.read() as s:
        days, series = team_race(s, week, later(days=2, hours=1), ctx.settings.zone)
    assert days == [date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 2)]
    assert series["Operations"] == [2.0, 6.0, 6.0]
    assert team_race_chart(days, series, title="Winter week").startswith(PNG)


def test_leaderboard_with_no_campaign(chat, clock) -> None:
    [reply] = chat(PRIYA).send("/leaderboard")
    assert reply.kind == "leaderboard_none"


def test_people_who_left_the_campaign_teams_stay_on_the_board(ctx, week) -> None:
    _ideas(ctx, PRIYA, 1, later(hours=1))
    with ctx.store.write() as s:
        row = s.get(Person, person(s, PRIYA).id)
        assert row is not None
        row.active = False
        s.add(row)
    with ctx.store.read() as s:
        boards = compute_boards(s, week, later(hours=2), ctx.settings.zone)
    assert [p.name for p in boards.people] == ["Priya Shah"]


def test_the_benchmark_builds_and_times_boards(tmp_path: Path) -> None:
    bench = load_benchmark("leaderboard_scale")
    store = Store(f"sqlite:///{tmp_path / 'bench.db'}")
    campaign_id = bench.build(store, events=2_000, people=60, start=MONDAY)
    with store.read() as s:
        campaign = s.get(Campaign, campaign_id)
        assert campaign is not None
        boards = compute_boards(s, campaign, later(days=6), bench.Settings(_env_file=None).zone)
    assert sum(p.points for p in boards.people) == sum(t.points for t in boards.teams)
    store.dispose()


def test_me_before_anyone_scores_claims_no_rank_for_my_team(ctx, week, chat) -> None:
    [me] = chat(PRIYA).send("/leaderboard me")
    assert "#1" not in me.text
    assert "Employment hasn't scored yet" in me.text


def test_boards_see_people_points_and_opt_ins_changed_on_another_replica(replicas) -> None:
    here, there, week = replicas
    _ideas(here, PRIYA, 1, later(hours=1))

    def boards():
        with here.store.read() as s:
            return compute_boards(s, week, later(hours=2), here.settings.zone)

    before = boards()  # the head counts are kept from here on
    employment, tax = before.team("Employment"), before.team("Tax")
    assert employment is not None and tax is not None
    assert [(p.name, p.opted_in) for p in before.people] == [("Priya Shah", False)]

    ConsoleChannel(there, PRIYA).send("/crossbot leaderboard on")
    _ideas(there, SAM, 2, later(hours=1))
    catalog = load_catalog(SAMPLE_CONTENT)  # a load moves Owen to Tax
    moved = [replace(p, team="Tax") if p.email == OWEN else p for p in catalog.people]
    with there.store.write() as s:
        load_into(s, replace(catalog, people=moved))
    assert boards().team("Tax").headcount == tax.headcount + 1  # type: ignore[union-attr]
    with there.store.write() as s:  # neither adds nor removes a row
        forget_person(s, "bethan.morris@hartwellfinch.example")

    after = boards()
    # Sam's ideas count at once, Priya's opt-in too; each idea is worth 2 points.
    assert [(p.name, p.points, p.opted_in) for p in after.people] == [
        ("Sam Patel", 4, False),
        ("Priya Shah", 2, True),
    ]
    assert after.team("Employment").headcount == employment.headcount - 2  # type: ignore[union-attr]
    assert after.team("Tax").headcount == tax.headcount + 1  # type: ignore[union-attr]


def test_a_person_forgotten_on_another_replica_is_not_named_on_the_board(replicas) -> None:
    here, there, week = replicas
    _ideas(here, PRIYA, 1, later(hours=1))

    def names() -> list[str]:
        with here.store.read() as s:
            return [
                p.name for p in compute_boards(s, week, later(hours=2), here.settings.zone).people
            ]

    with there.store.write() as s:  # she left first: no longer active, still on the board
        row = person(s, PRIYA)
        row.active = False
        s.add(row)
    assert names() == ["Priya Shah"]
    with there.store.write() as s:
        forgotten = forget_person(s, PRIYA)
    assert forgotten is not None
    assert names() == [forgotten.name]


def _standings(boards) -> list[tuple]:
    """Everything a board shows, people, teams and offices, as plain tuples."""
    rows = [*boards.people, *boards.teams, *boards.offices]
    return [(s.key, s.points, s.rank, s.movement, s.per_head_rank, s.opted_in) for s in rows]


@pytest.fixture
def replicas(database_url: str, settings, clock) -> Iterator[tuple[Context, Context, Campaign]]:
    """Two contexts on one database, each with its own pool (two replicas' caches), and
    the Winter week started on the first."""
    here = Context(load_sample(Store(database_url)), settings)
    there = Context(Store(database_url), settings)
    yield here, there, make_campaign(here)
    here.store.dispose()
    there.store.dispose()


def _board(ctx, week):
    with ctx.store.read() as s:
        return compute_boards(s, week, later(days=1, hours=2), ctx.settings.zone)


def _award(ctx, week, email: str, points: int, **fields) -> int:
    """A ledger row written as a replica's award would be (an explicit id when given)."""
    with ctx.store.write() as s:
        row = PointEvent.earned_by(
            person(s, email),
            key=f"{week.id}:test:{points}:{fields.get('id', '')}:{email}",
            campaign_id=week.id,
            kind="idea",
            points=points,
            at=later(**fields.pop("when", {"hours": 1})),
            **fields,
        )
        s.add(row)
        s.flush()
        assert row.id is not None
        return row.id


def test_a_board_brought_up_to_date_shows_what_a_fresh_sum_shows(
    replicas, database_url: str, settings
) -> None:
    here, there, week = replicas
    _ideas(here, PRIYA, 2, later(hours=1))
    _board(here, week)  # summed here; from now on brought up to date
    _ideas(there, SAM, 3, later(days=1, hours=1))  # today: movement since yesterday
    _ideas(there, OWEN, 1, later(hours=1))
    fresh = Store(database_url)  # a third replica, which sums the whole ledger
    try:
        assert _standings(_board(here, week)) == _standings(_board(Context(fresh, settings), week))
    finally:
        fresh.dispose()
    assert [(p.name, p.points) for p in _board(here, week).people] == [
        ("Sam Patel", 6),
        ("Priya Shah", 4),
        ("Owen Gallagher", 2),
    ]


def test_a_row_below_the_highest_id_seen_or_a_row_removed_is_counted(replicas) -> None:
    """What a PostgreSQL commit out of id order, or a deletion, looks like to a reader."""
    here, there, week = replicas
    first = _award(there, week, PRIYA, 5)
    _award(there, week, SAM, 7, id=first + 100)
    assert [p.points for p in _board(here, week).people] == [7, 5]
    _award(there, week, OWEN, 9, id=first + 50)  # committed after a higher id was read
    _award(there, week, JAMES, 3, id=first + 200)  # and one above it
    assert [(p.name, p.points) for p in _board(here, week).people] == [
        ("Owen Gallagher", 9),
        ("Sam Patel", 7),
        ("Priya Shah", 5),
        ("James Thornton", 3),
    ]
    with there.store.write() as s:
        s.execute(delete(PointEvent).where(col(PointEvent.id) == first + 100))
    _award(there, week, KIERAN, 1, id=first + 300)
    names = [p.name for p in _board(here, week).people]
    assert names == ["Owen Gallagher", "Priya Shah", "James Thornton", "Kieran Walsh"]


def test_a_board_reads_only_the_rows_added_since_the_last(replicas) -> None:
    here, there, week = replicas
    _ideas(there, PRIYA, 2, later(hours=1))
    statements: list[str] = []
    event.listen(here.store.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    _board(here, week)
    assert any("GROUP BY" in s for s in statements)  # the first board sums the ledger
    statements.clear()
    unchanged = _board(here, week)
    assert not any("GROUP BY" in s or "pointevent.id >" in s for s in statements)
    _ideas(there, SAM, 1, later(hours=1))
    statements.clear()
    added = _board(here, week)
    assert not any("GROUP BY" in s for s in statements)
    assert sum("pointevent.id >" in s for s in statements) == 1
    assert [p.points for p in unchanged.people] == [4]
    assert [p.points for p in added.people] == [4, 2]


def test_an_opt_out_on_another_replica_hides_the_name_though_no_points_moved(replicas) -> None:
    here, there, week = replicas
    _ideas(here, PRIYA, 1, later(hours=1))
    ConsoleChannel(there, PRIYA).send("/crossbot leaderboard on")
    assert [(p.name, p.opted_in) for p in _board(here, week).people] == [("Priya Shah", True)]
    ConsoleChannel(there, PRIYA).send("/crossbot leaderboard off")
    assert [(p.name, p.opted_in) for p in _board(here, week).people] == [("Priya Shah", False)]
    [shown] = ConsoleChannel(here, SAM).send("/leaderboard")
    assert "Priya" not in shown.text


def test_a_board_read_in_a_write_that_rolls_back_leaves_nothing_behind(replicas) -> None:
    here, there, week = replicas
    _award(here, week, PRIYA, 5)
    _board(here, week)
    with pytest.raises(RuntimeError), here.store.write() as s:
        s.add(
            PointEvent.earned_by(
                person(s, SAM), key="rolled back", campaign_id=week.id, kind="idea", points=50
            )
        )
        s.flush()
        assert compute_boards(s, week, later(days=1, hours=2), here.settings.zone).person(
            person(s, SAM).id
        )
        raise RuntimeError("rolled back")
    _award(there, week, OWEN, 3)  # on SQLite, with the id the rolled-back row had
    assert [(p.name, p.points) for p in _board(here, week).people] == [
        ("Priya Shah", 5),
        ("Owen Gallagher", 3),
    ]


def test_the_few_standings_a_turn_asks_for_are_those_of_the_whole_board(ctx, week) -> None:
    _ideas(ctx, PRIYA, 3, later(hours=1))  # yesterday: Priya ahead, Sam and Owen tied
    _ideas(ctx, SAM, 1, later(hours=1))
    _ideas(ctx, OWEN, 1, later(hours=1))
    _ideas(ctx, SAM, 3, later(days=1, hours=1))  # today: Sam passes Priya
    _ideas(ctx, JAMES, 1, later(days=1, hours=1))  # and James ties Owen, new today
    _opt_in(ctx, SAM, OWEN)
    with ctx.store.read() as s:
        boards = compute_boards(s, week, later(days=1, hours=2), ctx.settings.zone)
        ids = {email: person(s, email).id for email in (PRIYA, SAM, OWEN, JAMES, NADIA)}
    asked = {email: boards.person(pid) for email, pid in ids.items()}
    top, hidden, scorers = boards.public_top(1), boards.hidden, boards.scorers
    whole = boards.people  # built now, from the same ranking
    assert [(s.name, s.rank, s.movement, s.new) for s in whole] == [
        ("Sam Patel", 1, 1, False),
        ("Priya Shah", 2, -1, False),
        ("James Thornton", 3, None, True),
        ("Owen Gallagher", 3, -1, False),
    ]
    assert asked == {email: boards.person(pid) for email, pid in ids.items()}
    assert asked[NADIA] is None
    assert top == boards.public_people[:1] == [whole[0]]
    assert (hidden, scorers) == (2, 4)
