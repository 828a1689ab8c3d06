"""What comes in from a platform, made safe to store and to route, in one place.

`conversation.handle` passes every `Turn` through `clean` before anything reads it: NUL and
the other control characters (PostgreSQL refuses NUL in text; the rest only hide or
disguise text), bidirectional overrides, and the private-use characters `bot.render` uses
to mark data are removed from the text and from every string in the payload.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from bot.messages import Turn

# C0 controls but tab and newline, DEL, C1 controls, bidi embeddings/overrides/isolates,
# and U+E000–U+E003 (bot.render's data marks).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ue000-\ue003]")
MAX_ID = 2**63 - 1  # the largest id a database row can have (BIGINT, SQLite INTEGER)
# Payload keys that carry a row id (a referral, a story, an idea, a point award...).
ID_KEYS = frozenset({"id", "referral", "story", "idea", "point", "campaign", "nudge"})
_NUMBER = re.compile(r"[+-]?\d+")


def clean_text(text: str) -> str:
    """Text without control characters (CRLF and lone CR become newlines)."""
    return _UNSAFE.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def clean_value(value: Any) -> Any:
    """A payload value with every string in it cleaned (dicts and lists too)."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(k)): clean_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_value(v) for v in value]
    return value


def clean(turn: Turn) -> Turn:
    """The turn with its text and payload cleaned."""
    payload = clean_value(turn.payload) if isinstance(turn.payload, dict) else {}
    return replace(
        turn,
        person=clean_text(turn.person or ""),
        text=clean_text(turn.text or ""),
        action=clean_text(turn.action) if turn.action else turn.action,
        payload=payload,
    )


def is_row_id(value: Any) -> bool:
    """A number a database id could be: a positive integer below 2⁶³."""
    if isinstance(value, bool):
        return False
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        value = int(value)
    return isinstance(value, int) and 0 < value <= MAX_ID


def forged_id(payload: dict[str, Any]) -> bool:
    """A payload id no button of ours could carry: out of range, or not a plain value.

    Empty values are absent ids, and free text (a form's "referral number" field) is left
    to the dialog to explain.
    """
    for key in ID_KEYS & payload.keys():
        value = payload[key]
        if value is None or value == "":
            continue
        if isinstance(value, str) and not _NUMBER.fullmatch(value.strip()):
            continue
        if not is_row_id(value):
            return True
    return False
