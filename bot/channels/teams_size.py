"""Teams' message size limit: every outgoing reply measured, and split to fit.

Teams refuses a bot message over about 28 KB, counted as the UTF-16 bytes of the
serialised activity, and the connector's refusal reaches nobody. `fit` turns one `Reply`
into as many activities as it takes: the text at paragraph breaks (then lines, then
words), the facts between facts, and the buttons and form on the last one. Past
`MAX_PARTS` messages the rest is left out and the last message says so.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import replace

from botbuilder.schema import Activity

from bot.channels.teams_cards import to_activity
from bot.messages import Reply
from bot.render import Rendered, render

# Teams' limit for a bot message is about 28 KB, counted in UTF-16 over the activity's JSON.
MAX_ACTIVITY_BYTES = 28_000
# What the SDK adds when sending (conversation, from, recipient, replyToId, serviceUrl...).
ENVELOPE_BYTES = 2_000
BUDGET = MAX_ACTIVITY_BYTES - ENVELOPE_BYTES
MAX_PARTS = 8  # a longer answer is cut short rather than flood the chat
_BREAKS = ("\n\n", "\n", " ")


def activity_bytes(activity: Activity) -> int:
    """The size Teams checks: the activity's JSON in UTF-16 (two bytes a character)."""
    return len(json.dumps(activity.serialize(), ensure_ascii=False).encode("utf-16-le"))


def fits(reply: Reply, budget: int = BUDGET) -> bool:
    return activity_bytes(to_activity(reply)) <= budget


def fit(reply: Reply, budget: int = BUDGET) -> list[Activity]:
    """The activities that carry `reply`, each within `budget` UTF-16 bytes."""
    whole = to_activity(reply)
    if activity_bytes(whole) <= budget:
        return [whole]
    return [to_activity(part) for part in split(reply, budget)]


def split(reply: Reply, budget: int = BUDGET) -> list[Reply]:
    """`reply` in parts that each fit; the last part keeps the buttons, form and chart."""
    bare = replace(reply, text="", facts=[], buttons=[], form=None, image=None)
    tail = replace(bare, buttons=reply.buttons, form=reply.form, image=reply.image)
    ranges = _text_units(reply.text, lambda t: fits(replace(bare, text=t), budget))
    units: list[Reply] = [replace(bare, text=_slice(reply.text, a, b)) for a, b in ranges]
    units += [replace(bare, facts=[fact]) for fact in reply.facts]
    parts = _pack(units, lambda group: fits(_merge(reply.text, group, bare), budget), budget)
    merged = [_merge(reply.text, group, bare) for group in parts]
    last = _with_tail(merged[-1], tail) if merged else tail
    if merged and fits(last, budget):
        merged[-1] = last
    else:
        merged.append(tail)
    if len(merged) > MAX_PARTS:
        notice = Reply(render("teams_reply_cut_short", shown=MAX_PARTS - 1), kind=reply.kind)
        merged = [*merged[: MAX_PARTS - 1], _with_tail(notice, tail)]
        if not fits(merged[-1], budget):
            merged[-1:] = [notice, tail]
    return merged


def _with_tail(part: Reply, tail: Reply) -> Reply:
    return replace(part, buttons=tail.buttons, form=tail.form, image=tail.image)


def _merge(text: str, group: list[Reply], bare: Reply) -> Reply:
    """Consecutive units as one reply: their text as one slice of `text`, their facts."""
    texts = [unit.text for unit in group if unit.text]
    spans = [(_start(unit.text), _start(unit.text) + len(unit.text)) for unit in group if unit.text]
    merged = _slice(text, spans[0][0], spans[-1][1]) if texts else ""
    facts = [fact for unit in group for fact in unit.facts]
    return replace(bare, text=merged, facts=facts)


def _start(piece: str) -> int:
    return getattr(piece, "at", 0)


