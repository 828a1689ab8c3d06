"""Leaderboards: the ledger's sums kept per process and brought up to date from the rows
added since the last read (migration 0002's covering index serves the full sum)."""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, case, func, not_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from bot.campaigns._lifecycle import _MEMBER_COLUMNS, Member, is_participant, last_day
from bot.local_time import local_day, local_midnight
from bot.store import reads_only
from bot.store.models import (
    Campaign,
    Person,
    PointEvent,
)

_PEOPLE = Person.__table__  # type: ignore[attr-defined]
_POINTS = PointEvent.__table__  # type: ignore[attr-defined]
_OF_CAMPAIGN = _POINTS.c.campaign_id == bindparam("campaign")


def _scalar(table: Any, column: Any, *where: Any) -> Any:
    """`column` of `table` as a scalar subquery: SQLite answers a lone count(*) from its
    b-tree and a lone max() of an indexed column from the index, not so when they share a
    SELECT (5,000 people: 20 µs against 550 µs)."""
    return sa_select(column).select_from(table).where(*where).scalar_subquery()


# Whether the people a board names and counts have changed, on any replica: count and
# highest id see rows added or removed, the count of those who left a person forgotten or
# deactivated (`ix_person_inactive`), and a load (or `crossbot person forget`) stamps
# `changed_at` on every row it edits (a rename, a team or office moved). Opt-ins are not
# in it: boards read them afresh (`ix_person_opted_in`).
_PEOPLE_STAMP = sa_select(
    _scalar(_PEOPLE, func.count()),
    _scalar(_PEOPLE, func.count(), not_(_PEOPLE.c.active)),
    _scalar(_PEOPLE, func.max(_PEOPLE.c.id)),
    _scalar(_PEOPLE, func.max(_PEOPLE.c.changed_at)),
)
# Built once (Core, no ORM loading), and one statement so that PostgreSQL reads both stamps
# in one snapshot: the campaign's ledger rows counted and its highest id, then the people's.
_STAMPS = sa_select(
    _scalar(_POINTS, func.count(), _OF_CAMPAIGN),
    _scalar(_POINTS, func.coalesce(func.max(_POINTS.c.id), 0), _OF_CAMPAIGN),
    *_PEOPLE_STAMP.selected_columns,
)
_OPTED_IN = sa_select(_PEOPLE.c.id).where(_PEOPLE.c.leaderboard_opt_in)
_BEFORE = func.sum(case((_POINTS.c.at < bindparam("cutoff"), _POINTS.c.points), else_=0))
# The whole ledger of a campaign, summed per person, team and office (one index scan).
_LEDGER_SUMS = (
    sa_select(
        _POINTS.c.person_id,
        _POINTS.c.team,
        _POINTS.c.office,
        func.sum(_POINTS.c.points),
        _BEFORE,
        func.count(),
        func.max(_POINTS.c.id),
    )
    .where(_OF_CAMPAIGN)
    .group_by(_POINTS.c.person_id, _POINTS.c.team, _POINTS.c.office)
)
# The rows added since a tally's last read, up to the highest id its stamp saw.
_LEDGER_ADDED = sa_select(
    _POINTS.c.person_id,
    _POINTS.c.team,
    _POINTS.c.office,
    _POINTS.c.points,
    case((_POINTS.c.at < bindparam("cutoff"), _POINTS.c.points), else_=0),
).where(_OF_CAMPAIGN, _POINTS.c.id > bindparam("after"), _POINTS.c.id <= bindparam("upto"))
_Heads = tuple[dict[str, int], dict[str, int]]
_Sums = dict[Any, list[int]]  # key -> [points, points before the cutoff]


@dataclass
class _Roster:
    """Every person as boards see them, read at one stamp, and head counts per campaign."""

    stamp: tuple[object, ...]
    members: dict[int, Member]
    heads: dict[tuple[tuple[str, ...], tuple[str, ...]], _Heads] = field(default_factory=dict)


