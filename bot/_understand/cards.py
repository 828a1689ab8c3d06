"""Which service card some words are about."""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from collections.abc import Callable, Container, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from bot._search.vocab import PhraseMatcher, load_areas, load_glossary
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
    more than a word that happens to appear in a paragraph.
    """

    NAME_WEIGHT = 3.0
    BODY_WEIGHT = 1.0
    PHRASE_BONUS = 2.0
    RELATED_SHARE = 0.5  # a word sharing a 5-letter stem start: acquiring ~ acquisitions
    AREA_NAME_BONUS = 3.0  # the words name a service area the card's name or aliases name

    def __init__(self, cards: Sequence[Card]):
        self.cards = list(cards)
        self._vocabulary = _vocabulary()
        self._name_words: dict[str, set[str]] = {}
        self._body_words: dict[str, set[str]] = {}
        self._phrases: dict[str, list[tuple[str, ...]]] = {}
        self._related_cache: dict[str, str | None] = {}
        document_frequency: Counter[str] = Counter()
        for card in self.cards:
            # service names are noun phrases: "will disputes" is about wills
            names = [
                re.sub(r"\bwill\b", "wills", name, flags=re.IGNORECASE)
                for name in (card.title, *card.aliases, card.id.replace("-", " "))
            ]
            self._phrases[card.id] = [tuple(_tokens(n)) for n in names if len(_tokens(n)) > 1]
            self._name_words[card.id] = {w for n in names for w in _tokens(n)}
            body = " ".join(card.sections.values())
            self._body_words[card.id] = set(_tokens(body))
            document_frequency.update(self._name_words[card.id] | self._body_words[card.id])
        total = max(len(self.cards), 1)
        self._idf = {w: math.log(1 + total / df) for w, df in document_frequency.items()}
        self._areas = {
            card.id: self._vocabulary.card_areas(self._name_phrases(card), body_of(card))
            for card in self.cards
        }

    @staticmethod
    def _name_phrases(card: Card) -> list[list[str]]:
        return [_tokens(name) for name in (card.title, *card.aliases)]

    def __call__(self, text: str, cards: Sequence[Card]) -> dict[str, float]:
        words = _tokens(text)
        unique = set(words)
        kin = {k for w in unique for k in _KIN.get(w, ()) if k not in unique}
        kin |= self._vocabulary.synonyms(words, self._idf) - unique  # "prenup" says "family"
        areas = self._vocabulary.areas(words)
        scores: dict[str, float] = {}
        for card in cards:
            if card.id not in self._name_words:
                continue
            score = 0.0
            for word in unique:
                score += self._word_score(word, card.id)
            for word in kin:  # "buying" counts a little for "acquisitions"
                score += self.RELATED_SHARE * self._word_score(word, card.id)
            for phrase in self._phrases[card.id]:
                if _contains(words, phrase):
                    score += self.PHRASE_BONUS * len(phrase)
            for area in areas:  # "a new MDL" is litigation even if no card says "MDL"
                strength = self._areas[card.id].get(area, 0)
                if strength >= 2:
                    score += self.AREA_NAME_BONUS
            if score > 0:
                scores[card.id] = score
        return scores

    def _word_score(self, word: str, card_id: str) -> float:
        idf = self._idf.get(word)
        if idf is not None:
            if word in self._name_words[card_id]:
                return self.NAME_WEIGHT * idf
            return self.BODY_WEIGHT * idf if word in self._body_words[card_id] else 0.0
        related = self._related(word)
        if related is None:
            return 0.0
        return self.RELATED_SHARE * self._word_score(related, card_id)

    def _related(self, word: str) -> str | None:
        """A card word that starts like an unseen word, for stems the stemmer keeps apart."""
        if len(word) < 6:
            return None
        if word not in self._related_cache:
            prefix = word[:5]
            close = [w for w in self._idf if len(w) >= 6 and w.startswith(prefix)]
            self._related_cache[word] = max(
                close, key=lambda w: (len(os.path.commonprefix([w, word])), w), default=None
            )
        return self._related_cache[word]


def body_of(card: Card) -> list[str]:
    return _tokens(" ".join(card.sections.values()))


class _Vocabulary:
    """Search's shipped glossary and taxonomy of service areas, read the parser's way."""

    def __init__(self) -> None:
        glossary = load_glossary()
        self._glossary, self._group_of = glossary.matcher()
        self._groups = glossary.groups
        self._area_list = load_areas()
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

    def areas(self, words: list[str]) -> set[str]:
        """The service areas `words` signal."""
        return {self._phrase_area[pid] for pid in self._areas.find(words)}

    def card_areas(self, names: list[list[str]], body: list[str]) -> dict[str, int]:
        """How much a card is about each area: 2 when a name says it, 1 for two body hits."""
        strength: dict[str, int] = {}
        for name in names:
            for area in self.areas(name):
                strength[area] = 2
        hits: Counter[str] = Counter()
        for sentence in _chunks(body):
            hits.update(self.areas(sentence))
        for area, count in hits.items():
            if count >= 2:
                strength.setdefault(area, 1)
        return strength


def _chunks(words: list[str], size: int = 12) -> list[list[str]]:
    return [words[i : i + size] for i in range(0, len(words), size)]


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


def _contains(words: Sequence[str], phrase: tuple[str, ...]) -> bool:
    size = len(phrase)
    return any(tuple(words[i : i + size]) == phrase for i in range(len(words) - size + 1))


def _default_scorer(directory: Directory) -> CardScorer:
    return directory._index.scorer


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
    scores = scorer(words, directory.cards)
    if not scores:
        return None
    least = float(getattr(scorer, "min_evidence", MIN_EVIDENCE))
    teams = {team.lower()} if team else set()
    for email in receivers:
        person = directory.person(email)
        if person:
            teams.add(person.team.lower())
    best: tuple[float, str | None] = (0.0, None)
    for card in directory.cards:
        evidence = scores.get(card.id, 0.0)
        if evidence < least:
            continue
        prior = 1.0
        if any(email in card.owners for email in receivers):
            prior = OWNER_PRIOR
        elif card.team.lower() in teams:
            prior = TEAM_PRIOR
        if evidence * prior > best[0]:
            best = (evidence * prior, card.id)
    return best[1]
