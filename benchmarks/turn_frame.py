"""The frame of a turn, in one process: CPU per answer of `load.py`'s cycle, low noise.

    python benchmarks/turn_frame.py [--users 4] [--seconds 15] [--postgres URL] [--rounds 3]

`load.py` measures a replica under 200 users in child processes: realistic, but noisy on
a shared machine. Here the server (`bot.server.build_app`, the real Bolt app and inbox),
`load.py`'s fake Slack and its simulated users (who-does, a referral sentence + Confirm,
Accept, `/leaderboard`, no think time) run in this one process, and the figure is this
process's CPU time (`time.process_time`) per completed answer. The driver and the fake
Slack are in that figure too: the same cost on every branch, so a change in the figure is
the server's. Few users keep the machine's other work out of it: each round runs alone,
and the lowest round is reported beside the median.
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


async def round_cpu(firm: Firm, url: str, seconds: float) -> tuple[float, int]:
    """CPU seconds of this process and the answers completed, for one round of `seconds`."""
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
    try:
        warm = Firm(firm.folder, firm.users[-1:], firm.emails, firm.cards, firm.clients[-1:])
        await Users(warm, slack, [port], live=True).run(0.001)  # first requests build caches
        players = Firm(firm.folder, firm.users[:-1], firm.emails, firm.cards, firm.clients[:-1])
        before = time.process_time()
        tally = await Users(players, slack, [port], live=True).run(seconds)
        cpu = time.process_time() - before
    finally:
        await runner.cleanup()
        await slack_runner.cleanup()
        store.dispose()
    errors = sum(tally.errors.values())
    if errors:
        print(f"  errors: {dict(tally.errors)}", file=sys.stderr)
    return cpu, len(tally.all_answers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--content", type=Path, default=ROOT / "content")
    parser.add_argument("--postgres", default="", help="a scratch PostgreSQL URL (emptied)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        firm = build_firm(args.content, args.users + 1, Path(folder) / "content")
        figures = []
        for n in range(args.rounds):
            url = args.postgres or f"sqlite:///{folder}/frame{n}.db"
            cpu, answers = asyncio.run(round_cpu(firm, url, args.seconds))
            figures.append(cpu * 1000 / max(answers, 1))
            load = os.getloadavg()[0]
            per = figures[-1]
            print(f"round {n + 1}: {answers} answers, {per:.2f} CPU ms/answer (load {load:.2f})")
    print(
        f"CPU ms per answer: min {min(figures):.2f}, median {statistics.median(figures):.2f}"
        f" ({'PostgreSQL' if args.postgres else 'SQLite'}, {args.users} users, no think time)"
    )


if __name__ == "__main__":
    main()
