"""Every card's words, folded, split and stemmed once per content build.

The search index and the referral parser's card scorer both read a firm's cards word by
word; tokenising them is most of what building either costs. `card_tokens(cards)` does it
once and both read the result: one vocabulary of words, one of stems, and the cards'
words as one array of word ids, cut into segments (a title, an alias, a sentence or a
bullet) that know their card and field.
"""

from __future__ import annotations

import re
import threading
from array import array
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot._search.text import STOPWORDS, fold, is_testament, stem
from bot.catalog import Card

# The parts of a card, in the order their segments are stored (a segment knows its field
# by its number here).
FIELDS = (
    "title",
    "aliases",
    "team",
    "what_we_do",
    "situations",
    "clients_we_want",
    "positioning",
    "questions",
)
SECTION_FIELDS = FIELDS[3:]
_SEGMENT = re.compile(r"[.!?;]\s+|\n")  # sentences, bullets and lines of a section
_BATCH = 256  # cards tokenised together
_CACHED = 2  # builds kept: the latest, and the one it replaces while that still answers


@dataclass(frozen=True, eq=False)
class CardTokens:
    """The cards' words as ids: `tokens[segment_end[s - 1]:segment_end[s]]` are the words of
    segment `s`, which belongs to card `segment_card[s]` and field `FIELDS[segment_field[s]]`.
    `stem_of[word]` is the word's stem id, -1 for a stopword. Read-only once built."""

    words: list[str]
    stems: list[str]
    stem_of: np.ndarray  # int32, per word id
    tokens: np.ndarray  # int32 word ids
    segment_end: np.ndarray  # int64 offsets into `tokens`
    segment_card: np.ndarray  # int32
    segment_field: np.ndarray  # int8

    @property
    def cards(self) -> int:
        return int(self.segment_card[-1]) + 1 if len(self.segment_card) else 0

    def token_segments(self) -> np.ndarray:
        """The segment of every token (int32)."""
        lengths = np.diff(self.segment_end, prepend=0)
        return np.repeat(np.arange(len(lengths), dtype=np.int32), lengths)

    def stem_tokens(self) -> np.ndarray:
        """The stem id of every token, -1 for a stopword (int32)."""
        return self.stem_of[self.tokens] if len(self.tokens) else np.zeros(0, dtype=np.int32)


_lock = threading.Lock()
_built: list[tuple[list[Card], CardTokens]] = []  # newest last
builds = 0  # how many times cards were tokenised in this process (tests count through it)


def card_tokens(cards: Sequence[Card]) -> CardTokens:
    """The cards tokenised, once for the same card objects in the same order: the search
    index and the parser's scorer built from one catalog share one tokenisation."""
    with _lock:
        for held, found in _built:
            if len(held) == len(cards) and all(a is b for a, b in zip(held, cards, strict=True)):
                return found
    found = _tokenise(cards)
    with _lock:
        _built.append((list(cards), found))
        del _built[:-_CACHED]
    return found


def forget() -> None:
    """Drop the kept tokenisations (so a benchmark measures a build from scratch)."""
    with _lock:
        _built.clear()


def distinct(keys: np.ndarray) -> np.ndarray:
    """The distinct values of `keys` (sorted in place), ascending. (A sort: numpy 2's hashing
    `np.unique` and a stable `argsort` are each many times slower on the millions of keys
    of a big firm.)"""
    keys.sort()
    ordered = keys
    first = np.ones(len(ordered), dtype=bool)
    first[1:] = ordered[1:] != ordered[:-1]
    return ordered[first]


def _tokenise(cards: Sequence[Card]) -> CardTokens:
    global builds
    word_ids: dict[bytes, int] = {_MARK.strip(): -1}  # -1 marks the end of a segment
    marked = array("i")
    owners = array("i")
    fields = array("b")
    for start in range(0, len(cards), _BATCH):
        segments: list[bytes] = []
        for number, card in enumerate(cards[start : start + _BATCH], start):
            for field_number, parts in enumerate(_parts(card)):
                segments.extend(part.encode().translate(_SPACES) for part in parts)
                owners.extend([number] * len(parts))
                fields.extend([field_number] * len(parts))
        # A batch's segments joined with a mark and split once: the cost per segment is
        # one `bytes.translate`, per word a dictionary lookup (batched, the words of a big
        # firm never are all Python objects at once).
        said = _MARK.join((*segments, b"")).split()
        done = len(marked)
        try:
            marked.extend(map(word_ids.__getitem__, said))
        except KeyError:  # new words: give them ids, then read the batch again
            for word in dict.fromkeys(said):
                word_ids.setdefault(word, len(word_ids) - 1)
            del marked[done:]
            marked.extend(map(word_ids.__getitem__, said))
    words = [word.decode() for word in list(word_ids)[1:]]
    ids = np.frombuffer(marked, dtype=np.int32) if marked else np.zeros(0, dtype=np.int32)
    if "will" in words:
        ids = _testaments(ids, words)
    marks = np.flatnonzero(ids < 0)
    stem_ids: dict[str, int] = {}
    stem_of = np.fromiter(
        (-1 if w in STOPWORDS else stem_ids.setdefault(stem(w), len(stem_ids)) for w in words),
        dtype=np.int32,
        count=len(words),
    )
    with _lock:
        builds += 1
    return CardTokens(
        words=words,
        stems=list(stem_ids),
        stem_of=stem_of,
        tokens=ids[ids >= 0],
        segment_end=(marks - np.arange(len(marks))).astype(np.int64),
        segment_card=np.frombuffer(owners, dtype=np.int32).copy(),
        segment_field=np.frombuffer(fields, dtype=np.int8).copy(),
    )


def _testaments(marked: np.ndarray, words: list[str]) -> np.ndarray:
    """'will' the document becomes 'wills' (`words` gains it), as `folded_words` decides
    within one segment; `marked` has -1 between segments."""
    will = words.index("will")
    wills = words.index("wills") if "wills" in words else len(words)
    out = marked.copy()
    for at in np.flatnonzero(marked == will).tolist():
        before = int(marked[at - 1]) if at else -1
        after = int(marked[at + 1]) if at + 1 < len(marked) else -1
        if is_testament(words[before] if before >= 0 else "", words[after] if after >= 0 else ""):
            out[at] = wills
    if wills == len(words) and (out == wills).any():
        words.append("wills")
    return out


def _parts(card: Card) -> list[list[str]]:
    """The card's folded text per field of `FIELDS`, each cut into its segments."""
    return [
        [fold(card.title)],
        [fold(alias) for alias in card.aliases],
        [fold(card.team)],
        *(_SEGMENT.split(fold(card.section(key))) for key in SECTION_FIELDS),
    ]


# Everything but lower-case letters and digits separates words, as in `folded_words`
# (folded text is ASCII); segments are joined with a mark no text keeps.
_SPACES = bytes(c if "0" <= chr(c) <= "9" or "a" <= chr(c) <= "z" else 32 for c in range(256))
_MARK = b" \x01 "
