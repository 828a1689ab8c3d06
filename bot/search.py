"""Answering "who does X?" from service cards.

`SearchIndex.build(cards, people=..., clients=...)` indexes every part of every card
(BM25F with field weights over Snowball stems, accent and case folded), and
`index.search(question)` ranks the cards for a question. Questions are corrected for typos
against the index vocabulary, expanded with a shipped glossary of trade terms (which a firm
can extend with `glossary.csv` in its content folder), and mapped onto a broad taxonomy of
professional-service areas. That map is what decides "nothing fits": a question about an
area none of the firm's cards covers, or an internal request (IT, payroll, facilities), gets
an honest no-match instead of a weak guess. No raw-score threshold is involved, so the
decision carries over from one firm to another.

Person, team and client questions ("who is Priya Shah?", "what does the Tax team do?",
"who looks after Northwind?") are answered by `find_person`, `find_team` and `find_client`.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from bot._search.index import FieldIndex
from bot._search.rarity import add_known_zipf, information, known_zipf, zipf
from bot._search.text import (
    OWNERSHIP,
    PARTICLES,
    STOPWORDS,
    english_words,
    fold,
    folded_words,
    phrasal,
    stem,
    terms,
    words,
)
from bot._search.tokens import FIELDS, CardTokens, card_tokens, distinct
from bot._search.vocab import (
    Area,
    Glossary,
    PhraseMatcher,
    area_words,
    load_areas,
    load_glossary,
)
from bot.catalog import Card, ClientRecord, PersonRecord

__all__ = [
    "EVIDENCE_FLOOR",
    "Match",
    "SearchIndex",
    "SearchResult",
    "add_known_zipf",  # word frequencies kept by `crossbot ask`'s content snapshot
    "known_zipf",
    "load_vocabulary",
]

# How much each part of a card counts. Names people use (title, aliases) count most;
# the situations are what people describe when they don't know the name of the service.
FIELD_WEIGHTS: dict[str, float] = {
    "title": 3.0,
    "aliases": 2.5,
    "team": 1.0,
    "what_we_do": 1.0,
    "situations": 1.0,
    "clients_we_want": 0.6,
    "positioning": 0.4,
    "questions": 0.5,
}
# How much a card mentioning an area counts towards covering it, by field.
# "What we do" says what a team offers; the situations count for less, and the other
# sections, which often mention neighbouring areas ("when the audit finds..."), not at all.
_COVER_WEIGHTS: dict[str, float] = {
    "title": 3.0,
    "aliases": 3.0,
    "team": 1.0,
    "what_we_do": 1.0,
    "situations": 0.5,
}
_COVERED = 2.0  # a card covers an area from one name hit, or two hits in its body
_DOMINANT = 0.25  # ...and when that area weighs at least this share of the card's main one
_EXPANSION_WEIGHT = 0.35  # glossary synonyms count less than the words asked
_RELATIVE_WEIGHT = 0.5  # so do words of the same family ('bribes' for 'bribery')
_FAMILY = 5  # shortest shared stem that makes two words one family
# Per-word memos hold words people typed, so they would grow without end in a long-running
# server; past this many they start again (every entry can be worked out anew).
MEMO_LIMIT = 50_000
_AREA_WEIGHT = 0.8  # share of the final score that comes from the area map
_OTHER_MATCH = 0.55  # other matches must score at least this share of the best one
# Below this share of the question's information (its words weighted by their rarity in
# general English) explained by the best card, nothing fits. Not fitted on a firm: "the
# card accounts for about a third of what was said" is the plain reading of a weak guess
# (both devsets agree on 0.2-0.35, a held-out firm is flat over 0-0.4);
# `benchmarks/search_quality.py --fit` shows what fitting it on one firm gives another.
EVIDENCE_FLOOR = 0.3
_MOSTLY = 0.75  # a card explaining this share answers even a question about another area
_NAME_WEIGHT = 1.0  # a card the question names (title or alias) leads the answer
_COMMON_NAME = 4.5  # a one-word name this common in English ('property') is not evidence
_TEAM_CUE = re.compile(r"\b(team|department|dept|practice|group|desk|unit)s?\b")
_TEAM_WORD = re.compile(r"(team|department|dept|practice|desk)s?")
# Words that ask about someone rather than about a service.
_ABOUT_SURFACE = frozenset("cover covers do does role job contact speak talk reach email".split())
_ABOUT_WORDS = frozenset(stem(w) for w in _ABOUT_SURFACE)
Reason = Literal["", "empty", "internal", "uncovered", "weak"]
_MISSPELT_CACHE_SIZE = 4096  # questions whose nearly-a-name answer is remembered
_UNASKED: Any = object()


@dataclass(frozen=True)
class Match:
    card: Card
    score: float


@dataclass(frozen=True)
class SearchResult:
    """Ranked cards for a question; `matches` is empty when nothing fits, and `reason` says why."""

    question: str
    matches: list[Match] = field(default_factory=list)
    reason: Reason = ""
    areas: tuple[str, ...] = ()
    person: PersonRecord | None = None
    team: str | None = None

    @property
    def found(self) -> bool:
        return bool(self.matches)


@dataclass
class _Question:
    terms: list[str]
    query: list[dict[str, float]]  # weighted terms, in one part per word asked (`_parts`)
    areas: dict[str, float]
    synonyms: dict[str, set[str]] = field(default_factory=dict)  # term -> glossary equivalents
    words: list[tuple[str, str]] = field(default_factory=list)  # (word, its stem), as said
    area_terms: dict[str, set[str]] = field(default_factory=dict)  # area -> terms that hit it
    names: list[str] = field(default_factory=list)  # terms + adjacent words joined
    owned: bool = False  # "my laptop", "our office": about the asker, not a client
    verbs: dict[str, str] = field(default_factory=dict)  # 'lay' -> 'layoff' (phrasal verbs)
    area_phrases: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)
    folded: str = ""  # the question folded (`fold`), once for every step that reads it
    said: list[str] = field(default_factory=list)  # ...and its words, before correction


def load_vocabulary(content_dir: Path | None = None) -> tuple[Glossary, list[Area]]:
    """The shipped glossary and taxonomy, extended by the firm's own files if it has any."""
    folder = Path(content_dir) if content_dir else None
    glossary = folder / "glossary.csv" if folder else None
    areas = folder / "areas.yaml" if folder else None
    found, area_list = _vocabulary(glossary, _stamp(glossary), areas, _stamp(areas))
    return found, list(area_list)