def _pack(
    units: list[Reply], fits_group: Callable[[list[Reply]], bool], budget: int = BUDGET
) -> list[list[Reply]]:
    """Consecutive units, as many a message as fit (found by halving, not one by one).

    Packing stops one group past `MAX_PARTS`: what follows would be cut short anyway.
    """
    # Each character takes at least 2 bytes in UTF-16: a group longer than that cannot fit.
    lengths = [0]
    for unit in units:
        lengths.append(
            lengths[-1] + len(unit.text) + sum(len(f.label + f.value) for f in unit.facts)
        )
    groups: list[list[Reply]] = []
    at = 0
    while at < len(units) and len(groups) <= MAX_PARTS:
        low = at + 1
        high = max(low, bisect_right(lengths, lengths[at] + budget // 2) - 1)
        while low < high:  # the largest end with units[at:end] fitting (at least one unit)
            middle = (low + high + 1) // 2
            if fits_group(units[at:middle]):
                low = middle
            else:
                high = middle - 1
        groups.append(units[at:low])
        at = low
    return groups


def _text_units(text: str, fits_text: Callable[[str], bool]) -> list[tuple[int, int]]:
    """`text` as (start, end) ranges that each fit: paragraphs, else lines, words, characters."""
    if not text.strip():
        return []
    return _units(text, 0, len(text), 0, fits_text)


def _units(
    text: str, start: int, end: int, level: int, fits_text: Callable[[str], bool]
) -> list[tuple[int, int]]:
    if _surely_fits(end - start) or fits_text(_slice(text, start, end)):
        return [(start, end)]
    if level == len(_BREAKS):
        return _hard_cut(text, start, end, fits_text)
    ranges: list[tuple[int, int]] = []
    for a, b in _pieces(text, start, end, _BREAKS[level]):
        for unit in _units(text, a, b, level + 1, fits_text):
            # Neighbours short enough together stay one unit (fewer, larger units to pack).
            if ranges and _surely_fits(unit[1] - ranges[-1][0]):
                ranges[-1] = (ranges[-1][0], unit[1])
            else:
                ranges.append(unit)
    return ranges


def _surely_fits(chars: int, budget: int = BUDGET) -> bool:
    """Short enough to need no measuring: even at 4 bytes a character (UTF-16 of JSON escapes
    such as `\\n`) with a card around it. Saves measuring every word of a long text."""
    return chars * 4 + ENVELOPE_BYTES <= budget


def _pieces(text: str, start: int, end: int, separator: str) -> list[tuple[int, int]]:
    """The ranges between `separator`s in text[start:end] (separators left out)."""
    pieces, at = [], start
    while at < end:
        found = text.find(separator, at, end)
        stop = end if found < 0 else found
        if text[at:stop].strip():
            pieces.append((at, stop))
        at = stop + len(separator) if found >= 0 else end
    return pieces


def _hard_cut(
    text: str, start: int, end: int, fits_text: Callable[[str], bool]
) -> list[tuple[int, int]]:
    """A word longer than a message: cut where it stops fitting."""
    ranges = []
    while start < end:
        low, high = start + 1, end
        while low < high:
            middle = (low + high + 1) // 2
            if fits_text(_slice(text, start, middle)):
                low = middle
            else:
                high = middle - 1
        ranges.append((start, low))
        start = low
    return ranges


class _Piece(Rendered):
    """A slice of a reply's text that remembers where it starts (`at`), spans kept."""

    at: int


def _slice(text: str, start: int, end: int) -> str:
    """text[start:end], keeping which spans are data (a slice of a plain str stays plain)."""
    spans: list[tuple[int, int]] = []
    if isinstance(text, Rendered):
        spans = [
            (max(a, start) - start, min(b, end) - start)
            for a, b in text.spans
            if a < end and b > start
        ]
    piece = _Piece(text[start:end], spans)
    piece.at = start
    if not isinstance(text, Rendered):
        # Text built in Python has no spans and is converted as markup, as before.
        piece.spans = ()
    return piece
