"""Dialogue handlers, one module per feature.

Each `bot/dialogs/<feature>.py` exports two tables keyed by the full id, so grepping a
button's action id (`"referral.consent_go"`) finds its handler:

- `COMMANDS`: command word → `CommandHandler` (`/refer …`, or `refer …` typed);
- `ACTIONS`: action id → `ActionHandler` (a button press or a form submission).

`bot.conversation`, the one router, merges them with `merge` and refuses a duplicate id.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from bot.context import Context
    from bot.messages import Reply, Turn
    from bot.store.models import Person

CommandHandler = Callable[["Turn", "Context", "Person", str], "list[Reply]"]
ActionHandler = Callable[["Turn", "Context", "Person"], "list[Reply]"]

H = TypeVar("H")


class DuplicateHandler(ValueError):
    """Two dialog modules claim the same command word or action id."""


def merge(*tables: Mapping[str, H]) -> dict[str, H]:
    """One table from several; an id claimed twice is refused (at import, by the router)."""
    merged: dict[str, H] = {}
    for table in tables:
        for key, handler in table.items():
            if key in merged:
                raise DuplicateHandler(f"{key!r} has two handlers")
            merged[key] = handler
    return merged
