"""The stash in the database: what a platform message cannot carry, for any replica.

Slack button values hold 2,000 characters and modal metadata 3,000; a bigger value, or a
form offered behind a button, is kept here under a random key instead. Stored rows survive
restarts and are shared by every replica; housekeeping forgets them after
`bot.inbox.STASH_TTL`.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any
from uuid import uuid4

from bot.channels.slack_blocks import Stash
from bot.messages import Form, FormInput
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


def form_to_data(form: Form) -> dict[str, Any]:
    """A form as JSON data (for the stash)."""
    return asdict(form)


def form_from_data(data: dict[str, Any]) -> Form:
    """The form `form_to_data` stored."""
    inputs = [
        FormInput(**{**field, "options": [tuple(o) for o in field.get("options") or []]})
        for field in data.get("inputs") or []
    ]
    return Form(**{**data, "inputs": inputs})