_ROSTERS: dict[object, _Roster] = {}  # by connection pool: one per database
_ROSTERS_LOCK = threading.Lock()
ROSTERS_CACHE_SIZE = 64


@dataclass
class _Tally:
    """A campaign's ledger summed per person, team and office before and after one cutoff:
    `count` rows, none above `last_id`, and the boards last built from it."""

    count: int = 0
    last_id: int = 0
    people: _Sums = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    teams: _Sums = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    offices: _Sums = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    lock: threading.Lock = field(default_factory=threading.Lock)
    built_from: tuple[object, ...] | None = None  # (roster stamp, opted-in ids) of `boards`
    boards: Boards | None = None

    def add(self, person_id: int, team: str, office: str, total: int, before: int) -> None:
        for bucket, key in ((self.people, person_id), (self.teams, team), (self.offices, office)):
            sums = bucket[key]
            sums[0] += int(total or 0)
            sums[1] += int(before or 0)


# By (connection pool, campaign, its start, cutoff): one per database and board day.
_TALLIES: dict[tuple[object, ...], _Tally] = {}
_TALLIES_LOCK = threading.Lock()
TALLIES_CACHE_SIZE = 64


@dataclass
class Standing:
    """One row of a board. `movement` is places gained since yesterday (None: new today)."""

    key: str
    name: str
    points: int
    rank: int = 0
    movement: int | None = None
    headcount: int = 0
    per_head: float = 0.0
    per_head_rank: int = 0
    per_head_movement: int | None = None
    person_id: int | None = None
    opted_in: bool = True
    team: str = ""
    new: bool = False  # on the board today, not at the end of yesterday


@dataclass
class _Ranking:
    """Everyone who scored, ranked now and at the cutoff: a `Standing` is made only for the
    people a caller asks about (a board of thousands shows ten)."""

    points: dict[int, int]  # person id -> points, for those above zero
    before: dict[int, int]  # the same at the cutoff (empty when the campaign began today)
    members: dict[int, Member]
    opted_in: frozenset[int]
    started_today: bool
    ascending: list[int] = field(init=False)
    ascending_before: list[int] = field(init=False)

    def __post_init__(self) -> None:
        self.ascending = sorted(self.points.values())
        self.ascending_before = sorted(self.before.values())

    def ordered(self, ids: Iterable[int]) -> list[int]:
        """`ids` in board order: points, then name (then id, as `_ranks` breaks ties)."""
        points, members = self.points, self.members
        return sorted(ids, key=lambda pid: (-points[pid], members[pid].name, str(pid)))

    def standing(self, pid: int) -> Standing:
        person, rank = self.members[pid], _rank_of(self.ascending, self.points[pid])
        earlier = self.before.get(pid)
        then = None if earlier is None else _rank_of(self.ascending_before, earlier)
        return Standing(
            key=person.email,
            name=person.name,
            points=self.points[pid],
            rank=rank,
            movement=None if then is None else then - rank,
            new=not self.started_today and then is None,
            person_id=person.id,
            opted_in=person.id in self.opted_in,
            team=person.team,
        )


def _rank_of(ascending: list[int], value: int) -> int:
    """Competition rank (1, 2, 2, 4) of `value` among `ascending`: one more than the number
    of higher values, as `_ranks` gives it."""
    return len(ascending) - bisect_right(ascending, value) + 1


