"""Which service card some words are about."""

from __future__ import annotations

import bisect
import math
import os
import re
from collections.abc import Callable, Container, Iterable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from bot._search.tokens import FIELDS, SECTION_FIELDS, CardTokens, card_tokens, distinct
from bot._search.vocab import PhraseMatcher
from bot._understand.text import REFERRAL_WORDS
from bot._understand.text import tokens as _tokens
from bot.catalog import Card

if TYPE_CHECKING:
    from bot._understand.directory import Directory


CardScorer = Callable[[str, Sequence[Card]], dict[str, float]]
"""Scores how well some words fit each card: {card id: evidence}, 0 or absent for none.

The seam for card inference: a search engine can stand in for `KeywordCardScorer`. A
scorer may carry a `min_evidence` attribute, the least score that names a card (default
`MIN_EVIDENCE`, on the keyword scorer's scale).
"""


class KeywordCardScorer:
    """Stemmed keyword overlap with a card's title, aliases and text, weighted by rarity.

    Title and alias words count three times more than words from the card's prose, and a
    whole alias phrase found in the text adds a bonus, so "TUPE" or "merger control" say
    more than a word that happens to appear in a paragraph. Words are looked up in postings
    (word → cards), so a sentence costs about the same in a firm of 20 cards or 2,000.
    """

    NAME_WEIGHT = 3.0
    BODY_WEIGHT = 1.0
    PHRASE_BONUS = 2.0
    RELATED_SHARE = 0.5  # a word sharing a 5-letter stem start: acquiring ~ acquisitions
    # the words signal a service area that the card's title or aliases name: a phrase
    # ("wife moved out") is enough to name the card, a single word ("charity") only helps
    AREA_BONUS = 4.0
    AREA_WORD_BONUS = 1.5

    def __init__(self, cards: Sequence[Card]):
        self.cards = list(cards)
        self._vocabulary = _vocabulary()
        self._related_cache: dict[str, str | None] = {}
        # Scores are kept per distinct card id, in one array: a sentence's words add their
        # postings with numpy rather than card by card.
        self._ids = list(dict.fromkeys(card.id for card in self.cards))
        column = {card_id: n for n, card_id in enumerate(self._ids)}
        self._phrases: dict[str, list[tuple[int, tuple[str, ...]]]] = {}  # by first word
        area_cards: dict[str, set[int]] = {}
        name_areas: dict[tuple[str, ...], Iterable[str]] = {}  # titles repeat across cards
        spelled_tokens: dict[str, tuple[str, ...]] = {}  # ...and so do their words
        named: list[tuple[str, ...]] = []  # each card's name words
        for card in self.cards:
            spelled = (card.title, *card.aliases, card.id.replace("-", " "))
            names = []
            for written in spelled:
                if written not in spelled_tokens:
                    spelled_tokens[written] = _name_tokens(written)
                names.append(spelled_tokens[written])
            for phrase in dict.fromkeys(n for n in names if len(n) > 1):
                self._phrases.setdefault(phrase[0], []).append((column[card.id], phrase))
            named.append(tuple(dict.fromkeys(w for n in names for w in n)))
            for name in names[:-1]:
                if name not in name_areas:
                    name_areas[name] = self._vocabulary.areas(list(name)).keys()
                for area in name_areas[name]:
                    area_cards.setdefault(area, set()).add(column[card.id])
        self._idf, self._postings = self._posted(column, named)
        self._area_cards = {
            area: np.fromiter(sorted(found), dtype=np.int64) for area, found in area_cards.items()
        }
        self._terms = sorted(self._idf)

    def _posted(
        self, column: dict[str, int], named: list[tuple[str, ...]]
    ) -> tuple[dict[str, float], dict[str, tuple[np.ndarray, np.ndarray]]]:
        """Each word's idf, and word → (card columns, weights): a word in a card's name has
        the name's weight. The cards' prose is read from the tokens search built."""
        tokens = card_tokens(self.cards)
        vocabulary = {term: n for n, term in enumerate(tokens.stems)}
        names = [[vocabulary.setdefault(w, len(vocabulary)) for w in said] for said in named]
        size = max(1, len(vocabulary))
        name_keys = distinct(
            np.fromiter((n * size + w for n, said in enumerate(names) for w in said), np.int64)
        )
        # one entry per (card, word); a word in the card's name and prose counts as a name
        keys = distinct(np.concatenate((name_keys, _body_keys(tokens, size))))
        place = np.minimum(np.searchsorted(name_keys, keys), max(len(name_keys) - 1, 0))
        is_name = name_keys[place] == keys if len(name_keys) else np.zeros(len(keys), dtype=bool)
        del place
        # int32 and each temporary dropped once read: a big firm has millions of pairs
        cards, words = (keys // size).astype(np.int32), (keys % size).astype(np.int32)
        del keys
        terms = list(vocabulary)
        # document frequency over every card, as listed (a repeated id counts each time)
        df = np.bincount(words, minlength=len(terms))
        total = max(len(self.cards), 1)
        idf = {terms[w]: math.log(1 + total / int(df[w])) for w in np.flatnonzero(df).tolist()}
        # the postings hold each distinct id once: the last card listed with it
        last = {card.id: n for n, card in enumerate(self.cards)}
        position_column = np.full(max(1, len(self.cards)), -1, dtype=np.int32)
        for card_id, at in last.items():
            position_column[at] = column[card_id]
        columns = position_column[cards]
        del cards
        kept = columns >= 0
        columns, words, is_name = columns[kept], words[kept], is_name[kept]
        del kept
        word_idf = np.zeros(len(terms), dtype=np.float64)
        for w in np.flatnonzero(df).tolist():
            word_idf[w] = idf[terms[w]]
        order = np.lexsort((columns, words))
        sorted_columns = columns[order]
        del columns
        share = np.where(is_name[order], self.NAME_WEIGHT, self.BODY_WEIGHT)
        del is_name
        sorted_weights = share * word_idf[words[order]]
        del share, order
        bounds = np.concatenate(([0], np.cumsum(np.bincount(words, minlength=len(terms)))))
        present = np.flatnonzero(np.diff(bounds)).tolist()
        postings = {
            terms[w]: (
                sorted_columns[bounds[w] : bounds[w + 1]],
                sorted_weights[bounds[w] : bounds[w + 1]],
            )
            for w in present
        }
        return idf, postings

    def __call__(self, text: str, cards: Sequence[Card]) -> dict[str, float]:
        words = _tokens(text)
        unique = set(words)
        kin = {k for w in unique for k in _KIN.get(w, ()) if k not in unique}
        kin |= self._vocabulary.synonyms(words, self._idf) - unique  # "prenup" says "family"
        scores = np.zeros(len(self._ids), dtype=np.float64)
        for word in unique:
            self._add(scores, word, 1.0)
        for word in kin:  # "buying" counts a little for "acquisitions"
            self._add(scores, word, self.RELATED_SHARE)
        found = set()
        for index, word in enumerate(words):
            for column, phrase in self._phrases.get(word, ()):
                if tuple(words[index : index + len(phrase)]) == phrase:
                    found.add((column, phrase))
        for column, phrase in found:
            scores[column] += self.PHRASE_BONUS * len(phrase)
        for area, size in self._vocabulary.areas(words).items():  # "wife moved out": family
            bonus = self.AREA_BONUS if size > 1 else self.AREA_WORD_BONUS
            held = self._area_cards.get(area)
            if held is not None:
                scores[held] += bonus
        said = np.flatnonzero(scores > 0)
        ids = self._ids  # plain lists: indexing numpy per card costs more than the scoring
        evidence = dict(zip([ids[n] for n in said.tolist()], scores[said].tolist(), strict=True))
        if len(cards) != len(self.cards):
            wanted = {c.id for c in cards}
            return {c: v for c, v in evidence.items() if c in wanted}
        return evidence

    def _add(self, scores: np.ndarray, word: str, share: float) -> None:
        posting = self._postings.get(word)
        if posting is None:
            related = self._related(word)
            if related is None:
                return
            posting, share = self._postings[related], share * self.RELATED_SHARE
        columns, weights = posting
        scores[columns] += share * weights

    def _related(self, word: str) -> str | None:
        """A card word that starts like an unseen word, for stems the stemmer keeps apart."""
        if len(word) < 6:
            return None
        if word not in self._related_cache:
            prefix = word[:5]
            close = []
            for term in self._terms[bisect.bisect_left(self._terms, prefix) :]:
                if not term.startswith(prefix):
                    break
                if len(term) >= 6:
                    close.append(term)
            self._related_cache[word] = max(
                close, key=lambda w: (len(os.path.commonprefix([w, word])), w), default=None
            )
        return self._related_cache[word]


def _name_tokens(name: str) -> tuple[str, ...]:
    """A service name's stems; service names are noun phrases: "will disputes" is about wills."""
    if "will" in name.lower():
        name = re.sub(r"\bwill\b", "wills", name, flags=re.IGNORECASE)
    return tuple(_tokens(name))


def _body_keys(tokens: CardTokens, size: int) -> np.ndarray:
    """card × `size` + stem id for each distinct stem of a card's prose (its sections), as
    the parser reads it: leaving out referral words and numbers."""
    allowed = np.fromiter(
        (not (w in REFERRAL_WORDS or w.isdigit()) for w in tokens.words),
        dtype=bool,
        count=len(tokens.words),
    )
    stem_of = np.where(allowed, tokens.stem_of, -1)
    # A batch of cards at a time: their pairs are distinct from every other batch's and
    # come after the earlier ones', so the whole is the batches' joined, while the peak
    # memory is one batch's tokens rather than every card's (the biggest part of a build).
    edges = np.searchsorted(
        tokens.segment_card, np.arange(0, tokens.cards + _KEY_BATCH, _KEY_BATCH)
    )
    found = [
        _prose_keys(tokens, stem_of, int(lo), int(hi), size)
        for lo, hi in zip(edges[:-1], edges[1:], strict=True)
        if hi > lo
    ]
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


def _prose_keys(tokens: CardTokens, stem_of: np.ndarray, lo: int, hi: int, size: int) -> np.ndarray:
    """`_body_keys` for the segments `lo:hi`."""
    start = int(tokens.segment_end[lo - 1]) if lo else 0
    ends = tokens.segment_end[lo:hi] - start
    segments = np.repeat(np.arange(lo, hi, dtype=np.int32), np.diff(ends, prepend=0))
    stems = stem_of[tokens.tokens[start : int(tokens.segment_end[hi - 1])]]
    kept = (tokens.segment_field[segments] >= _FIRST_PROSE) & (stems >= 0)
    keys = tokens.segment_card[segments[kept]].astype(np.int64)
    keys *= size
    keys += stems[kept]
    return distinct(keys)


_KEY_BATCH = 1024  # cards whose prose keys are made at once (bounds the build's peak memory)
_FIRST_PROSE = FIELDS.index(SECTION_FIELDS[0])


class _Vocabulary:
    """Search's shipped glossary and taxonomy of service areas, read the parser's way."""

    def __init__(self) -> None:
        from bot.search import load_vocabulary  # read once a process, shared with search

        glossary, self._area_list = load_vocabulary()
        self._glossary, self._group_of = glossary.matcher()
        self._groups = glossary.groups
        phrases, self._phrase_area = [], []
        for area in self._area_list:
            if area.kind != "service":
                continue
            for phrase in area.phrases:
                phrases.append(phrase)
                self._phrase_area.append(area.id)
        self._areas = PhraseMatcher(phrases)

    def synonyms(self, words: list[str], known: Container[str]) -> set[str]:
        """The stems of the glossary wordings equivalent to one in `words` the cards don't use.

        A glossary bridges words no card uses ("prenup", "MDL") to words cards do; a word
        the cards already use ("family") says enough by itself and is not expanded.
        """
        found: set[str] = set()
        for pid in self._glossary.find(words):
            if all(term in known for term in self._glossary.phrases[pid]):
                continue
            for phrase in self._groups[self._group_of[pid]]:
                found.update(phrase)
        return found

    def areas(self, words: list[str]) -> dict[str, int]:
        """The service areas `words` signal, each with the length of its longest phrase."""
        found: dict[str, int] = {}
        for pid in self._areas.find(words):
            area = self._phrase_area[pid]
            found[area] = max(found.get(area, 0), len(self._areas.phrases[pid]))
        return found


@lru_cache(maxsize=1)
def _vocabulary() -> _Vocabulary:
    return _Vocabulary()


_KIN_GROUPS = (
    # words people use for the same deal or dispute, as stems
    ("buy", "bought", "purchas", "acquir", "acquisit", "takeov"),
    ("sell", "sold", "sale", "dispos", "exit", "vendor"),
    ("merg", "merger", "acquisit"),
    ("sue", "su", "litig", "claim", "disput", "court"),
    ("sack", "fire", "dismiss", "dismissal"),
    ("hack", "breach", "ransomwar", "cyber", "attack"),
    ("divorc", "separ", "split"),
    ("rais", "fundrais", "invest", "investor", "fund"),
    ("lend", "loan", "borrow", "debt", "financ", "refinanc"),
    ("bust", "insolv", "administr", "liquid", "distress"),
)
_KIN: dict[str, tuple[str, ...]] = {}
for _group in _KIN_GROUPS:
    for _stem_word in _group:
        _KIN[_stem_word] = tuple(
            dict.fromkeys((*_KIN.get(_stem_word, ()), *(w for w in _group if w != _stem_word)))
        )


def _default_scorer(directory: Directory) -> CardScorer:
    return directory.scorer or directory._index.scorer


MIN_EVIDENCE = 4.0
OWNER_PRIOR = 2.0
TEAM_PRIOR = 1.5


def infer_card(
    words: str,
    directory: Directory,
    receivers: Sequence[str] = (),
    team: str | None = None,
    scorer: CardScorer | None = None,
) -> str | None:
    """The card the words are about, favouring the receiver's own cards and team.

    Evidence from the words is weighed by a prior: cards the receiver owns count double,
    cards of the receiver's (or the named) team half as much again; too little evidence
    means no card, rather than a guess.
    """
    scorer = scorer or _default_scorer(directory)
    least = float(getattr(scorer, "min_evidence", MIN_EVIDENCE))
    return best_card(scorer(words, directory.cards), least, directory, receivers, team)


def contenders(scores: dict[str, float], least: float) -> dict[str, float]:
    """The evidence `best_card` can pick from: a card below the best evidence over the
    highest prior (or below `least`) never wins, whoever receives it."""
    if not scores:
        return scores
    floor = max(least, max(scores.values()) / OWNER_PRIOR)
    return {card_id: value for card_id, value in scores.items() if value >= floor}


def best_card(
    scores: dict[str, float],
    least: float,
    directory: Directory,
    receivers: Sequence[str] = (),
    team: str | None = None,
) -> str | None:
    """The card `infer_card` picks from a scorer's evidence (`least` names a card)."""
    if not scores:
        return None
    # No prior is above the owner's: a card whose evidence times that stays below the best
    # evidence can't win, so only the contenders are weighed (a common word may give
    # evidence to most cards of a big firm).
    least = max(least, max(scores.values()) / OWNER_PRIOR)
    teams = {team.lower()} if team else set()
    for email in receivers:
        person = directory.person(email)
        if person:
            teams.add(person.team.lower())
    best: tuple[float, int, str | None] = (0.0, 0, None)
    # only the cards with evidence; on a tie the card listed first wins
    for card_id, evidence in scores.items():
        if evidence < least:
            continue
        place = directory.card_place(card_id)
        if place is None:
            continue
        position, card = place
        prior = 1.0
        if any(email in card.owners for email in receivers):
            prior = OWNER_PRIOR
        elif card.team.lower() in teams:
            prior = TEAM_PRIOR
        if (evidence * prior, -position) > best[:2]:
            best = (evidence * prior, -position, card.id)
    return best[2]
