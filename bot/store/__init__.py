"""Persistence: SQLModel tables, the engine and migrations."""

from bot.store import slack_tables  # noqa: F401  (registers the Slack install tables)
from bot.store.engine import Store, current_revision, locked, make_engine, upgrade
from bot.store.models import utcnow

__all__ = ["Store", "current_revision", "locked", "make_engine", "upgrade", "utcnow"]
