"""Counting a store's SQL statements and commits by kind (the inbox tests and
`benchmarks/inbox_statements.py`)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event

from bot.store import Store

_WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.I)
_TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE)\s+\"?(\w+)", re.I)
_WROTE = "crossbot_counts_wrote"
_CONTROL = ("SAVEPOINT", "RELEASE", "SET")


@dataclass
class Counts:
    """What ran: every statement (whitespace folded), commits, and the commits of a
    transaction that wrote (on PostgreSQL each waits for a WAL flush; a read-only one not)."""

    statements: list[str] = field(default_factory=list)
    commits: int = 0
    writing_commits: int = 0

    def kinds(self, table_prefix: str = "") -> Counter[str]:
        """Statements by kind ("INSERT inbox_item", "SAVEPOINT"), of tables starting with
        `table_prefix`, and transaction control (SAVEPOINT, RELEASE, SET)."""
        counted = (kind(s) for s in self.statements)
        return Counter(
            k for k in counted if k in _CONTROL or k.split()[-1].startswith(table_prefix)
        )

    def summary(self, table_prefix: str = "") -> str:
        kinds = self.kinds(table_prefix)
        listed = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
        return f"{sum(kinds.values())} statements ({listed}), {self.commits} commits"


def kind(statement: str) -> str:
    """A statement's verb and table ("UPDATE inbox_item"), or its verb alone (BEGIN,
    SAVEPOINT, RELEASE: SQLAlchemy's; psycopg's own BEGIN is not seen)."""
    words = statement.split()
    head = words[0].upper() if words else ""
    if head in ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "PRAGMA", "SET"):
        return head
    table = _TABLE.search(statement)
    return f"{head} {table.group(1) if table else '?'}"


@contextmanager
def counting(store: Store) -> Iterator[Counts]:
    """Everything `store`'s engine runs inside the block, from any thread."""
    counts = Counts()

    def saw(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        counts.statements.append(" ".join(statement.split()))
        if _WRITE.match(statement):
            conn.info[_WROTE] = True

    def committed(conn: Any) -> None:
        counts.commits += 1
        counts.writing_commits += bool(conn.info.pop(_WROTE, False))

    def rolled_back(conn: Any) -> None:
        conn.info.pop(_WROTE, None)

    listeners = [("before_cursor_execute", saw), ("commit", committed), ("rollback", rolled_back)]
    for name, listener in listeners:
        event.listen(store.engine, name, listener)
    try:
        yield counts
    finally:
        for name, listener in listeners:
            event.remove(store.engine, name, listener)
