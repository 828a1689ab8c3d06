"""A generated firm for size limits: 150 service cards of about 50 KB each (deterministic)."""

from __future__ import annotations

import random
from pathlib import Path

from tests.firm import SECTIONS, Card, write_firm

CARDS = 150
TEAMS = 30
PEOPLE = 60
CARD_BYTES = 50_000
_WORDS = (
    "client board contract dispute merger audit payroll lease pension restructuring "
    "tribunal licence compliance tax relief valuation planning acquisition employment "
    "regulator insolvency trust estate shareholder finance supply technology privacy "
    "property construction charity sponsor visa customs transfer fraud investigation"
).split()


def person(n: int) -> str:
    return f"person{n}@bigfirm.example"


def _paragraph(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(_WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def _section(rng: random.Random, size: int) -> str:
    """Bullets and paragraphs (with accents, counted twice in UTF-16 like the rest)."""
    parts: list[str] = []
    while sum(len(p) + 2 for p in parts) < size:
        if rng.random() < 0.5:
            parts.append("\n".join(f"- {_paragraph(rng, rng.randint(8, 20))}" for _ in range(4)))
        else:
            parts.append(_paragraph(rng, rng.randint(60, 160)) + " Café société, naïve façade.")
    return "\n\n".join(parts)


def cards(seed: int = 150) -> dict[str, Card]:
    rng = random.Random(seed)
    made: dict[str, Card] = {}
    for n in range(CARDS):
        team = f"Team {n % TEAMS:02d}"
        owners = f"{person(n % PEOPLE)}, {person((n + 7) % PEOPLE)}"
        title = f"Service {n:03d} - {rng.choice(_WORDS)} and {rng.choice(_WORDS)} advice for groups"
        sections = [_section(rng, CARD_BYTES // len(SECTIONS)) for _ in SECTIONS]
        made[f"service-{n:03d}"] = (title, team, owners, f"topic{n:03d}", *sections)
    return made


def write(folder: Path) -> Path:
    """Write the firm's content folder (people, clients and the 150 cards) and return it."""
    people = ["email,name,team,office,title,role,slack_id,teams_id"] + [
        f"{person(n)},Person {n:02d},Team {n % TEAMS:02d},Office {n % 4},Partner,member,,"
        for n in range(PEOPLE)
    ]
    clients = ["name,aliases,sector,owner,services"] + [
        f"Client {n:02d} Ltd,Client {n:02d},sector {n},{person((n + 3) % PEOPLE)},service-{n:03d}"
        for n in range(20)
    ]
    return write_firm(folder, "\n".join(people) + "\n", "\n".join(clients) + "\n", cards())
