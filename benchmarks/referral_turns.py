"""The turns' CPU in one process: who-does, a referral sentence, Confirm, Accept, /leaderboard.

    python benchmarks/referral_turns.py [--rounds 300] [--users 200] [--people 5000]
                                        [--content DIR] [--postgres URL] [--statements]
                                        [--list]

The firm and campaign of `load.py` (`--people` colleagues plus `--users` simulated ones,
ten clients each, a campaign running so that every step scores points) on a SQLite store
in a scratch folder (or, with `--postgres`, a scratch database that is emptied). Each round
one user asks "who does X?", logs a referral in a sentence, presses Confirm, the receiver
presses Accept and the user asks for `/leaderboard` (`load.py`'s cycle), all through
`conversation.handle` in this thread, each in one transaction as the inbox's worker runs
it (`Store.one_transaction`, less the decision row). Printed per turn kind: the mean and
median CPU time of the thread (`time.thread_time`: the neighbours on a shared machine
barely move it) and, with `--statements`, the SQL statements each turn ran (SAVEPOINT and
RELEASE included), its transactions (BEGIN, which psycopg and pysqlite send without a
statement event; not a PostgreSQL read's, in autocommit) and commits, and on a
PostgreSQL server of this machine the server's CPU per turn (all its processes, from
/proc, read between turns: clock ticks, so a mean over many turns). `--list` prints the
statements of each kind's last timed turn. The load average is printed beside them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from load import build_firm, cpu_seconds, prepare_database  # noqa: E402
from sqlalchemy import event  # noqa: E402

from bot.context import Context  # noqa: E402
from bot.conversation import handle  # noqa: E402
from bot.messages import Reply, Turn  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.store import Store  # noqa: E402

KINDS = ("whodoes", "referral", "confirm", "accept", "leaderboard")


def _button(replies: list[Reply], action: str, to: str | None = None) -> Any:
    """The value of the first `action` button among `replies` (to `to`, when given)."""
    for reply in replies:
        if to is None or reply.to_person == to:
            for button in reply.buttons:
                if button.action == action:
                    return button.value
    return None


def run(
    url: str, rounds: int, users: int, people: int, content: Path, statements: bool, listing: bool
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        firm = build_firm(content, users, Path(folder) / "content", people)
        if url.startswith("sqlite"):
            url = f"sqlite:///{Path(folder) / 'turns.db'}"
        prepare_database(url, firm)
        store = Store(url)
        ctx = Context(store, Settings(), content_check_seconds=3600)
        counted = _Counted()
        if statements or listing:
            counted.listen(store.engine)
        server = _postmaster(store) if statements else None
        served: dict[str, list[float]] = {kind: [] for kind in KINDS}
        owners = {name: email for email, name in _people(ctx).items()}
        times: dict[str, list[float]] = {kind: [] for kind in KINDS}
        ran: dict[str, list[tuple[int, int, int, int]]] = {kind: [] for kind in KINDS}
        listed: dict[str, list[str]] = {}

        def timed(kind: str, turn: Turn) -> list[Reply]:
            counted.clear()
            before = cpu_seconds([server]) if server else 0.0
            started = time.thread_time()
            with store.one_transaction():  # as the worker runs an inbox item's turn
                replies = handle(turn, ctx)
            times[kind].append(time.thread_time() - started)
            if server:
                served[kind].append(cpu_seconds([server]) - before)
            sql = len(counted.sql)
            ran[kind].append((sql, counted.begins, counted.commits, counted.checkouts))
            listed[kind] = list(counted.sql)
            return replies

        warm = 20  # the caches, the parser's directory and SQLAlchemy's compiled statements
        for n in range(rounds + warm):
            _slack, email, _name = firm.users[n % len(firm.users)]
            card, receivers = firm.cards[n % len(firm.cards)]
            owner = receivers[n % len(receivers)]  # someone in the card's team
            client = firm.clients[n % len(firm.clients)]
            timed("whodoes", Turn(email, f"bench:{email}", text=f"who does {card.lower()}?"))
            sentence = f"I referred {client} to {owner} for {card}"
            offer = timed("referral", Turn(email, f"bench:{email}", text=sentence))
            confirm = _button(offer, "referral.confirm")
            if confirm is None:
                raise SystemExit(f"no Confirm offered for {sentence!r}")
            press = Turn(email, f"bench:{email}", action="referral.confirm", payload=confirm)
            saved = timed("confirm", press)
            receiver = owners[owner]
            accept = _button(saved, "referral.accept", to=receiver)
            if accept is None:
                raise SystemExit(f"no Accept offered to {receiver}")
            press = Turn(receiver, f"bench:{receiver}", action="referral.accept", payload=accept)
            timed("accept", press)
            timed("leaderboard", Turn(email, f"bench:{email}", text="/leaderboard"))
            if n + 1 == warm:
                for kind in KINDS:
                    times[kind].clear()
                    ran[kind].clear()
                    served[kind].clear()
        store.dispose()
    print(f"{rounds} rounds, {'SQLite' if 'sqlite' in url else 'PostgreSQL'}, {_load()}")
    for kind in KINDS:
        mean, median = statistics.fmean(times[kind]), statistics.median(times[kind])
        line = f"  {kind:9} CPU ms mean {mean * 1000:6.2f}  median {median * 1000:6.2f}"
        if statements:
            means = (statistics.fmean(r[i] for r in ran[kind]) for i in range(4))
            sql, begins, commits, uses = means
            line += f"  statements {sql:.1f}  transactions {begins:.1f}  commits {commits:.1f}"
            line += f"  connections {uses:.1f}"
        if served[kind]:
            line += f"  server CPU ms {statistics.fmean(served[kind]) * 1000:.2f}"
        print(line)
    if listing:
        for kind in KINDS:
            print(f"\n{kind}: {len(listed[kind])} statements")
            for n, sql in enumerate(listed[kind], 1):
                print(f"  {n:2}. {sql}")
    total = sum(statistics.fmean(times[kind]) for kind in KINDS)
    print(f"  all {len(KINDS)} CPU ms {total * 1000:.2f}")


def _postmaster(store: Store) -> int | None:
    """The PostgreSQL server's main process, when it runs on this machine (else None)."""
    if store.engine.dialect.name != "postgresql":
        return None
    with store.engine.connect() as connection:
        backend = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    try:
        status = Path(f"/proc/{backend}/status").read_text()
    except OSError:
        return None
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("PPid"))


