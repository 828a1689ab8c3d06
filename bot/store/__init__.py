"""Persistence: SQLModel tables, the engine and migrations.

The engine (and with it SQLAlchemy, SQLModel and the models) is imported on first use of a
name below, not by importing the package: `bot.store.probe` reads a database's content
version without any of them, for a question answered from a content snapshot.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.store.engine import (
        Store,
        current_revision,
        detached,
        insert_unless_taken,
        locked,
        make_engine,
        new_values,
        reads_only,
        upgrade,
    )
    from bot.store.models import utcnow

__all__ = [
    "Store",
    "current_revision",
    "detached",
    "insert_unless_taken",
    "locked",
    "make_engine",
    "new_values",
    "reads_only",
    "upgrade",
    "utcnow",
]


def __getattr__(name: str) -> Any:
    """`from bot.store import Store` imports the engine the first time it is asked for."""
    if name not in __all__:
        raise AttributeError(f"module 'bot.store' has no attribute {name!r}")
    module = importlib.import_module("bot.store.models" if name == "utcnow" else "bot.store.engine")
    value = getattr(module, name)
    globals()[name] = value
    return value
