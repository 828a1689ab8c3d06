"""Teams and services named as the receiver: "the tax folks", "-> Cyber", "someone in Audit".

Every card title, alias and team name is indexed once by its first stemmed word, so finding
them costs a dictionary lookup per word of the message, whatever the size of the firm.
Plurals and spellings fold together through search's pipeline ("wills people", "wage &
hour team", "the HSR people").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from bot._search.text import fold, stem

if TYPE_CHECKING:
    from bot._understand.directory import Directory

_TEAM_WORDS = frozenset(
    "team teams lot people folks department dept practice guys colleagues group side crew "
    "desk unit experts specialists".split()
)
_ASKERS = frozenset("someone somebody anyone partner colleague".split())
_ARROWS = ("->", "→", "=>")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*|&|->|→|=>|[,.;:!?()]")
_AFTER_TO = frozenset("for re about regarding on".split())
_NOT_A_TEAM = re.compile(r"\b(?:my|our|their|your|his|her)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class _TeamHit:
    team: str
    card: str | None
    start: int
    end: int


@dataclass(frozen=True)
class _Word:
    stem: str
    folded: str
    start: int
    end: int


@dataclass(frozen=True)
class _Name:
    stems: tuple[str, ...]
    team: str
    card: str | None


class TeamNames:
    """Every way a team or a service is named, by first stem, longest first."""

    def __init__(self, directory: Directory):
        names: list[tuple[str, str, str | None]] = []
        for card in directory.cards:
            names += [(form, card.team, card.id) for form in (card.title, *card.aliases)]
        teams = directory.teams()
        # each team's own card, by one pass over the cards (not one per team)
        self.team_card = _team_cards(teams, directory)
        names += [(team, team, self.team_card[team]) for team in teams]
        # a trie of stems: a node's "" entry is the first name ending there (a card's wins)
        self._trie: dict[str, Any] = {}
        stems_of: dict[str, tuple[str, ...]] = {}  # a big firm's titles repeat: each read once
        for form, team, card_id in names:
            stems = stems_of.get(form)
            if stems is None:
                stems = stems_of[form] = tuple(
                    w.stem for w in _words(form) if w.stem not in ("", "and")
                )
            if stems:
                node = self._trie
                for part in stems:
                    node = node.setdefault(part, {})
                node.setdefault("", _Name(stems, team, card_id))
        self.first_stems = self._trie.keys()  # the first words of every name
        # a team named by one of its words alone ("the audit team" for Audit & Assurance)
        by_word: dict[str, set[str]] = {}
        for team in teams:
            for word in _words(team):
                if word.stem and word.stem != "and":
                    by_word.setdefault(word.stem, set()).add(team)
        self.team_by_word = {w: next(iter(t)) for w, t in by_word.items() if len(t) == 1}
        self.first_words = [(_words(team)[0].folded, team) for team in teams if _words(team)]

    def at(self, words: list[_Word], index: int) -> tuple[_Name, int] | None:
        """The longest name starting at words[index], and the index just after it."""
        found: tuple[_Name, int] | None = None
        node: dict[str, Any] | None = self._trie
        for position in range(index, len(words)):
            stem_ = words[position].stem
            if not stem_:  # "" marks a name's end, never a word
                break
            node = node.get(stem_) if node is not None else None
            if node is None:
                break
            if "" in node:
                found = node[""], position + 1
        return found


def _words(text: str) -> list[_Word]:
    return [_Word(*_spelled(m.group()), *m.span()) for m in _WORD.finditer(text)]


@lru_cache(maxsize=100_000)
def _spelled(raw: str) -> tuple[str, str]:
    """(stem, folded) of one word as written: a firm's names share a small vocabulary, so
    each word is folded and stemmed once (indexing 20,000 cards' names meets it again and
    again)."""
    folded = "and" if raw == "&" else fold(raw).replace("'", "")
    return (stem(folded) if folded.isalnum() else folded), folded


def may_name_a_team(text: str, directory: Directory) -> bool:
    """Whether some word of `text` could start a team or service name (a superset of what
    `_find_team` finds with a team or card): dictionary look-ups, no parse."""
    names: TeamNames = directory._index.team_names
    for word in _words(text):
        if word.stem in names.first_stems or word.stem in names.team_by_word:
            return True
        if word.folded in _TEAM_WORDS:  # "the new folks" may take the card's team
            return True
        if _starts_a_team(word.folded, names):
            return True
    return False


def _starts_a_team(folded: str, names: TeamNames) -> bool:
    """ "Cyber" for Cyber Security: what `_prefix_team` may read as a team."""
    if len(folded) < 4 or not folded.isalpha():
        return False
    return any(first.startswith(folded) for first, _ in names.first_words)


def _find_team(text: str, directory: Directory) -> _TeamHit | None:
    """'the real estate team', 'H&S team', 'someone in Corporate Tax', '-> Cyber'."""
    names: TeamNames = directory._index.team_names
    words = _words(text)
    for index in range(len(words)):
        found = names.at(words, index)
        if found is None:
            continue
        name, end = found
        span = _receiver_span(words, index, end)
        if span is not None:
            return _TeamHit(name.team, name.card, *span)
    return _prefix_team(words, names) or _loose_team(text, words, names)


def _receiver_span(words: list[_Word], index: int, end: int) -> tuple[int, int] | None:
    """Where the name at words[index:end] is where the client is sent, the whole phrase."""
    start = index - 1 if index and words[index - 1].folded == "the" else index
    after = words[end].folded if end < len(words) else ""
    before = words[start - 1].folded if start else ""
    if after in _TEAM_WORDS:  # "the tax folks"
        return words[start].start, words[end].end
    if before in ("in", "from", "on") and start >= 2 and words[start - 2].folded in _ASKERS:
        return words[start - 2].start, words[end - 1].end  # "someone in Tax"
    closes = after in ("", ",", ".", ";", ":", "!", "?", "(") or after in _AFTER_TO
    if closes and (before == "to" or before in _ARROWS):  # "to Tax", "-> Tax"
        return words[start - 1].start, words[end - 1].end
    return None


def _prefix_team(words: list[_Word], names: TeamNames) -> _TeamHit | None:
    """ "-> Cyber": one word after an arrow or "to" that starts just one team's name."""
    for index in range(1, len(words)):
        word = words[index]
        closes = index + 1 == len(words) or words[index + 1].folded in (",", ".", ";", "!", "?")
        if not (closes and word.folded.isalpha() and len(word.folded) >= 4):
            continue
        if words[index - 1].folded not in (*_ARROWS, "to"):
            continue
        teams = {t for first, t in names.first_words if first.startswith(word.folded)}
        if len(teams) == 1:
            team = teams.pop()
            return _TeamHit(team, names.team_card[team], words[index - 1].start, word.end)
    return None


