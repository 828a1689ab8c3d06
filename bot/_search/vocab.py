"""Shipped vocabulary: the glossary of trade terms and the taxonomy of service areas."""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot._search.text import OWNERSHIP, PARTICLES, STOPWORDS, phrasal, stem, words

DATA = Path(__file__).resolve().parent.parent / "data"
GLOSSARY_FILE = "glossary.csv"
AREAS_FILE = "areas.yaml"


class PhraseMatcher:
    """Finds phrases in stemmed text: all of a phrase's terms close together, in any order."""

    def __init__(
        self,
        phrases: Iterable[tuple[str, ...]],
        rarity: Callable[[str], float] | None = None,
    ):
        self.phrases: list[tuple[str, ...]] = []
        # each phrase as (id, its terms for one subset test, the phrase), by one of its terms
        self._by_term: dict[str, list[tuple[int, frozenset[str], tuple[str, ...]]]] = defaultdict(
            list
        )
        # A phrase needs all its terms, so it is enough to look it up by one of them: the
        # rarest keeps the candidates few (by default the longest, usually the rarest).
        rank = rarity or (lambda term: -len(term))
        for phrase in phrases:
            pid = len(self.phrases)
            self.phrases.append(phrase)
            self._by_term[min(phrase, key=rank)].append((pid, frozenset(phrase), phrase))

    def find(self, text_terms: Sequence[str]) -> set[int]:
        """Ids of the phrases that occur in `text_terms`."""
        positions: dict[str, list[int]] = defaultdict(list)
        for i, term in enumerate(text_terms):
            positions[term].append(i)
        found: set[int] = set()
        present = set(positions)
        for term in present & self._by_term.keys():
            for pid, terms, phrase in self._by_term[term]:
                # most candidates lack a term: one subset test in C rules them out
                if terms <= present and (len(phrase) == 1 or self._near(phrase, positions)):
                    found.add(pid)
        return found

    @staticmethod
    def _near(phrase: tuple[str, ...], positions: dict[str, list[int]]) -> bool:
        """Whether the phrase's terms (all present) occur close together."""
        if len(phrase) == 1:
            return True
        window = len(phrase) + 2
        others = phrase[1:]
        return any(
            all(any(abs(q - p) <= window for q in positions[t]) for t in others)
            for p in positions[phrase[0]]
        )


@dataclass
class Glossary:
    """Groups of equivalent wordings; a question using one is also searched for the others."""

    groups: list[list[tuple[str, ...]]] = field(default_factory=list)
    words: set[str] = field(default_factory=set)

    def add(self, term: str, synonyms: Iterable[str]) -> None:
        phrases = [p for p in (_phrase(text) for text in [term, *synonyms]) if p]
        if len(phrases) > 1:
            self.groups.append(phrases)
            self.words.update(w for p in [term, *synonyms] for w in words(p))

    def matcher(
        self, rarity: Callable[[str], float] | None = None
    ) -> tuple[PhraseMatcher, list[int]]:
        """A matcher over every wording (filed by `rarity`, as `PhraseMatcher`), and for
        each phrase id the group it belongs to."""
        phrases, owner = [], []
        for gid, group in enumerate(self.groups):
            for phrase in group:
                phrases.append(phrase)
                owner.append(gid)
        return PhraseMatcher(phrases, rarity), owner


@dataclass(frozen=True)
class Area:
    """One service area (or kind of internal request) and the phrases that signal it."""

    id: str
    kind: str
    phrases: tuple[tuple[str, ...], ...]
    vocabulary: frozenset[str] = frozenset()


def load_glossary(extra: Path | None = None) -> Glossary:
    """The shipped glossary (`glossary.csv` and the markets' files in `glossary/`),
    extended by a firm's own `glossary.csv` when given."""
    glossary = Glossary()
    shipped = [DATA / GLOSSARY_FILE, *sorted((DATA / "glossary").glob("*.csv"))]
    for path in (*shipped, extra):
        if path is not None and path.is_file():
            for row in _rows(path):
                glossary.add(row[0], [s for s in row[1].split(";") if s.strip()])
    return glossary


def load_areas(extra: Path | None = None) -> list[Area]:
    """The shipped taxonomy of service areas (`areas.yaml` and the markets' files in
    `areas/`), plus a firm's own `areas.yaml` when given."""
    areas: dict[str, Area] = {}
    shipped = [DATA / AREAS_FILE, *sorted((DATA / "areas").glob("*.yaml"))]
    for path in (*shipped, extra):
        if path is None or not path.is_file():
            continue
        # libyaml's safe loader when built in: the same data, 8x faster at every start.
        text = path.read_text(encoding="utf-8")
        for entry in yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or []:
            said = [str(t) for t in entry.get("terms", [])]
            phrases = tuple(dict.fromkeys(p for p in (_phrase(t) for t in said) if p))
            vocabulary = frozenset(w for t in said for w in words(t))
            old = areas.get(str(entry["id"]))
            if old is not None:
                phrases = tuple(dict.fromkeys(old.phrases + phrases))
                vocabulary = old.vocabulary | vocabulary
            area_id = str(entry["id"])
            kind = str(entry.get("kind", "service"))
            areas[area_id] = Area(area_id, kind, phrases, vocabulary)
    return list(areas.values())


def area_words(areas: Iterable[Area]) -> set[str]:
    """Every word the taxonomy knows (so typo correction leaves them alone)."""
    return {w for area in areas for w in area.vocabulary}


def _phrase(text: str) -> tuple[str, ...]:
    """The stems of a taxonomy phrase; empty when stopwords would leave it too vague.

    'buy-in' would shrink to 'buy' and 'D&O insurance' to 'insurance', which would then
    match far more than they mean, so such phrases are dropped.
    """
    said = words(text)
    stems: list[str] = []
    dropped = 0
    for n, word in enumerate(said):
        after = said[n + 1] if n + 1 < len(said) else ""
        if after in PARTICLES and word not in STOPWORDS:
            stems.append(phrasal(word, after))  # 'lay off' is one word: 'layoff'
        elif n and word in PARTICLES and said[n - 1] not in STOPWORDS:
            continue  # joined to the word before
        elif word in OWNERSHIP or word not in STOPWORDS:
            stems.append(stem(word))
        else:
            dropped += 1
    return tuple(stems) if len(stems) > 1 or not dropped else ()


def _rows(path: Path) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        rows = [r for r in reader if len(r) >= 2 and r[0].strip()]
    if rows and rows[0][0].strip().lower() == "term":
        rows = rows[1:]
    return [(r[0].strip(), r[1].strip()) for r in rows]
