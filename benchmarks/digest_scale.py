"""Build the weekly digest for a big firm: 5,000 people and 50,000 referrals.

    python benchmarks/digest_scale.py [--people 5000] [--referrals 50000] [--keep FILE]

Generates a firm into a temporary SQLite file (bulk inserts, not timed), then times
`build_digest` + rendering + the chart, the way the weekly job does. Target: ≤ 10 s.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert  # noqa: E402

from benchmarks._firm import sqlite_store  # noqa: E402
from bot import digest  # noqa: E402
from bot.charts import weekly_by_team_chart  # noqa: E402
from bot.referrals import USUAL_PATH  # noqa: E402
from bot.store import Store  # noqa: E402
from bot.store.models import (  # noqa: E402
    Client,
    Person,
    Referral,
    ReferralEvent,
    ServiceCard,
    Story,
    Team,
)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ZONE = ZoneInfo("Europe/London")
STATUSES = [
    ("new", 0.15),
    ("accepted", 0.15),
    ("meeting", 0.15),
    ("proposal", 0.1),
    ("won", 0.25),
    ("lost", 0.2),
]


def generate(store: Store, people: int, referrals: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    teams = [f"Team {n:02d}" for n in range(60)]
    with store.write() as session:
        conn = session.connection()
        conn.execute(insert(Team), [{"name": t} for t in teams])
        conn.execute(
            insert(Person),
            [
                {
                    "id": i + 1,
                    "email": f"person{i}@bigfirm.example",
                    "name": f"Person {i}",
                    "team": teams[i % len(teams)],
                    "office": "",
                    "title": "",
                    "role": "ambassador" if i % 100 == 0 else "member",
                    "active": True,
                    "digest_opt_in": i % 3 == 0,
                    "leaderboard_opt_in": False,
                    "created_at": NOW,
                }
                for i in range(people)
            ],
        )
        conn.execute(
            insert(Client),
            [
                {
                    "id": i + 1,
                    "name": f"Client {i}",
                    "aliases": [],
                    "sector": rng.choice(["retail", "manufacturing", "education", ""]),
                    "owner_id": rng.randint(1, people),
                    "services": [],
                    "provisional": False,
                    "retired": False,
                    "created_at": NOW,
                }
                for i in range(people // 2)
            ],
        )
        conn.execute(
            insert(ServiceCard),
            [
                {
                    "id": f"card-{i}",
                    "title": f"Service {i}",
                    "team": teams[i % len(teams)],
                    "owners": [f"person{i}@bigfirm.example"],
                    "aliases": [],
                    "sections": {
                        "what_we_do": "We help. A lot.",
                        "situations": "- a situation\n- another",
                        "questions": "- a question?\n- another?",
                    },
                    "updated": (NOW - timedelta(days=rng.randint(0, 500))).date(),
                    "retired": False,
                    "loaded_at": NOW - timedelta(days=rng.randint(0, 400)),
                    "changed_at": NOW - timedelta(days=rng.randint(0, 400)),
                }
                for i in range(300)
            ],
        )
        rows, events = [], []
        weights = [w for _, w in STATUSES]
        for i in range(referrals):
            referrer, receiver = rng.randint(1, people), rng.randint(1, people)
            status = rng.choices([s for s, _ in STATUSES], weights)[0]
            at = NOW - timedelta(minutes=rng.randint(0, 365 * 24 * 60))
            value = float(rng.randint(1, 200) * 1000)
            rows.append(
                {
                    "id": i + 1,
                    "client_id": rng.randint(1, people // 2),
                    "referrer_id": referrer,
                    "receiver_id": receiver,
                    "card_id": None,
                    "referrer_team": teams[(referrer - 1) % len(teams)],
                    "receiver_team": teams[(receiver - 1) % len(teams)],
                    "value": value,
                    "currency": "GBP",
                    "won_value": value if status == "won" else None,
                    "note": "",
                    "status": status,
                    "reason": "",
                    "consent": "not_needed",
                    "created_at": at,
                    "updated_at": at,
                }
            )
            previous = None
            for step, to_status in enumerate(USUAL_PATH[status]):
                events.append(
                    {
                        "referral_id": i + 1,
                        "actor_id": referrer,
                        "at": at + timedelta(days=step * 3),
                        "from_status": previous,
                        "to_status": to_status,
                        "note": "",
                    }
                )
                previous = to_status
        conn.execute(insert(Referral), rows)
        conn.execute(insert(ReferralEvent), events)
        conn.execute(
            insert(Story),
            [
                {
                    "author_id": rng.randint(1, people),
                    "title": f"Win {i}",
                    "body": "Two teams helped a client.",
                    "teams": [rng.choice(teams), rng.choice(teams)],
                    "client_id": rng.randint(1, people // 2),
                    "name_client": False,
                    "client_approval": "not_asked",
                    "status": "published",
                    "created_at": NOW - timedelta(days=i % 60),
                    "published_at": NOW - timedelta(days=i % 60),
                }
                for i in range(200)
            ],
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5_000)
    parser.add_argument("--referrals", type=int, default=50_000)
    parser.add_argument("--keep", type=Path, help="keep the generated database here")
    args = parser.parse_args()
    if args.keep:
        args.keep.unlink(missing_ok=True)  # generated afresh every time
    with sqlite_store(args.keep, "digest_scale.db") as (store, _):
        started = time.perf_counter()
        generate(store, args.people, args.referrals)
        generated = time.perf_counter() - started

        started = time.perf_counter()
        with store.read() as session:
            built = digest.build_digest(session, NOW, ZONE)
        text = digest.digest_text(built)
        png = weekly_by_team_chart(built.chart.weeks, built.chart.series, "Referrals per week")
        digest_seconds = time.perf_counter() - started

        started = time.perf_counter()
        with store.read() as session:
            personal = digest.personal_digests(session, NOW)
        personal_seconds = time.perf_counter() - started
    print(
        f"firm: {args.people:,} people, {args.referrals:,} referrals "
        f"(generated in {generated:.1f} s)"
    )
    print(
        f"weekly digest: {digest_seconds:.2f} s (target ≤ 10 s) — "
        f"{built.this_week.made} referrals this week, {len(built.stories)} stories, "
        f"{len(text):,} characters, chart {len(png) // 1024} KB"
    )
    print(f"personal digests: {len(personal):,} people in {personal_seconds:.2f} s")


if __name__ == "__main__":
    main()