def _loose_team(text: str, words: list[_Word], names: TeamNames) -> _TeamHit | None:
    """ "the audit folks": a team word after one or two words, one of which names a team."""
    for index, word in enumerate(words):
        if word.folded not in _TEAM_WORDS or index == 0:
            continue
        first = max(0, index - 2)
        if not words[index - 1].folded.isalnum():
            continue
        while first < index - 1 and not words[first].folded.isalnum():
            first += 1
        start = first - 1 if first and words[first - 1].folded == "the" else first
        if _NOT_A_TEAM.search(text[: words[start].start]):
            continue
        teams = {
            names.team_by_word[w.stem] for w in words[first:index] if w.stem in names.team_by_word
        }
        if len(teams) == 1:
            team = teams.pop()
            return _TeamHit(team, names.team_card[team], words[start].start, word.end)
        return _TeamHit("", None, words[start].start, word.end)  # a team we can't name yet
    return None


def _bare_team(slot: str, directory: Directory) -> _TeamHit | None:
    """A receiver slot that is just a team or a service: `/refer Acme to Tax`."""
    hit = _find_team("to " + slot.lstrip(), directory)
    if hit is None or hit.start != 0 or not hit.team:
        return None
    shift = 3 - (len(slot) - len(slot.lstrip()))  # offsets back into `slot`
    return _TeamHit(hit.team, hit.card, max(0, hit.start - shift), max(0, hit.end - shift))


def _team_cards(teams: list[str], directory: Directory) -> dict[str, str | None]:
    """Each team's card named after the team ("Employment" → "Employment law"), if just one."""
    named: dict[str, list[str]] = {team.lower(): [] for team in teams}
    for card in directory.cards:
        team = card.team.lower()
        if team in named and card.title.lower().startswith(team):
            named[team].append(card.id)
    one = {team: ids[0] for team, ids in named.items() if len(ids) == 1}
    return {team: one.get(team.lower()) for team in teams}