@lru_cache(maxsize=8)
def _vocabulary(
    glossary: Path | None, _glossary_stamp: object, areas: Path | None, _areas_stamp: object
) -> tuple[Glossary, tuple[Area, ...]]:
    """Read once per version of the firm's files: a content rebuild needn't parse the
    shipped YAML again (the glossary is shared: treat it as read-only)."""
    return load_glossary(glossary), tuple(load_areas(areas))


def _stamp(path: Path | None) -> tuple[int, int] | None:
    """When and how big the file was last written, or None when there is none."""
    if path is None or not path.is_file():
        return None
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


class SearchIndex:
    """Everything needed to answer questions about one firm's cards, people and clients."""

    def __init__(
        self,
        cards: Sequence[Card],
        people: Sequence[PersonRecord],
        clients: Sequence[ClientRecord],
        glossary: Glossary,
        areas: Sequence[Area],
    ):
        self.cards = list(cards)
        self.people = list(people)
        self.clients = list(clients)
        self.areas = list(areas)
        self._area_kind = {a.id: a.kind for a in self.areas}
        tokens = card_tokens(self.cards)  # shared with the referral parser's card scorer
        self._known: set[str] = set(tokens.words)
        self._index = FieldIndex(tokens, FIELD_WEIGHTS)
        # each wording filed under its rarest term on the cards, as names are (`_expansions`
        # sorts what it finds, so the filing changes nothing but the work)
        self._glossary_matcher, self._glossary_group = glossary.matcher(self._index.frequency)
        self._glossary = glossary
        phrases, self._phrase_area = [], []
        for number, area in enumerate(self.areas):
            for phrase in area.phrases:
                phrases.append(phrase)
                self._phrase_area.append(number)
        self._area_matcher = PhraseMatcher(phrases)
        self._cover = self._coverage(tokens)
        # Each card's main area weight, once: per question only the asked areas' columns
        # are read, so the work per question doesn't grow with the taxonomy.
        cover_main = np.maximum(self._cover.max(axis=1, initial=0.0), _COVERED)
        # ...and how much each card is about each area relative to its main one, stored by
        # area: a question reads a few contiguous rows, not a column of every card.
        self._area_share = np.ascontiguousarray((self._cover / cover_main[:, None]).T)
        self._area_column = {a.id: n for n, a in enumerate(self.areas)}
        self.covered = self._covered_areas()
        names = _name_matcher(self.cards, self._index.frequency)
        self._name_matcher, self._name_cards, self._name_words, self._joined_names = names
        self.evidence_floor = EVIDENCE_FLOOR
        self._known.update(glossary.words, STOPWORDS, area_words(self.areas))
        # Typos rarely hit the first letter; bucketing by it keeps correction fast.
        self._fuzzy_choices: dict[str, list[str]] = defaultdict(list)
        for known in sorted(w for w in self._known if len(w) >= 4):
            self._fuzzy_choices[known[0]].append(known)
        self._corrections: dict[str, str] = {}
        # per term and per glossary group, once: a question's parse then only looks them up
        self._relatives_of: dict[str, frozenset[str]] = {}
        self._group_terms = [frozenset(t for p in g for t in p) for g in glossary.groups]
        self._sorted_terms = sorted(self._index.terms)

    @classmethod
    def build(
        cls,
        cards: Sequence[Card],
        people: Sequence[PersonRecord] = (),
        clients: Sequence[ClientRecord] = (),
        glossary: Glossary | None = None,
        areas: Sequence[Area] | None = None,
    ) -> SearchIndex:
        """Index a firm; `glossary` and `areas` default to the shipped ones."""
        if glossary is None or areas is None:
            shipped_glossary, shipped_areas = load_vocabulary()
            glossary = glossary if glossary is not None else shipped_glossary
            areas = areas if areas is not None else shipped_areas
        return cls(cards, people, clients, glossary, areas)

    # -- cards ----------------------------------------------------------------------------

    def search(self, question: str, limit: int = 3) -> SearchResult:
        """The cards that answer `question`, best first, or none with the reason why.

        A card the question names (title or alias, any spelling) always answers. Otherwise
        nothing fits when the question is an internal request, is about an area no card
        covers, or when the best card explains too little of what the question says.
        """
        parsed = self._parse(question)
        asked = tuple(sorted(parsed.areas, key=lambda a: -parsed.areas[a]))
        if not parsed.terms or not self.cards:
            return SearchResult(question, reason="empty", areas=asked)
        about = self._about_someone(question, parsed, limit)
        if about is not None:
            return about
        named = self._named(parsed)  # sorted card numbers
        any_named = len(named) > 0
        service = {a: s for a, s in parsed.areas.items() if self._area_kind[a] == "service"}
        internal = max((s for a, s in parsed.areas.items() if a not in service), default=0.0)
        if internal > max(service.values(), default=0.0) and (parsed.owned or not any_named):
            return SearchResult(question, reason="internal", areas=asked)
        covered = {a: s for a, s in service.items() if a in self.covered}
        prior = _AREA_WEIGHT * self._area_boost(covered)
        ranking = self._index.top(parsed.query, max(limit, 1), prior, named, _NAME_WEIGHT)
        if ranking.best <= 0 and not any_named:
            reason: Reason = "uncovered" if service and not covered else "weak"
            return SearchResult(question, reason=reason, areas=asked)
        order, scores = ranking.docs.tolist(), ranking.scores  # float32, compared as such
        top = order[0]
        if not any_named:
            explained = self._explained(parsed, top)
            others = {a: s for a, s in service.items() if a not in covered}
            uncovered = max(others, key=others.__getitem__, default="")
            # A phrase of two or more words names an area positively: unless the best card
            # at least mentions it, the firm doesn't do it. One word may mean other things:
            # it names an uncovered area only when the best card never mentions that area
            # and holds little of the question.
            named_area = others.get(uncovered, 0.0) >= 2
            mentioned = bool(uncovered) and bool(self._cover[top, self._area_column[uncovered]])
            if (
                uncovered
                and others[uncovered] > max(covered.values(), default=0.0)
                and (
                    (named_area and not mentioned)
                    or (
                        (named_area or not mentioned)
                        and self._meaning_matched(parsed, top) < _MOSTLY
                    )
                )
            ):
                return SearchResult(question, reason="uncovered", areas=asked)
            if explained < self.evidence_floor:
                return SearchResult(question, reason="weak", areas=asked)
        ceiling = 1 + _AREA_WEIGHT + _NAME_WEIGHT * any_named
        head = float(scores[0])
        matches = [
            Match(self.cards[i], round(min(1.0, float(score) / ceiling), 3))
            for i, score in zip(order[:limit], scores[:limit], strict=False)
            if score > 0 and (i == top or score >= _OTHER_MATCH * head or _holds(named, i))
        ]
        return SearchResult(question, matches=matches, areas=asked)

    def _named(self, parsed: _Question) -> np.ndarray:
        """Cards whose title or an alias the question says (in any order, any spelling),
        unless the question says more precisely an area no card covers ('conveyancing'
        names a card, 'residential conveyancing' may be what the firm doesn't do)."""
        narrower = [
            set(phrase)
            for area, phrases in parsed.area_phrases.items()
            if self._area_kind[area] == "service" and area not in self.covered
            for phrase in phrases
        ]
        # marked on a row of every card: names a big firm repeats hold thousands of cards,
        # and sorting them all is slower than marking them
        held = np.zeros(len(self.cards), dtype=bool)
        for pid in self._name_matcher.find(parsed.names):
            if not self._common_name(pid) and not self._narrowed(pid, narrower):
                held[self._name_cards[pid]] = True
        return np.flatnonzero(held)

    def _narrowed(self, pid: int, narrower: list[set[str]]) -> bool:
        """Whether the name is part of a narrower phrase the question says."""
        if not narrower:
            return False
        name = {stem(w) for w in self._name_words[pid]}
        return any(name < phrase for phrase in narrower)

    def _common_name(self, pid: int) -> bool:
        """A one-word name that is a common English word ('property', 'planning') says too
        little to name a card. (Checked on a match, so wordfreq loads on the first one.)"""
        words_of = self._name_words[pid]
        return len(words_of) == 1 and zipf(words_of[0]) >= _COMMON_NAME

    def _about_someone(self, question: str, parsed: _Question, limit: int) -> SearchResult | None:
        """Cards of the person or team a question is about ("who is Priya Shah?")."""
        person = self._person_in(parsed.said)
        if person is not None:
            rest = set(parsed.terms) - set(terms(person.name)) - _ABOUT_WORDS
            if len(rest) <= 1:
                owned = [c for c in self.cards if person.email in c.owners]
                cards = owned or self.team_cards(person.team)
                return SearchResult(question, self._ranked(cards, parsed, limit), person=person)
        team = self._team_in(parsed.said)
        if team is not None and _TEAM_CUE.search(parsed.folded):
            cards = self.team_cards(team)
            if cards:
                return SearchResult(question, self._ranked(cards, parsed, limit), team=team)
        return None

    def _ranked(self, cards: list[Card], parsed: _Question, limit: int) -> list[Match]:
        scores = self._index.scores(parsed.query)
        position = {c.id: n for n, c in enumerate(self.cards)}
        ranked = sorted(cards, key=lambda c: -float(scores[position[c.id]]))
        return [Match(card, 1.0) for card in ranked[:limit]]

    def explain(self, question: str) -> dict[str, object]:
        """What the index made of a question (for benchmarks and debugging)."""
        parsed = self._parse(question)
        top = int(np.argmax(self._index.scores(parsed.query))) if self.cards else 0
        return {
            "terms": parsed.terms,
            "areas": parsed.areas,
            "explained": round(self._explained(parsed, top), 2) if self.cards else 0.0,
            "covered": [a for a in parsed.areas if a in self.covered],
            "named": sorted(self.cards[n].id for n in self._named(parsed)),
        }

    def _parse(self, question: str) -> _Question:
        folded = fold(question)
        asked = folded_words(folded)
        said = _intentions([self._correct(w) for w in asked])
        # 'lay off', 'sell up', 'buy out': a verb and its particle also read as one word.
        pairs = zip(said, said[1:], strict=False)
        verbs = {
            a: phrasal(a, b)
            for a, b in pairs
            if b in PARTICLES and a not in STOPWORDS and a.isalpha()
        }
        compounds = list(verbs.values())
        stems = [stem(w) for w in said if w not in STOPWORDS and w not in _FILLER] + compounds
        unnamed = self._proper_nouns(question, asked)
        kept = [(w, stem(w)) for w in said if w not in STOPWORDS and w not in unnamed]
        # 'buy-out' and 'buyout', 'e-discovery' and 'ediscovery': names match either way.
        joined = (self._joined_names.get(a + b) for a, b in zip(said, said[1:], strict=False))
        names = stems + [w for w in joined if w]
        query: dict[str, float] = {}
        for term in stems:
            query[term] = query.get(term, 0.0) + 1.0
        synonyms = self._expansions(stems)
        for extra in synonyms.values():
            for term in extra:
                query.setdefault(term, _EXPANSION_WEIGHT)
        for term in set(stems):
            relatives = self._relatives(term)
            for other in relatives:
                query.setdefault(other, _RELATIVE_WEIGHT)
            if relatives:
                synonyms.setdefault(term, set()).update(relatives)
        areas: dict[str, float] = {}
        area_terms: dict[str, set[str]] = defaultdict(set)
        area_phrases: dict[str, list[tuple[str, ...]]] = defaultdict(list)
        owned = [stem(w) for w in said if w in OWNERSHIP or w not in STOPWORDS] + compounds
        for pid in self._area_matcher.find(owned):
            area = self.areas[self._phrase_area[pid]].id
            phrase = self._area_matcher.phrases[pid]
            strength = float(len(phrase))
            areas[area] = max(areas.get(area, 0.0), strength) + 0.1 * bool(area in areas)
            area_terms[area].update(phrase)
            area_phrases[area].append(phrase)
        mine = bool(OWNERSHIP.intersection(said)) and not _CLIENT_WORDS.intersection(said)
        phrases = dict(area_phrases)
        parts = _parts(query, stems, synonyms)
        return _Question(
            stems,
            parts,
            areas,
            synonyms,
            kept,
            dict(area_terms),
            names,
            mine,
            verbs,
            phrases,
            folded,
            asked,
        )

    def _proper_nouns(self, question: str, said: list[str]) -> set[str]:
        """Capitalised words past the first that no card, glossary or area uses
        ('Wakefield', 'Geelong') and numbers (among the question's words, `said`): they
        say where or how much, not what."""
        found = {w for w in said if _AMOUNT.fullmatch(w)}
        for match in _CAPITALISED.finditer(question):
            folded = fold(match.group())
            if match.start() and folded not in self._known:
                found.add(folded)
        return found

    def _relatives(self, term: str) -> frozenset[str]:
        """Index terms of the same family that stemming kept apart ('bribe' and 'briberi')."""
        found = self._relatives_of.get(term)
        if found is None:
            _make_room(self._relatives_of)
            found = self._relatives_of[term] = frozenset(self._family(term))
        return found

    def _family(self, term: str) -> set[str]:
        if len(term) < _FAMILY:
            return set()
        found = {term[:k] for k in range(_FAMILY, len(term)) if self._index.has(term[:k])}
        start = bisect.bisect_left(self._sorted_terms, term)
        for other in self._sorted_terms[start : start + 8]:
            if not other.startswith(term):
                break
            if len(other) - len(term) <= 3:
                found.add(other)
        found.discard(term)
        return found

    def _expansions(self, stems: list[str]) -> dict[str, set[str]]:
        """For each question term that is part of a glossary wording, the equivalent terms."""
        found: dict[str, set[str]] = {}
        for pid in sorted(self._glossary_matcher.find(stems)):
            extra = self._group_terms[self._glossary_group[pid]]
            for term in self._glossary_matcher.phrases[pid]:
                found.setdefault(term, set()).update(extra - {term})
        return found

    def _correct(self, word: str) -> str:
        """The index's spelling of a word it doesn't know ('emploment' -> 'employment')."""
        if word in self._known or len(word) < 5 or not word.isalpha() or word in english_words():
            return word
        if word not in self._corrections:
            edits = 1 if len(word) < 8 else 2
            found = process.extractOne(
                word,
                self._fuzzy_choices.get(word[0], []),
                scorer=Levenshtein.distance,
                score_cutoff=edits,
            )
            _make_room(self._corrections)
            self._corrections[word] = found[0] if found else word
        return self._corrections[word]

    def _meaning_matched(self, parsed: _Question, doc: int) -> float:
        """Share of the question's idf mass that the card contains: how much of what is
        distinctive in this firm's cards the question shares with this one."""
        seen = set(parsed.terms)
        mass = sum(self._index.term_idf(t) for t in seen)
        hit = sum(
            self._index.term_idf(t)
            for t in seen
            if any(self._index.contains(s, doc) for s in {t} | parsed.synonyms.get(t, set()))
        )
        return hit / mass if mass else 0.0

    def _explained(self, parsed: _Question, doc: int) -> float:
        """Share of the question's information (its words weighted by their rarity in
        general English) that the card explains: the card has the word, a glossary
        equivalent or relative of it, or covers an area the word signals."""
        by_area = set().union(
            *(t for a, t in parsed.area_terms.items() if self._cover[doc, self._area_column[a]])
        )
        mass = hit = 0.0
        for word, term in dict(parsed.words).items():
            weight = 0.0 if word in _FILLER else information(word)
            mass += weight
            family = {term, parsed.verbs.get(word, term)} | parsed.synonyms.get(term, set())
            if family & by_area or any(self._index.contains(t, doc) for t in family):
                hit += weight
        return hit / mass if mass else 1.0

    def _area_boost(self, areas: dict[str, float]) -> np.ndarray:
        if not areas:
            return np.zeros(len(self.cards), dtype=np.float32)
        rows = [self._area_column[a] for a in areas]
        strength = np.array([areas[a] for a in areas], dtype=np.float32)
        # How much each card is about each area, relative to its main area: a card that
        # mentions an area in passing gets little from it, the card about it gets all.
        if len(rows) == 1:  # the product below, to the bit, without a matrix product's set-up
            return (self._area_share[rows[0]] * strength[0]) / float(strength[0])
        return (strength @ self._area_share[rows]) / float(strength.sum())

    def _covered_areas(self) -> set[str]:
        """Areas some card is about: strongly enough, and not just in passing next to the
        card's main areas (a wills card that mentions divorce doesn't do family law)."""
        if not self.cards:
            return set()
        main = self._cover.max(axis=1, keepdims=True)
        about = (self._cover >= _COVERED) & (self._cover >= _DOMINANT * main)
        return {self.areas[a].id for a in np.nonzero(about.any(axis=0))[0]}

    def _coverage(self, tokens: CardTokens) -> np.ndarray:
        """How strongly each card covers each area: its distinct phrases, each counted once
        with the weight of the most telling field it appears in.

        On cards a phrase counts when all its terms are in one sentence, bullet or alias:
        each phrase term's segments, intersected as sorted arrays.
        """
        phrases = self._area_matcher.phrases
        # Only the terms of some phrase matter, which most words of a card are not.
        wanted = {self._index.term_ids.get(term, -1) for phrase in phrases for term in phrase}
        wanted_stem = np.zeros(len(tokens.stems) + 1, dtype=bool)  # the last: stopwords (-1)
        wanted_stem[[t for t in wanted if t >= 0]] = True
        weight_of_field = np.array([_COVER_WEIGHTS.get(f, 0.0) for f in FIELDS], np.float32)
        segment_weight = weight_of_field[tokens.segment_field]
        stems, segments = tokens.stem_tokens(), tokens.token_segments()
        hit = wanted_stem[stems] & (segment_weight[segments] > 0)
        pairs = distinct(stems[hit].astype(np.int64) * len(segment_weight) + segments[hit])
        pair_terms = pairs // max(1, len(segment_weight))
        pair_segments = pairs % max(1, len(segment_weight))
        bounds = np.searchsorted(pair_terms, np.arange(len(tokens.stems) + 1))
        found_phrases: list[int] = []
        found_segments: list[np.ndarray] = []
        for pid, phrase in enumerate(phrases):
            ids = [self._index.term_ids.get(term, -1) for term in phrase]
            if min(ids) < 0:
                continue
            held = sorted((pair_segments[bounds[t] : bounds[t + 1]] for t in ids), key=len)
            where = held[0]
            for other in held[1:]:
                if not len(where):
                    break
                where = np.intersect1d(where, other, assume_unique=True)
            if len(where):
                found_phrases.append(pid)
                found_segments.append(where)
        cover = np.zeros((len(self.cards), len(self.areas)), dtype=np.float32)
        if not found_phrases:
            return cover
        lengths = [len(w) for w in found_segments]
        where = np.concatenate(found_segments)
        pids = np.repeat(np.asarray(found_phrases, dtype=np.int64), lengths)
        cards = tokens.segment_card[where].astype(np.int64)
        # Per (phrase, card) its best field; then each card's phrases added to their areas in
        # phrase order, as one dense column per phrase would add them.
        keys = pids * len(self.cards) + cards
        order = np.lexsort((-segment_weight[where], keys))
        keys, weights = keys[order], segment_weight[where][order]
        first = np.concatenate(([True], keys[1:] != keys[:-1]))
        keys, weights = keys[first], weights[first]
        areas = np.asarray(self._phrase_area, dtype=np.int64)[keys // len(self.cards)]
        np.add.at(cover, (keys % len(self.cards), areas), weights)
        return cover

    # -- people, teams, clients -----------------------------------------------------------

    def find_person(self, question: str) -> PersonRecord | None:
        """The person a question names (full name, or a surname or first name nobody shares)."""
        return self._person_in(words(question))

    def _person_in(self, said: list[str]) -> PersonRecord | None:
        """`find_person` for the question's words."""
        names = self._names
        # every run of the question's words that is someone's full name; the longest
        # name (in characters) wins, as `by_length` orders them
        ranks = [
            rank
            for n in range(1, min(names.longest, len(said)) + 1)
            for i in range(len(said) - n + 1)
            if (rank := names.rank.get(" ".join(said[i : i + n]))) is not None
        ]
        if ranks:
            return names.by_length[min(ranks)][1]
        asked = set(said) - STOPWORDS
        for by_word in (names.by_last, names.by_first):
            named = [p for word in asked for p in by_word.get(word, ())]
            if len(named) == 1:
                return named[0]
        return self._misspelt_person(said)

    def _misspelt_person(self, said: list[str]) -> PersonRecord | None:
        """'who is Priya Shaw?': a short question that is nearly someone's full name."""
        rest = [w for w in said if w not in STOPWORDS and w not in _ABOUT_SURFACE]
        if not 2 <= len(rest) <= 3 or not self.people:
            return None
        asked = " ".join(rest)
        # A fuzzy pass over every name (0.4 ms at 5,000 people) for each who-does question
        # of two or three words: remembered per question, for as long as this index (one
        # content version) answers.
        misspelt = self._misspelt
        known = misspelt.get(asked, _UNASKED)  # `get`: another thread may clear it meanwhile
        if known is not _UNASKED:
            return known
        if len(misspelt) >= _MISSPELT_CACHE_SIZE:
            misspelt.clear()
        names = self._names
        found = process.extractOne(asked, names.spellings, scorer=fuzz.ratio, score_cutoff=85)
        person = misspelt[asked] = names.spelled[found[0]] if found else None
        return person

    @cached_property
    def _misspelt(self) -> dict[str, PersonRecord | None]:
        return {}

    def find_team(self, question: str) -> str | None:
        """The team a question names, if any: its whole name, or the words before "team"
        when they are part of one team's name only ("the audit team": Audit & Assurance)."""
        return self._team_in(words(question))

    def _team_in(self, said: list[str]) -> str | None:
        """`find_team` for the question's words."""
        text = f" {' '.join(said)} "
        for team, spelled in self._names.teams:
            if spelled in text:
                return team
        cue = next((n for n, w in enumerate(said) if _TEAM_WORD.fullmatch(w)), None)
        before = [w for w in said[max(0, (cue or 0) - 2) : cue or 0] if w not in STOPWORDS]
        if cue is None or not before:
            return None
        named = [t for t, spelled in self._names.teams if set(before) <= set(spelled.split())]
        return named[0] if len(named) == 1 else None

    def find_client(self, question: str) -> ClientRecord | None:
        """The client a question names (by name or alias), if any."""
        text = f" {' '.join(words(question))} "
        best: tuple[int, ClientRecord] | None = None
        for spelled, client in self._names.clients:
            if spelled in text and (best is None or len(spelled) > best[0]):
                best = (len(spelled), client)
        return best[1] if best else None

    def add_clients(self, clients: Sequence[ClientRecord]) -> None:
        """New clients (from referrals, say), findable at once without indexing cards again."""
        self.clients.extend(clients)
        if "_names" in self.__dict__:
            self._names.clients.extend(_spelled_clients(clients))

    @cached_property
    def _names(self) -> _Names:
        return _Names.of(self.people, self.cards, self.clients)

    def team_cards(self, team: str) -> list[Card]:
        """The team's cards, in index order (team names folded once, not per question)."""
        return list(self._cards_by_team.get(fold(team), ()))

    @cached_property
    def _cards_by_team(self) -> dict[str, list[Card]]:
        by_team: dict[str, list[Card]] = defaultdict(list)
        for card in self.cards:
            by_team[fold(card.team)].append(card)
        return by_team

    def offices(self) -> list[str]:
        return list(self._offices)

    @cached_property
    def _offices(self) -> tuple[str, ...]:
        return tuple(sorted({p.office for p in self.people if p.office}))


@dataclass
class _Names:
    """People, team and client names as the questions' words spell them, worked out once
    per index rather than once per question (a firm may have thousands of people)."""

    by_length: list[tuple[str, PersonRecord]]  # " priya shah ", longest names first
    by_last: dict[str, list[PersonRecord]]
    by_first: dict[str, list[PersonRecord]]
    spelled: dict[str, PersonRecord]  # "priya shah" -> the person (the last of namesakes)
    teams: list[tuple[str, str]]  # (team, " its words "), longest first
    clients: list[tuple[str, ClientRecord]]  # (" name or alias ", client)
    rank: dict[str, int] = field(default_factory=dict)  # "priya shah" -> first in by_length
    longest: int = 0  # most words in a name
    spellings: list[str] = field(default_factory=list)  # `spelled`'s keys, for fuzzy matching

    @classmethod
    def of(
        cls, people: list[PersonRecord], cards: list[Card], clients: list[ClientRecord]
    ) -> _Names:
        by_length: list[tuple[str, PersonRecord]] = []
        by_last: dict[str, list[PersonRecord]] = defaultdict(list)
        by_first: dict[str, list[PersonRecord]] = defaultdict(list)
        spelled: dict[str, PersonRecord] = {}
        for person in sorted(people, key=lambda p: -len(p.name)):
            said = words(person.name)
            by_length.append((f" {' '.join(said)} ", person))
            if said:
                by_last[said[-1]].append(person)
                by_first[said[0]].append(person)
        for person in people:
            spelled[" ".join(words(person.name))] = person
        names = {c.team for c in cards} | {p.team for p in people}
        teams = [(t, f" {' '.join(words(t))} ") for t in sorted(names, key=len, reverse=True) if t]
        rank: dict[str, int] = {}
        for n, (said_name, _) in enumerate(by_length):
            if said_name.strip():
                rank.setdefault(said_name.strip(), n)
        longest = max((len(name.split()) for name in rank), default=0)
        found = cls(by_length, by_last, by_first, spelled, teams, _spelled_clients(clients))
        found.rank, found.longest, found.spellings = rank, longest, list(spelled)
        return found


def _spelled_clients(clients: Sequence[ClientRecord]) -> list[tuple[str, ClientRecord]]:
    """(" name or alias ", client) for every way of writing each client."""
    return [
        (f" {' '.join(words(name))} ", client)
        for client in clients
        for name in (client.name, *client.aliases)
        if words(name)
    ]


def _parts(
    query: dict[str, float], stems: list[str], synonyms: dict[str, set[str]]
) -> list[dict[str, float]]:
    """The query in one part per word asked: its stem, its glossary equivalents and its
    relatives, each term in the first part that has it. A word's part recurs from question
    to question, so the index keeps its sum rather than adding its terms every time."""
    parts: list[dict[str, float]] = []
    claimed: set[str] = set()
    for term in dict.fromkeys(stems):
        part = {t: query[t] for t in (term, *synonyms.get(term, ())) if t not in claimed}
        claimed.update(part)
        parts.append(part)
    rest = {t: w for t, w in query.items() if t not in claimed}  # none, as built: kept whole
    return [*parts, rest] if rest else parts


def _holds(docs: np.ndarray, doc: int) -> bool:
    """Whether the sorted `docs` hold `doc` (one binary search)."""
    at = int(np.searchsorted(docs, doc))
    return at < len(docs) and int(docs[at]) == doc


def _intentions(said: list[str]) -> list[str]:
    """Drop the verbs of intention: 'planning to sign' is about signing, not planning."""
    return [
        w
        for n, w in enumerate(said)
        if not (w in _INTENT and n + 1 < len(said) and said[n + 1] == "to")
    ]


_INTENT = frozenset("planning plans plan planned hoping trying going intending aiming".split())


def _name_matcher(
    cards: Sequence[Card], frequency: Callable[[str], int]
) -> tuple[PhraseMatcher, list[np.ndarray], list[tuple[str, ...]], dict[str, str]]:
    """Every distinct title and alias as phrases of stems, for each phrase the cards that
    have it and the name's words, and the names written as one word ('buyout' for
    'buy-out', and 'buyout' itself), so that a question writing two words as one, or one
    as two, still names the card. A big firm repeats names: each is worked out once."""
    by_phrase: dict[tuple[str, ...], tuple[tuple[str, ...], list[int]]] = {}
    joined: dict[str, str] = {}
    forms_of: dict[str, tuple[tuple[str, ...], set[tuple[str, ...]]]] = {}
    for number, card in enumerate(cards):
        for name in dict.fromkeys((card.title, *card.aliases)):
            if name not in forms_of:
                forms_of[name] = _name_forms(name, joined)
            said, forms = forms_of[name]
            for form in forms:
                by_phrase.setdefault(form, (said, []))[1].append(number)
    phrases = list(by_phrase)
    holders = [distinct(np.asarray(by_phrase[p][1], dtype=np.intp)) for p in phrases]
    # each name filed under its rarest term on the cards: a question's common word ('law')
    # then checks few names, however many cards say it
    matcher = PhraseMatcher(phrases, rarity=frequency)
    return matcher, holders, [by_phrase[p][0] for p in phrases], joined


def _name_forms(name: str, joined: dict[str, str]) -> tuple[tuple[str, ...], set[tuple[str, ...]]]:
    """A name's words, and its phrases: its stems, and all its words as one ('buyout')."""
    said = tuple(w for w in words(name) if w not in STOPWORDS)
    if not said:
        return said, set()
    whole = "".join(said)
    joined.update({whole: whole, whole + "s": whole})
    return said, {tuple(stem(w) for w in said), (whole,)}


_AMOUNT = re.compile(r"\d+(k|m|bn|pc|s|th|st|nd|rd)?")  # '25', '40k', '1990s', not 'P11D'
_CAPITALISED = re.compile(r"\b[A-Z][a-z]+\b")
# Words that carry no information about the service asked for: whose problem it is
# (nearly every question is about a client) and contractions of auxiliaries.
_FILLER = frozenset(
    "client clients customer customers cant wont dont doesnt isnt arent didnt havent hasnt "
    "shouldnt couldnt wouldnt im ive id pls plz thanks thank cheers".split()
)
_CLIENT_WORDS = frozenset(("client", "clients", "customer", "customers"))


def _make_room(memo: dict[str, Any]) -> None:
    """Empty a per-word memo that has reached MEMO_LIMIT, before adding to it."""
    if len(memo) >= MEMO_LIMIT:
        memo.clear()