class _Counted:
    """The statements, transactions and commits on an engine since `clear()`."""

    def __init__(self) -> None:
        self.sql: list[str] = []
        self.begins = self.commits = self.checkouts = 0

    def clear(self) -> None:
        self.sql.clear()
        self.begins = self.commits = self.checkouts = 0

    def listen(self, engine: Any) -> None:
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "begin", self._begin)
        event.listen(engine, "commit", self._commit)
        event.listen(engine, "engine_connect", self._checkout)

    def _statement(self, _conn: Any, _cursor: Any, sql: str, *_rest: Any) -> None:
        self.sql.append(" ".join(sql.split()))

    def _begin(self, conn: Any) -> None:
        # A read on PostgreSQL runs in autocommit: SQLAlchemy's begin sends no BEGIN there.
        if conn.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
            self.begins += 1

    def _commit(self, _conn: Any) -> None:
        self.commits += 1

    def _checkout(self, _conn: Any) -> None:
        self.checkouts += 1


def _people(ctx: Context) -> dict[str, str]:
    """email -> name of everyone in the firm."""
    return {p.email: p.name for p in ctx.catalog().people}


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} / {five:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300, help="rounds timed (after 20 warm)")
    parser.add_argument("--users", type=int, default=200, help="simulated people in the firm")
    parser.add_argument("--people", type=int, default=5_000, help="the firm's size, as load.py")
    parser.add_argument("--content", type=Path, default=ROOT / "content")
    parser.add_argument("--postgres", help="a scratch PostgreSQL database (it is emptied)")
    parser.add_argument("--statements", action="store_true", help="count SQL statements too")
    parser.add_argument("--list", action="store_true", help="print each kind's statements")
    args = parser.parse_args()
    url = args.postgres or "sqlite://"
    run(url, args.rounds, args.users, args.people, args.content, args.statements, args.list)


if __name__ == "__main__":
    main()