@dataclass
class Boards:
    campaign: Campaign
    teams: list[Standing] = field(default_factory=list)  # by points per head
    offices: list[Standing] = field(default_factory=list)
    ranking: _Ranking | None = field(default=None, repr=False)
    everyone: list[Standing] | None = field(default=None, repr=False)  # `people`, once built

    @property
    def people(self) -> list[Standing]:
        """Everyone who scored, ranked (built on first use: most callers need a few)."""
        if self.everyone is None:
            ranking = self.ranking
            ids = ranking.ordered(ranking.points) if ranking else []
            self.everyone = [ranking.standing(pid) for pid in ids] if ranking else []
        return self.everyone

    @property
    def scorers(self) -> int:
        """How many people scored (`len(people)`)."""
        return len(self.ranking.points) if self.ranking else 0

    @property
    def hidden(self) -> int:
        """How many who scored are not named: they have not opted in."""
        ranking = self.ranking
        return self.scorers - len(ranking.opted_in & ranking.points.keys()) if ranking else 0

    def public_top(self, count: int) -> list[Standing]:
        """The first `count` of `public_people`."""
        ranking = self.ranking
        if self.everyone is not None or ranking is None:
            return self.public_people[:count]
        shown = ranking.opted_in & ranking.points.keys()
        return [ranking.standing(pid) for pid in ranking.ordered(shown)[:count]]

    def person(self, person_id: int | None) -> Standing | None:
        ranking = self.ranking
        if self.everyone is not None or ranking is None:
            return next((s for s in self.people if s.person_id == person_id), None)
        return ranking.standing(person_id) if person_id in ranking.points else None

    def team(self, name: str) -> Standing | None:
        return next((s for s in self.teams if s.key == name), None)

    @property
    def public_people(self) -> list[Standing]:
        return [s for s in self.people if s.opted_in]

    @property
    def teams_by_points(self) -> list[Standing]:
        return sorted(self.teams, key=lambda s: (s.rank, s.name))


def _ranks(values: dict[str, float]) -> dict[str, int]:
    """Competition ranking (1, 2, 2, 4) over positive scores; zero scores share last place."""
    ordered = sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))
    ranks: dict[str, int] = {}
    previous: float | None = None
    rank = 0
    for position, (key, value) in enumerate(ordered, 1):
        if value != previous:
            rank, previous = position, value
        ranks[key] = rank
    return ranks


def compute_boards(
    session: Session,
    campaign: Campaign,
    now: datetime,
    zone: ZoneInfo,
    since: datetime | None = None,
) -> Boards:
    """People, team and office standings at `now`, with movement since the end of yesterday
    (or since `since`).

    The ledger's sums are kept per process and brought up to date from the rows added since
    the last board (`_tally`); the boards are built again only when the sums, the people or
    the opt-ins have changed. The lists are shared between callers: read them, never edit.
    """
    baseline = since or local_midnight(local_day(now, zone), zone)
    cutoff = max(baseline, campaign.starts_at)
    started_today = cutoff <= campaign.starts_at
    connection = session.connection()
    # The stamps come before the rows they vouch for: see _roster.
    stamps = tuple(connection.execute(_STAMPS, {"campaign": campaign.id}).one())
    roster = _roster(session, stamps[2:])
    opted_in = frozenset(connection.scalars(_OPTED_IN))  # read afresh: opting stamps nothing
    # A write may roll back what it read of its own: its sums are its own, summed afresh.
    shared = reads_only(session)
    key = (connection.engine.pool, campaign.id, campaign.starts_at, cutoff)
    tally = _tally_for(key) if shared else _Tally()
    with tally.lock:
        changed = _bring_up_to_date(session, tally, campaign, cutoff, stamps[:2])
        built_from = (roster.stamp, opted_in)
        if changed or tally.boards is None or tally.built_from != built_from:
            tally.boards = _boards(session, campaign, tally, roster, opted_in, started_today)
            tally.built_from = built_from
        return replace(tally.boards, campaign=campaign)


def _tally_for(key: tuple[object, ...]) -> _Tally:
    with _TALLIES_LOCK:
        tally = _TALLIES.get(key)
        if tally is None:
            if len(_TALLIES) >= TALLIES_CACHE_SIZE:
                _TALLIES.clear()
            tally = _TALLIES[key] = _Tally()
        return tally


