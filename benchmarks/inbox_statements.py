"""The inbox's SQL per item: statements and commits from a signed request to its item done.

    python benchmarks/inbox_statements.py [--postgres URL] [--rounds 30] [--burst 20]

Our server with Slack mounted (the sample firm, a fake Slack Web API, as `tests/slack`
drives it) on a SQLite file in a scratch folder, or on PostgreSQL (`--postgres`, a scratch
database that is emptied). Each round, one user runs `load.py`'s cycle one request at a
time: "who does X?", a referral sentence, Confirm, the receiver's Accept, `/leaderboard`.
Printed per request kind, averaged over the rounds: the statements on the inbox's tables
(`inbox_*`) and transaction control (SAVEPOINT, RELEASE, SET), all
statements, commits and the commits of a transaction that wrote (on PostgreSQL a WAL flush
each), and the process's CPU per request (`time.process_time`; the turn's included).
Then `--burst` DMs sent at once: the same per item, as the group commit shares
transactions between them.

Last, the inbox alone (`--items`, default 2000): a `Worker` whose items each send one DM
post (a keyed, findable send) and, one in five, an ephemeral answer too (recorded
promptly, as `/leaderboard`'s), `--burst` at a time, no turn and no HTTP. Printed per item:
the statements and commits, this process's CPU and, with `--pg-pid` (the postmaster's pid,
from its `postmaster.pid`), the PostgreSQL server's CPU (from /proc, its processes only).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from benchmarks.load import cpu_seconds  # noqa: E402
from bot import inbox  # noqa: E402
from bot.context import Context  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.store import Store  # noqa: E402
from tests.conftest import load_sample  # noqa: E402
from tests.inbox_counts import Counts, counting  # noqa: E402
from tests.postgres import reset_postgres  # noqa: E402
from tests.slack.conftest import (  # noqa: E402
    PRIYA,
    PRIYA_ID,
    SAM,
    SAM_ID,
    SECRET,
    TOKEN,
    SlackDriver,
    action_buttons,
    dm_channel,
    started_slack,
)
from tests.slack.fake_slack import FakeSlack  # noqa: E402

NIKHIL, NIKHIL_ID = "nikhil.bose@hartwellfinch.example", "UNIKHIL"  # Acme's owner
KINDS = ("who-does", "referral", "confirm", "accept", "leaderboard")


def _button(slack: SlackDriver, user: str, label: str) -> dict[str, Any]:
    posts = [p for p in slack.fake.of("chat.postMessage") if p["channel"] == dm_channel(user)]
    return next(b for b in action_buttons(posts[-1]) if b["text"]["text"] == label)


async def _press(slack: SlackDriver, user: str, label: str) -> None:
    button = _button(slack, user, label)
    await slack.press(button["action_id"], button["value"], user=user)


def _cycle(slack: SlackDriver) -> list[tuple[str, Callable[[], Awaitable[Any]]]]:
    return [
        ("who-does", lambda: slack.dm("who does employment law?")),
        ("referral", lambda: slack.dm("I referred Acme Logistics to Sam Patel for business tax")),
        ("confirm", lambda: _press(slack, PRIYA_ID, "Confirm")),
        ("accept", lambda: _press(slack, SAM_ID, "Accept")),
        ("leaderboard", lambda: slack.command("/leaderboard")),
    ]


def _line(label: str, counts: list[Counts], cpu: list[float], per: int = 1) -> str:
    def mean(values: list[float]) -> float:
        return statistics.fmean(values) / per

    inbox = mean([sum(c.kinds("inbox_").values()) for c in counts])
    kinds: dict[str, float] = {}
    for c in counts:
        for k, n in c.kinds("inbox_").items():
            kinds[k] = kinds.get(k, 0.0) + n / len(counts) / per
    every = mean([len(c.statements) for c in counts])
    commits = mean([c.commits for c in counts])
    writing = mean([c.writing_commits for c in counts])
    listed = ", ".join(f"{n:.2g} {k}" for k, n in sorted(kinds.items()))
    figures = f"{inbox:6.2f} {every:6.2f} {commits:6.2f} {writing:6.2f} {1000 * mean(cpu):7.2f}"
    return f"{label:<12} {figures}  {listed}"


def _forget_referrals(store: Store) -> None:
    """No referral left: the next round's sentence is no duplicate."""
    with store.write() as session:
        session.execute(text("DELETE FROM referralevent"))
        session.execute(text("DELETE FROM referral"))


