"""What `/healthz` reports: the database answers, and how much inbox work is waiting."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from bot.logs import log_failure
from bot.store import Store

log = logging.getLogger(__name__)

INBOX_TABLE = "inbox_item"


@dataclass(frozen=True)
class Health:
    """The outcome of one check; `reason` is plain words, never a URL or an error message."""

    database: str  # ok | unavailable
    inbox_backlog: int | None = None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.database == "ok"

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "status": "ok" if self.ok else "unavailable",
            "database": self.database,
            "inbox_backlog": self.inbox_backlog,
        }
        if self.reason:
            body["reason"] = self.reason
        return body


def inbox_backlog(session: Session) -> int | None:
    """Platform deliveries stored but not yet processed; None while there is no inbox table."""
    if not inspect(session.connection()).has_table(INBOX_TABLE):
        return None
    count = session.execute(text(f"SELECT count(*) FROM {INBOX_TABLE} WHERE done_at IS NULL"))
    return int(count.scalar_one())


def check(store: Store) -> Health:
    """One cheap round trip to the database (SELECT 1), then the inbox backlog."""
    try:
        with store.read() as session:
            session.execute(text("SELECT 1"))
            return Health(database="ok", inbox_backlog=inbox_backlog(session))
    except SQLAlchemyError as exc:
        # The exception's text can name the host, the user or a file path: log the type only.
        log_failure(log, "health check", exc)
        return Health(
            database="unavailable", reason=f"the database did not answer ({type(exc).__name__})"
        )
