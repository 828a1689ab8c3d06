"""What a question is about: its words, and the key two questions naming one thing share.

Shared by who-does (a question that is exactly a card's title or alias) and learning (a
question kept as an alias). Pure text, no database, so a question answered on its own
(`crossbot ask`) needs nothing else.
"""

from __future__ import annotations

import re

ALIAS_CHARS = 200
WORD = re.compile(r"[\w][\w'’&-]*")
# Words that only frame a question ("who does", "do we have anyone for"): not what it's about.
FRAME_WORDS = frozenset(
    "who whos who's does do did can could help helps with anyone anybody someone somebody is "
    "are there we our us have has a an the for on about me i need needs know knows which "
    "what team teams advise advises advice any one handles handle covers cover deal deals "
    "looking look please hi hello hey when if".split()
)


def words_of(text: str) -> list[str]:
    """The words of a text, folded, without the quotes and hyphens around them."""
    return [w.strip("'’-") for w in WORD.findall(text.casefold()) if w.strip("'’-")]


def name_key(text: str) -> str:
    """What a question or alias is about, framing words dropped: 'who does CFIUS?' -> 'cfius'.

    Two texts with the same key name the same thing."""
    return " ".join(w for w in words_of(text) if w not in FRAME_WORDS)


def alias_text(question: str) -> str:
    """A question as a card alias: its framing lead-in and closing punctuation trimmed."""
    found = list(WORD.finditer(question))
    start = 0
    for match in found:
        if match.group().casefold().strip("'’") not in FRAME_WORDS:
            start = match.start()
            break
    else:
        return question.strip()[:ALIAS_CHARS]
    return question[start:].strip().rstrip("?!. ").strip()[:ALIAS_CHARS]
