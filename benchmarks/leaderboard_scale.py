"""Leaderboards over a million point events on SQLite: prints how long the boards take.

    python benchmarks/leaderboard_scale.py [--events 1000000] [--people 5000] [--db PATH]

Builds a throwaway database (a file, as in production: WAL, migrations, indexes), fills the
ledger of one campaign with synthetic awards spread over a week, then times
`compute_boards` (people, teams and offices, raw and per head, with movement since
yesterday) and the team-race series the chart draws. Target: boards in ≤ 1 s.

Boards are kept per process, so it times three cases, each the best of `--repeat`, in CPU
time of the process (`time.process_time`): the first board (the whole ledger summed), a
board with nothing changed, and a board after `--added` more awards (what changed read).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert  # noqa: E402
from sqlmodel import select  # noqa: E402

from benchmarks._firm import sqlite_store  # noqa: E402
from bot.campaigns import Boards, compute_boards, team_race  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.store import Store  # noqa: E402
from bot.store.models import Campaign, Person, PointEvent  # noqa: E402

TEAMS = [f"Team {n:02d}" for n in range(40)]
OFFICES = ["London", "Manchester", "Leeds", "Bristol", "Edinburgh", "Glasgow", "Cardiff"]
KINDS = [("logged", 1), ("accepted", 5), ("meeting", 10), ("won", 35), ("idea", 2), ("story", 10)]


def build(store: Store, events: int, people: int, start: datetime, seed: int = 8) -> int:
    rng = random.Random(seed)
    with store.write() as session:
        for n in range(people):
            session.add(
                Person(
                    email=f"person{n}@bench.example",
                    name=f"Person {n}",
                    team=TEAMS[n % len(TEAMS)] if n % 7 else TEAMS[n % 5],  # uneven team sizes
                    office=OFFICES[n % len(OFFICES)],
                    leaderboard_opt_in=n % 3 == 0,
                )
            )
        campaign = Campaign(
            name="Bench week", starts_at=start, ends_at=start + timedelta(days=7), status="running"
        )
        session.add(campaign)
        session.flush()
        assert campaign.id is not None
        campaign_id = campaign.id
        roster = [(p.id, p.team, p.office) for p in session.exec(select(Person)).all()]
    batch: list[dict] = []
    span = int(timedelta(days=6, hours=23).total_seconds())
    with store.engine.begin() as connection:
        for n in range(events):
            person_id, team, office = roster[int(rng.paretovariate(1.2)) % len(roster)]
            kind, points = KINDS[rng.randrange(len(KINDS))]
            batch.append(
                {
                    "key": f"{campaign_id}:bench:{n}:{person_id}:{kind}",
                    "campaign_id": campaign_id,
                    "person_id": person_id,
                    "team": team,
                    "office": office,
                    "kind": kind,
                    "points": points,
                    "source": f"bench:{n}",
                    "at": start + timedelta(seconds=rng.randrange(span)),
                }
            )
            if len(batch) == 50_000:
                connection.execute(insert(PointEvent), batch)
                batch = []
        if batch:
            connection.execute(insert(PointEvent), batch)
        connection.exec_driver_sql("ANALYZE")
    return campaign_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=5_000)
    parser.add_argument("--db", type=Path, default=None, help="reuse or create this SQLite file")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--added", type=int, default=10, help="awards added between boards")
    args = parser.parse_args()
    zone = Settings(_env_file=None).zone  # type: ignore[call-arg]
    start = datetime(2026, 11, 16, 0, 0, tzinfo=UTC)
    now = start + timedelta(days=6, hours=12)
    with sqlite_store(args.db, "bench.db") as (store, fresh):
        if fresh:
            began = time.perf_counter()
            build(store, args.events, args.people, start)
            print(f"built {args.events:,} point events in {time.perf_counter() - began:.1f} s")
        with store.read() as session:
            campaign = session.exec(select(Campaign)).first()
            assert campaign is not None
            session.expunge(campaign)
        first, unchanged, added, race = [], [], [], []
        for _ in range(args.repeat):
            first.append(_timed(store, campaign, now, zone, fresh_process=True)[0])
            unchanged.append(_timed(store, campaign, now, zone)[0])
            _award(store, campaign, args.added)
            took, boards = _timed(store, campaign, now, zone)
            added.append(took)
            with store.read() as session:
                began = time.process_time()
                team_race(session, campaign, now, zone)
                race.append(time.process_time() - began)
    best = min(first)
    print(
        f"boards over {args.events:,} point events: {best:.3f} s "
        f"(best of {args.repeat}; {len(boards.people):,} people, {len(boards.teams)} teams, "
        f"{len(boards.offices)} offices) — target ≤ 1 s: {'met' if best <= 1 else 'MISSED'}"
    )
    print(f"  the same board again, nothing changed: {min(unchanged) * 1000:.2f} ms")
    print(f"  after {args.added} more awards: {min(added) * 1000:.2f} ms")
    print(f"team race series (chart data): {min(race):.3f} s")
    one, five, _ = os.getloadavg()
    print(f"CPU time of the process; load average {one:.2f} / {five:.2f}")


def _timed(
    store: Store, campaign: Campaign, now: datetime, zone: ZoneInfo, fresh_process: bool = False
) -> tuple[float, Boards]:
    """One board's CPU time; `fresh_process` first forgets what this process keeps."""
    if fresh_process:
        store.dispose()  # a new pool: nothing summed for it yet, as in a process just started
    with store.read() as session:
        began = time.process_time()
        boards = compute_boards(session, campaign, now, zone)
        return time.process_time() - began, boards


def _award(store: Store, campaign: Campaign, count: int) -> None:
    """`count` more awards, as replicas append them while a campaign runs."""
    with store.write() as session:
        people = session.exec(select(Person).limit(count)).all()
        for person in people:
            session.add(
                PointEvent.earned_by(
                    person,
                    key=f"{campaign.id}:more:{uuid.uuid4().hex}",
                    campaign_id=campaign.id,
                    kind="idea",
                    points=2,
                    at=campaign.starts_at + timedelta(days=6),
                )
            )


if __name__ == "__main__":
    main()