def _bring_up_to_date(
    session: Session, tally: _Tally, campaign: Campaign, cutoff: datetime, stamp: tuple
) -> bool:
    """Add the ledger rows `stamp` (count, highest id) shows beyond `tally`; sum the whole
    ledger again when the count does not add up (a row removed, or on PostgreSQL one
    committed after a higher id was read). False when nothing changed."""
    count, last_id = int(stamp[0]), int(stamp[1])
    if (count, last_id) == (tally.count, tally.last_id):
        return False
    connection = session.connection()
    if last_id > tally.last_id and tally.count > 0:
        params = {"campaign": campaign.id, "cutoff": cutoff, "after": tally.last_id}
        added = connection.execute(_LEDGER_ADDED, {**params, "upto": last_id}).all()
        if tally.count + len(added) == count:
            for row in added:
                tally.add(*row)
            tally.count, tally.last_id = count, last_id
            return True
    _sum_again(session, tally, campaign, cutoff)
    return True


def _sum_again(session: Session, tally: _Tally, campaign: Campaign, cutoff: datetime) -> None:
    """The whole ledger summed afresh, with the count and highest id it covers (read in the
    same statement, so in the same snapshot)."""
    fresh = _Tally()
    params = {"campaign": campaign.id, "cutoff": cutoff}
    for person_id, team, office, total, before, count, top in session.connection().execute(
        _LEDGER_SUMS, params
    ):
        fresh.add(person_id, team, office, total, before)
        fresh.count += count
        fresh.last_id = max(fresh.last_id, top)
    tally.people, tally.teams, tally.offices = fresh.people, fresh.teams, fresh.offices
    tally.count, tally.last_id = fresh.count, fresh.last_id


def _boards(
    session: Session,
    campaign: Campaign,
    tally: _Tally,
    roster: _Roster,
    opted_in: frozenset[int],
    started_today: bool,
) -> Boards:
    heads_team, heads_office = _headcounts(session, roster, campaign)
    boards = Boards(campaign=campaign)
    boards.ranking = _people_board(session, tally.people, roster.members, opted_in, started_today)
    boards.teams = _group_board(tally.teams, heads_team, started_today)
    boards.offices = _group_board(tally.offices, heads_office, started_today)
    return boards


def _roster(session: Session, stamp: tuple[object, ...] | None = None) -> _Roster:
    """Every person row as boards need it, read again only when `_PEOPLE_STAMP` (or `stamp`,
    read with it) moved (one query; the 5,000 rows of a big firm cost far more to read and
    count on every board).

    Kept under the stamp read before the rows: a change in between makes the next board
    read them again, so no roster is ever older than its stamp."""
    connection = session.connection()
    if stamp is None:
        stamp = tuple(connection.execute(_PEOPLE_STAMP).one())
    pool = connection.engine.pool
    with _ROSTERS_LOCK:
        roster = _ROSTERS.get(pool)
    if roster is not None and roster.stamp == stamp:
        return roster
    rows = connection.execute(sa_select(*_MEMBER_COLUMNS)).all()
    roster = _Roster(stamp, {row[0]: Member(*row) for row in rows})
    with _ROSTERS_LOCK:
        if len(_ROSTERS) >= ROSTERS_CACHE_SIZE:
            _ROSTERS.clear()
        _ROSTERS[pool] = roster
    return roster


def _headcounts(session: Session, roster: _Roster, campaign: Campaign) -> _Heads:
    """How many people take part in `campaign` (per team, per office), counted once per
    roster."""
    key = (tuple(campaign.teams), tuple(campaign.offices))
    counted = roster.heads.get(key)
    if counted is None:
        heads: _Heads = (defaultdict(int), defaultdict(int))
        for person in roster.members.values():
            if is_participant(campaign, person):
                heads[0][person.team] += 1
                if person.office:
                    heads[1][person.office] += 1
        counted = roster.heads[key] = (dict(heads[0]), dict(heads[1]))
    return counted


