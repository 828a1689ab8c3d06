"""Every dashboard page for a big firm: 5,000 people, 50,000 referrals, a running campaign.

    python benchmarks/dashboard_scale.py [--people 5000] [--referrals 50000] [--db FILE]

Generates the firm the way `digest_scale.py` does (bulk inserts into a temporary SQLite
file, not timed), adds a running campaign with a points ledger and ideas, then serves the
real aiohttp app on a local port and times each page over HTTP, signed in as an admin (the
firm-wide view, the heaviest) and as a member. Target: every page < 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import aiohttp  # noqa: E402
from aiohttp.test_utils import TestServer  # noqa: E402
from digest_scale import NOW, generate  # noqa: E402
from sqlalchemy import insert  # noqa: E402
from sqlmodel import select  # noqa: E402

from benchmarks._firm import sqlite_store  # noqa: E402
from bot.context import Context  # noqa: E402
from bot.dashboard import issue_link  # noqa: E402
from bot.server import build_app  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.store import Store  # noqa: E402
from bot.store.models import Campaign, Idea, IdeaVote, Person, PointEvent  # noqa: E402

PAGES = [
    ("overview", "/dashboard"),
    ("referrals", "/dashboard/referrals"),
    ("referrals, filtered", "/dashboard/referrals?status=won&team=Team%2007&from=2026-06-01"),
    ("referrals, page 200", "/dashboard/referrals?page=200"),
    ("audit trail", "/dashboard/referrals/42"),
    ("teams", "/dashboard/teams"),
    ("teams, a quarter", "/dashboard/teams?from=2026-08-01&to=2026-10-31"),
    ("cards", "/dashboard/cards"),
    ("campaigns", "/dashboard/campaigns"),
    ("sign-ins", "/dashboard/sessions"),
]
CSV = ("CSV, every referral", "/dashboard/referrals.csv")
KINDS = [("logged", 1), ("accepted", 5), ("meeting", 10), ("won", 35), ("idea", 2)]


def add_campaign(store: Store, people: int, events: int, seed: int = 9) -> None:
    """A campaign running for a week before NOW, with `events` awards and some ideas."""
    rng = random.Random(seed)
    start = NOW - timedelta(days=6)
    with store.write() as session:
        campaign = Campaign(
            name="Bench fortnight",
            starts_at=start,
            ends_at=NOW + timedelta(days=8),
            status="running",
        )
        session.add(campaign)
        session.flush()
        teams = dict(session.exec(select(Person.id, Person.team)).all())
        conn = session.connection()
        rows = []
        for n in range(events):
            person = rng.randint(1, people)
            kind, points = KINDS[n % len(KINDS)]
            rows.append(
                {
                    "key": f"bench:{n}",
                    "campaign_id": campaign.id,
                    "person_id": person,
                    "team": teams[person],
                    "office": "",
                    "kind": kind,
                    "points": points,
                    "source": f"bench:{n}",
                    "at": start + timedelta(minutes=rng.randint(0, 6 * 24 * 60)),
                }
            )
        conn.execute(insert(PointEvent), rows)
        conn.execute(
            insert(Idea),
            [
                {
                    "campaign_id": campaign.id,
                    "author_id": rng.randint(1, people),
                    "text": f"Idea {n}",
                    "client_name": "",
                    "why_now": "",
                    "created_at": start,
                }
                for n in range(300)
            ],
        )
        conn.execute(
            insert(IdeaVote),
            # Ten voters on every idea: one vote per person per idea.
            [{"idea_id": 1 + n % 300, "person_id": 1 + n // 300, "at": start} for n in range(3000)],
        )


def build_firm(store: Store, people: int, referrals: int, events: int) -> None:
    """The benchmark's firm: `generate`'s, a running campaign, and person1 an admin."""
    generate(store, people, referrals)
    add_campaign(store, people, events)
    with store.write() as session:
        admin = session.get(Person, 2)  # person1@bigfirm.example
        assert admin is not None
        admin.role = "admin"


Timings = dict[str, dict[str, tuple[float, float, int]]]  # who → page → (best, median, status)


async def time_pages(ctx: Context, emails: list[str], repeat: int) -> Timings:
    server = TestServer(build_app(ctx))
    await server.start_server()
    results: Timings = {}
    try:
        for email in emails:
            person = ctx.person(email)
            assert person is not None
            jar = aiohttp.CookieJar(unsafe=True)
            async with aiohttp.ClientSession(cookie_jar=jar) as http:
                path = "/dashboard/signin/" + issue_link(ctx, person).rsplit("/", 1)[1]
                async with http.get(server.make_url(path)) as response:
                    csrf = re.search(r'name="csrf" value="([^"]+)"', await response.text())
                assert csrf
                async with http.post(server.make_url(path), data={"csrf": csrf[1]}) as response:
                    assert response.status == 200
                timings = {}
                for name, page in [*PAGES, CSV]:
                    seconds = []
                    for _ in range(repeat):
                        began = time.perf_counter()
                        async with http.get(server.make_url(page)) as response:
                            await response.read()
                            status = response.status
                        seconds.append(time.perf_counter() - began)
                    timings[name] = (min(seconds), statistics.median(seconds), status)
                results[f"{person.role} ({email})"] = timings
    finally:
        await server.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5_000)
    parser.add_argument("--referrals", type=int, default=50_000)
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--db", type=Path, help="reuse (or create and keep) this SQLite file")
    args = parser.parse_args()
    with sqlite_store(args.db, "dashboard_scale.db") as (store, fresh):
        began = time.perf_counter()
        if fresh:
            build_firm(store, args.people, args.referrals, args.points)
            with store.engine.begin() as connection:
                connection.exec_driver_sql("ANALYZE")
        generated = time.perf_counter() - began
        settings = Settings(_env_file=None)  # type: ignore[call-arg]
        ctx = Context(store, settings, now=lambda: NOW)  # the generated firm's "now"
        emails = ["person1@bigfirm.example", "person0@bigfirm.example", "person7@bigfirm.example"]
        results = asyncio.run(time_pages(ctx, emails, args.repeat))
    print(
        f"firm: {args.people:,} people, {args.referrals:,} referrals, {args.points:,} point events "
        f"(generated in {generated:.1f} s); {args.repeat} requests per page, over HTTP"
    )
    for who, timings in results.items():
        print(f"\n{who}\n  {'page':<22} {'best':>9} {'median':>9}")
        for name, (best, median, status) in timings.items():
            target = "" if name == CSV[0] else ("  ok" if best < 1 else "  OVER 1 s")
            # A member's 404 for someone else's referral is the right answer, timed too.
            shown = "" if status == 200 else f"  (HTTP {status})"
            print(f"  {name:<22} {best * 1000:6.0f} ms {median * 1000:6.0f} ms{target}{shown}")


if __name__ == "__main__":
    main()
