"""Teams and services named as the receiver: 'the tax folks', '-> Cyber', 'someone in Audit'."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot._understand.clients import _loose

if TYPE_CHECKING:
    from bot._understand.directory import Directory


_TEAM_WORDS = r"team|lot|people|folks|department|dept|practice|guys|colleagues"


@dataclass(frozen=True)
class _TeamHit:
    team: str
    card: str | None
    start: int
    end: int


def _find_team(text: str, directory: Directory) -> _TeamHit | None:
    """'the real estate team', 'H&S team', 'someone in Corporate Tax'."""
    for patterns, team, card_id in directory._index.team_patterns:
        for pattern in patterns:
            match = pattern.search(text)
            if match:
                return _TeamHit(team, card_id, match.start(), match.end())
    match = re.search(rf"\b(?:the\s+)?([A-Za-z&]+(?:\s+[A-Za-z&]+)?)\s+(?:{_TEAM_WORDS})\b", text)
    if match and not re.search(r"\b(?:my|our|their|your|his|her)\s*$", text[: match.start()]):
        return _TeamHit("", None, match.start(), match.end())  # a team we can't name yet
    return None


def _bare_team(slot: str, directory: Directory) -> _TeamHit | None:
    """A receiver slot that is just a team or a service: `/refer Acme to Tax`."""
    hit = _find_team("to " + slot.lstrip(), directory)
    if hit is None or hit.start != 0 or not hit.team:
        return None
    shift = 3 - (len(slot) - len(slot.lstrip()))  # offsets back into `slot`
    return _TeamHit(hit.team, hit.card, max(0, hit.start - shift), max(0, hit.end - shift))


def team_patterns(
    directory: Directory,
) -> list[tuple[tuple[re.Pattern[str], ...], str, str | None]]:
    """How a team or a service is named as a receiver, longest name first."""
    names: list[tuple[str, str, str | None]] = []
    for card in directory.cards:
        names += [(form, card.team, card.id) for form in (card.title, *card.aliases)]
    names += [(team, team, _team_card(team, directory)) for team in directory.teams()]
    names.sort(key=lambda n: len(n[0]), reverse=True)  # stable: a card's name wins a tie
    compiled = []
    for form, team, card_id in names:
        name = _loose(form)
        patterns = (
            rf"\b(?:the\s+)?{name}\s+(?:{_TEAM_WORDS})\b",
            rf"\b(?:someone|somebody|anyone|a partner|a colleague)\s+(?:in|from)\s+"
            rf"(?:the\s+)?{name}\b",
            rf"\bto\s+(?:the\s+)?{name}(?=\s*(?:$|[,.;:!?(]|\s(?:for|re|about)\b))",
        )
        compiled.append((tuple(re.compile(p, re.IGNORECASE) for p in patterns), team, card_id))
    return compiled


def _team_card(team: str, directory: Directory) -> str | None:
    """The team's card named after the team ("Employment" → "Employment law"), if just one."""
    named = [
        c.id
        for c in directory.cards
        if c.team.lower() == team.lower() and c.title.lower().startswith(team.lower())
    ]
    return named[0] if len(named) == 1 else None
