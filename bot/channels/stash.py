"""The stash in the database: what a platform message cannot carry, for any replica.

Slack button values hold 2,000 characters and modal metadata 3,000; a bigger value, or a
form offered behind a button, is kept here under a random key instead. Stored rows survive
restarts and are shared by every replica; housekeeping forgets them after
`bot.inbox.STASH_TTL`.
"""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from bot.channels.slack_blocks import Stash
from bot.store import Store
from bot.store.models import StashEntry


class StoredStash(Stash):
    """`Stash` with its entries in the `stash_entry` table (values must be JSON)."""

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store

    def put(self, item: Any) -> str:
        key = uuid4().hex
        with self.store.write() as session:
            session.add(StashEntry(key=key, value={"v": item}))
        return key

    def get(self, key: str) -> Any:
        if not key:
            return None
        with self.store.read() as session:
            row = session.get(StashEntry, key)
            return row.value.get("v") if row else None
