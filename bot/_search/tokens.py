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

from bot._search.text import STOPWORDS, fold, folded_words, stem
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
    """The distinct values of `keys`, ascending. (A sort: numpy 2's hashing `np.unique` and
    a stable `argsort` are each many times slower on the millions of keys of a big firm.)"""
    ordered = np.sort(keys)
    first = np.ones(len(ordered), dtype=bool)
    first[1:] = ordered[1:] != ordered[:-1]
    return ordered[first]


def _tokenise(cards: Sequence[Card]) -> CardTokens:
    global builds
    word_ids: dict[bytes, int] = {}
    tokens = array("i")
    ends: list[int] = []
    owners = array("i")
    fields = array("b")
    for number, card in enumerate(cards):
        for field_number, parts in enumerate(_parts(card)):
            for part in parts:
                said = _words(part)
                try:
                    tokens.extend(map(word_ids.__getitem__, said))
                except KeyError:  # a new word: give every word of this part an id, then again
                    for word in said:
                        word_ids.setdefault(word, len(word_ids))
                    del tokens[ends[-1] if ends else 0 :]
                    tokens.extend(map(word_ids.__getitem__, said))
                ends.append(len(tokens))
                owners.append(number)
                fields.append(field_number)
    words = [word.decode() for word in word_ids]
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
        tokens=np.frombuffer(tokens, dtype=np.int32).copy(),
        segment_end=np.asarray(ends, dtype=np.int64),
        segment_card=np.frombuffer(owners, dtype=np.int32).copy(),
        segment_field=np.frombuffer(fields, dtype=np.int8).copy(),
    )


def _words(folded: str) -> list[bytes]:
    """`folded_words(folded)` as bytes: ASCII text split with a byte table, several times
    quicker than `str.translate` on the megabytes of a big firm's cards."""
    if folded.isascii():
        found = folded.encode().translate(_SPACES).split()
        if b"will" not in found:  # else the word's two senses are told apart as search does
            return found
    return [word.encode() for word in folded_words(folded)]


# Everything but lower-case letters and digits separates words, as in `folded_words`.
_SPACES = bytes(c if "0" <= chr(c) <= "9" or "a" <= chr(c) <= "z" else 32 for c in range(256))


def _parts(card: Card) -> list[list[str]]:
    """The card's folded text per field of `FIELDS`, each cut into its segments."""
    return [
        [fold(card.title)],
        [fold(alias) for alias in card.aliases],
        [fold(card.team)],
        *(_SEGMENT.split(fold(card.section(key))) for key in SECTION_FIELDS),
    ]