async def run(url: str, rounds: int, burst: int) -> None:
    fake = FakeSlack(users={PRIYA_ID: PRIYA, SAM_ID: SAM, NIKHIL_ID: NIKHIL})
    await fake.start()
    store = load_sample(Store(url))
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_BOT_TOKEN=TOKEN,
        CROSSBOT_SLACK_API_URL=fake.api_url,
    )
    slack = await started_slack(Context(store, settings, content_check_seconds=3600), fake)
    try:
        await slack.dm("hello")  # the welcome, the content loaded
        for _warm in range(3):  # SQLAlchemy's compiled statements, the caches
            for _kind, go in _cycle(slack):
                await go()
            _forget_referrals(store)
        counted: dict[str, list[Counts]] = {kind: [] for kind in KINDS}
        cpu: dict[str, list[float]] = {kind: [] for kind in KINDS}
        for _round in range(rounds):
            for kind, go in _cycle(slack):
                started = time.process_time()
                with counting(store) as counts:
                    await go()
                    await asyncio.sleep(0.05)  # the lazy done mark's linger is over
                cpu[kind].append(time.process_time() - started)
                counted[kind].append(counts)
            _forget_referrals(store)
        print(f"{url.split(':')[0]}, {rounds} rounds, per request (inbox_* statements and")
        print("transaction control; all statements; commits; writing commits; CPU ms):")
        print(f"{'kind':<12} {'inbox':>6} {'all':>6} {'commit':>6} {'write':>6} {'cpu ms':>7}")
        for kind in KINDS:
            print(_line(kind, counted[kind], cpu[kind]))
        started = time.process_time()
        with counting(store) as counts:
            await asyncio.gather(*(slack.dm("who does tax?") for _ in range(burst)))
            await asyncio.sleep(0.05)
        spent = time.process_time() - started
        print(_line(f"burst/{burst}", [counts], [spent], per=burst))
    finally:
        await slack.client.close()
        await fake.stop()
        store.dispose()


async def inbox_alone(url: str, items: int, burst: int, pg_pid: int) -> None:
    """`items` items through a Worker, `burst` at a time (see the module's docstring)."""
    store = Store(url)

    async def send(**_kwargs: Any) -> None:
        await asyncio.sleep(0)  # a Web API call: the task waits

    async def never_seen(_key: str, _since: object) -> bool:
        return False

    dm = inbox.Keyed(lambda key: {"key": key}, never_seen, findable=True)

    async def process(item: Any) -> None:
        await inbox.once(send, keyed=dm)
        if item.id % 5 == 0:
            await inbox.once(send)

    worker = inbox.Worker(store, "bench", process, concurrency=64)
    n = 0

    async def one() -> None:
        nonlocal n
        n += 1
        received = await worker.receive(f"item-{n}", {"n": n})
        assert received is not None
        task = worker.submit(received.id, received.item)
        assert task is not None
        await task

    for _ in range(200 // burst + 1):  # warm: compiled statements, the pool's connections
        await asyncio.gather(*(one() for _ in range(burst)))
    pids = [pg_pid] if pg_pid else []
    server, started = cpu_seconds(pids), time.process_time()
    with counting(store) as counts:
        for _ in range(items // burst):
            await asyncio.gather(*(one() for _ in range(burst)))
        await asyncio.sleep(0.05)
    spent, server = time.process_time() - started, cpu_seconds(pids) - server
    done = (items // burst) * burst
    await asyncio.to_thread(worker.writes.close)
    print(
        f"inbox alone, {done} items, {burst} at a time, per item: "
        f"{len(counts.statements) / done:.2f} statements, {counts.commits / done:.2f} commits, "
        f"{1000 * spent / done:.3f} ms CPU here"
        + (f", PostgreSQL server {1000 * server / done:.3f} ms CPU" if pg_pid else "")
    )
    print("  " + counts.summary())
    store.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default="", help="a scratch PostgreSQL URL (emptied)")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--burst", type=int, default=20)
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--pg-pid", type=int, default=0, help="the PostgreSQL postmaster's pid")
    parser.add_argument("--only-inbox", action="store_true", help="the inbox alone, no Slack")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = reset_postgres(args.postgres) if args.postgres else f"sqlite:///{folder}/inbox.db"
        if not args.only_inbox:
            asyncio.run(run(url, args.rounds, args.burst))
        asyncio.run(inbox_alone(url, args.items, args.burst, args.pg_pid))


if __name__ == "__main__":
    main()
