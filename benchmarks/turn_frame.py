"""The frame of a turn, in one process: CPU per answer of `load.py`'s cycle, low noise.

    python benchmarks/turn_frame.py [--cycles 40] [--users 8] [--postgres URL]

`load.py` measures a replica under 200 users in child processes: realistic, but noisy on
a shared machine. Here the server (`bot.server.build_app`, the real Bolt app and inbox),
`load.py`'s fake Slack and its simulated user (who-does, a referral sentence + Confirm,
Accept, `/leaderboard`) run in this one process, one cycle at a time, and the figure is
this process's CPU time (`time.process_time`) per answer of each cycle, its spill-over
(the item's end, the notices) included. The driver and the fake Slack are in it too: the
same cost on every branch, so a change in the figure is the server's. Other work on the
machine slows some cycles (shared caches and cores): the lowest quartile is the steadiest
figure to compare, in the same sitting.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _servers import serve  # noqa: E402
from load import SECRET, TOKEN, FakeSlack, Firm, Users, build_firm, prepare_database  # noqa: E402

WARM_CYCLES = 3
SETTLE_SECONDS = 0.3


async def cycles_cpu(firm: Firm, url: str, cycles: int) -> list[float]:
    """CPU seconds of this process for each of `cycles` cycles of one user, one at a time
    (each with a client of its own, so every Confirm saves a new referral)."""
    from bot import server
    from bot.context import Context
    from bot.settings import Settings
    from bot.store import Store

    prepare_database(url, firm)
    slack = FakeSlack(firm.emails)
    slack_runner = await slack.start()
    os.environ.update(
        {
            "CROSSBOT_SLACK_API_URL": slack.url + "/api/",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_BOT_TOKEN": TOKEN,
            "CROSSBOT_CONTENT_DIR": str(firm.folder),
        }
    )
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    sys.setswitchinterval(settings.switch_interval_ms / 1000)  # as `serve` sets it
    store = Store(url)
    runner, port = await serve(server.build_app(Context(store, settings)))
    figures: list[float] = []
    try:
        for k in range(cycles + WARM_CYCLES):  # the first cycles build caches
            user = firm.users[k % len(firm.users) : k % len(firm.users) + 1]
            one = Firm(firm.folder, user, firm.emails, firm.cards, firm.clients[k : k + 1])
            before = time.process_time()
            tally = await Users(one, slack, [port], live=True).run(0.001)  # one cycle
            await asyncio.sleep(SETTLE_SECONDS)  # the item's end and the notices, counted too
            if sum(tally.errors.values()) or tally.confirmed != 1 or tally.accepted != 1:
                print(
                    f"  cycle {k}: {dict(tally.errors)} {dict(tally.unexpected)}", file=sys.stderr
                )
            if k >= WARM_CYCLES and tally.all_answers:
                figures.append((time.process_time() - before) / len(tally.all_answers))
    finally:
        await runner.cleanup()
        await slack_runner.cleanup()
        store.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=8, help="people taking turns at a cycle")
    parser.add_argument("--cycles", type=int, default=40)
    parser.add_argument("--content", type=Path, default=ROOT / "content")
    parser.add_argument("--postgres", default="", help="a scratch PostgreSQL URL (emptied)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        firm = build_firm(args.content, args.users, Path(folder) / "content")
        url = args.postgres or f"sqlite:///{folder}/frame.db"
        load = os.getloadavg()[0]
        ms = sorted(x * 1000 for x in asyncio.run(cycles_cpu(firm, url, args.cycles)))
    quartile = ms[len(ms) // 4]
    print(
        f"CPU ms per answer, {len(ms)} cycles of 5 answers: min {ms[0]:.2f}, p25 {quartile:.2f},"
        f" median {statistics.median(ms):.2f} ({'PostgreSQL' if args.postgres else 'SQLite'};"
        f" load average {load:.2f} at the start, {os.getloadavg()[0]:.2f} at the end)"
    )


if __name__ == "__main__":
    main()