def headcounts(session: Session, campaign: Campaign) -> _Heads:
    """How many people take part in `campaign`, per team and per office."""
    return _headcounts(session, _roster(session), campaign)


def _people_board(
    session: Session,
    sums: dict[int, list[int]],
    members: dict[int, Member],
    opted_in: frozenset[int],
    started_today: bool,
) -> _Ranking:
    people, missing = members, {pid for pid in sums if pid not in members}
    if missing:  # added after the roster's stamp was read (PostgreSQL reads see new rows)
        query = sa_select(*_MEMBER_COLUMNS).where(col(Person.id).in_(missing))
        people = {**members, **{row[0]: Member(*row) for row in session.execute(query).all()}}
    points = {pid: v[0] for pid, v in sums.items() if v[0] > 0}
    before = {pid: v[1] for pid, v in sums.items() if v[1] > 0 and not started_today}
    return _Ranking(points, before, people, opted_in, started_today)


def _group_board(
    sums: dict[str, list[int]], heads: dict[str, int], started_today: bool
) -> list[Standing]:
    names = [n for n in set(sums) | set(heads) if n]
    totals = {n: float(sums.get(n, [0, 0])[0]) for n in names}
    totals_before = {n: float(sums.get(n, [0, 0])[1]) for n in names}
    per_head = {n: totals[n] / max(heads.get(n, 0), 1) for n in names}
    per_head_before = {n: totals_before[n] / max(heads.get(n, 0), 1) for n in names}
    ranks, ranks_before = _ranks(totals), _ranks(totals_before)
    head_ranks, head_ranks_before = _ranks(per_head), _ranks(per_head_before)
    board = [
        Standing(
            key=n,
            name=n,
            points=int(totals[n]),
            rank=ranks[n],
            movement=None if started_today else ranks_before[n] - ranks[n],
            headcount=heads.get(n, 0),
            per_head=round(per_head[n], 2),
            per_head_rank=head_ranks[n],
            per_head_movement=None if started_today else head_ranks_before[n] - head_ranks[n],
        )
        for n in names
    ]
    return sorted(board, key=lambda s: (s.per_head_rank, s.rank, s.name))


def team_race(
    session: Session, campaign: Campaign, now: datetime, zone: ZoneInfo, top: int = 6
) -> tuple[list[date], dict[str, list[float]]]:
    """Cumulative points per head for the leading teams at the end of each campaign day."""
    first = local_day(campaign.starts_at, zone)
    last = min(local_day(now, zone), last_day(campaign, zone))
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)] or [first]
    cutoffs = [local_midnight(d + timedelta(days=1), zone) for d in days]
    columns = [
        func.sum(case((col(PointEvent.at) < c, PointEvent.points), else_=0)) for c in cutoffs
    ]
    rows = session.execute(
        sa_select(col(PointEvent.team), *columns)
        .where(col(PointEvent.campaign_id) == campaign.id, col(PointEvent.at) <= now)
        .group_by(col(PointEvent.team))
    ).all()
    heads = headcounts(session, campaign)[0]
    series = {
        row[0]: [float(v or 0) / max(heads.get(row[0], 0), 1) for v in row[1:]]
        for row in rows
        if row[0]
    }
    leaders = sorted(series, key=lambda t: (-series[t][-1], t))[:top]
    return days, {t: series[t] for t in leaders}


def movement_word(movement: int | None) -> str:
    """A compact marker for templates: ▲2, ▼1, =, or nothing (no yesterday to compare)."""
    if movement is None:
        return ""
    if movement > 0:
        return f"▲{movement}"
    if movement < 0:
        return f"▼{-movement}"
    return "="


def set_opt_in(session: Session, person: Person, on: bool) -> None:
    row = session.get(Person, person.id)
    if row is not None:
        row.leaderboard_opt_in = on
        session.add(row)
