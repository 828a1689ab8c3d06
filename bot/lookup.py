"""Questions about a person, team or client the firm doesn't have, and an office asked for.

`unknown_name` spots "who looks after Zebra Widgets?", "what does the Marketing team do?"
and "who is Bob Nobody?" when no such client, team or person exists, so who-does can say so
(with close matches) instead of answering with a card. `office_asked` finds the office in
"who does employment law in London?", so the people named can be that office's. Both need
only an index's cards, people, clients and `find_*` look-ups, so search can use them too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from rapidfuzz import fuzz, process

if TYPE_CHECKING:  # bot.search may call this module, so it is not imported at run time
    from bot.search import SearchIndex

Kind = Literal["person", "team", "client"]

_NAME = r"(?P<name>[^?!.]{2,80}?)"
_END = r"\s*[?!.]*\s*$"
_CLIENT_QUESTIONS = [
    re.compile(
        r"\b(?:look(?:s|ing)? after|owns?|knows?|acts? for|works? (?:for|with)|"
        r"(?:relationship|client|account) (?:partner|owner|lead|manager)s? (?:for|of|on)|"
        r"responsible for)\s+" + _NAME + _END,
        re.I,
    ),
    re.compile(r"^(?:is|are)\s+" + _NAME + r"\s+(?:a|an|our|one of our)\s+clients?" + _END, re.I),
]
_TEAM_QUESTION = re.compile(
    r"^(?:what (?:does|do|can)|who(?:'s|’s| is| are)? (?:in|on|runs|leads|heads)|"
    r"tell me about|is there|do we have|how do i (?:reach|contact)|who do i ask in)\s+"
    r"(?:the|our|your|a|an)\s+(?P<name>[\w&'’ -]{2,40}?)\s+"
    r"(?:team|department|dept|practice|desk)s?\b",
    re.I,
)
_PERSON_QUESTION = re.compile(
    r"^(?:who(?:'s|’s| is)|tell me about|what does|what do you know about|"
    r"how (?:do|can) i (?:reach|contact)|contact details for|who knows)\s+"
    r"(?P<name>[A-Z][\w'’-]+(?:\s+[A-Z][\w'’-]+){1,2})(?:\s+do)?" + _END
)
_COMPANY = re.compile(
    r"\b(?:ltd|limited|plc|llp|llc|inc|corp|gmbh|pty|holdings|group|& co|and co|partners)\b\.?$",
    re.I,
)
_CONNECTORS = frozenset("& and of the de la von van du".split())
_SUGGEST_CUTOFF = 80.0


@dataclass(frozen=True)
class Unknown:
    """A person, team or client a question names that the firm doesn't have."""

    kind: Kind
    name: str
    suggestions: list[str] = field(default_factory=list)


def unknown_name(question: str, index: SearchIndex) -> Unknown | None:
    """The unknown person, team or client the question is about, if that's what it is."""
    text = question.strip()
    for pattern in _CLIENT_QUESTIONS:
        match = pattern.search(text)
        if match and index.find_client(text) is None:
            name = _clean(match["name"])
            if _looks_like_a_company(name) and not _names_known_things(name, index):
                return Unknown("client", name, _suggest(name, _client_names(index)))
    match = _TEAM_QUESTION.search(text)
    if match and index.find_team(text) is None:
        name = _clean(match["name"])
        if name and not _names_known_things(name, index, aliases=False):
            return Unknown("team", name, _suggest(name, sorted({c.team for c in index.cards})))
    match = _PERSON_QUESTION.match(text)
    if match and index.find_person(text) is None:
        name = _clean(match["name"])
        if not _names_known_things(name, index) and index.find_client(text) is None:
            return Unknown("person", name, _people_like(name, index))
    return None


def office_asked(question: str, offices: list[str]) -> tuple[str, str] | None:
    """(office, the question without it) for "who does X in Leeds?" or "who in Leeds does
    X?"; None without one. An office mid-sentence ("TUPE in Leeds for a big client") may be
    the client's place rather than the asker's wish, so it is left to search."""
    for office in sorted(offices, key=len, reverse=True):
        place = (
            rf"\s*\b(?:in|at|from|based in|out of)\s+(?:the\s+|our\s+)?{re.escape(office)}"
            r"(?:\s+office)?\b"
        )
        pattern = re.compile(rf"{place}(?=\s*[?!.]*\s*$)|(?<=^who){place}", re.I)
        match = pattern.search(question.strip())
        if match:
            question = question.strip()
            rest = (question[: match.start()] + question[match.end() :]).strip()
            return office, rest
    return None


def _clean(name: str) -> str:
    name = re.sub(r"^(?:the|our)\s+", "", name.strip(), flags=re.I)
    return re.sub(r"['’]s$", "", name).strip(" ,;:")


def _looks_like_a_company(name: str) -> bool:
    """Written like a proper name ("Zebra Widgets", "Smith & Co Ltd"), not a service
    ("employment law") or an acronym a card may use ("TUPE")."""
    if _COMPANY.search(name):
        return True
    words = [w for w in name.split() if w.casefold() not in _CONNECTORS]
    if not words or len(words) > 6:
        return False
    if len(words) == 1 and words[0].isupper():
        return False
    return all(w[:1].isupper() or w[:1].isdigit() for w in words)


def _names_known_things(name: str, index: SearchIndex, aliases: bool = True) -> bool:
    """Whether the words are a card's, a team's or an office's (then search answers).

    A team asked about is taken for a card's only by its title ("the property team"): an
    alias such as "direct marketing" does not make a Marketing team."""
    said = _words(name)
    if not said:
        return True
    for card in index.cards:
        for known in (card.title, card.team, *(card.aliases if aliases else ())):
            if said <= _words(known) or _words(known) <= said:
                return True
    return any(said & _words(office) for office in index.offices())


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[\w&]+", text.casefold()) if w not in _CONNECTORS}


def _client_names(index: SearchIndex) -> dict[str, str]:
    """Every way of naming a client -> its name."""
    return {spelled: c.name for c in index.clients for spelled in (c.name, *c.aliases) if spelled}


def _suggest(name: str, choices: dict[str, str] | list[str]) -> list[str]:
    """Up to three names close to `name` (a company's "Ltd" or "Group" doesn't count)."""
    spelled = choices if isinstance(choices, dict) else {c: c for c in choices}
    plain = {_plain_name(choice): choice for choice in spelled}
    found = process.extract(
        _plain_name(name),
        [p for p in plain if p],
        scorer=fuzz.token_set_ratio,
        score_cutoff=_SUGGEST_CUTOFF,
        limit=6,
    )
    names: list[str] = []
    for choice, _, _ in found:
        full = spelled[plain[choice]]
        if full not in names:
            names.append(full)
    return names[:3]


def _plain_name(name: str) -> str:
    return " ".join(w for w in re.findall(r"\w+", name.casefold()) if w not in _SUFFIXES)


_SUFFIXES = frozenset(
    "ltd limited plc llp llc inc corp gmbh pty holdings group co and the partners".split()
)


def _people_like(name: str, index: SearchIndex) -> list[str]:
    """People with a name close to it, or the same first or last name."""
    said = name.casefold().split()
    same = [
        p.name
        for p in index.people
        if (parts := p.name.casefold().split()) and (parts[0] == said[0] or parts[-1] == said[-1])
    ]
    close = _suggest(name, sorted({p.name for p in index.people}))
    return list(dict.fromkeys(close + same))[:3]
