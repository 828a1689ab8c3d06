"""Build small content folders for tests: a copy of the sample firm, edited in place."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

from tests.conftest import SAMPLE_CONTENT

SECTIONS = (
    "What we do",
    "How to position us",
    "Clients we want",
    "Situations to look out for",
    "Questions to ask",
)
# A card as (title, team, owners, aliases, *the text of each of SECTIONS in order);
# owners and aliases are written inside [...] as given ("a@x, b@x").
Card = tuple[str, ...]


def copy_sample(tmp_path: Path) -> Path:
    """A writable copy of the sample firm's content folder."""
    folder = tmp_path / "firm"
    shutil.copytree(SAMPLE_CONTENT, folder)
    return folder


def write_firm(folder: Path, people: str, clients: str, cards: Mapping[str, Card]) -> Path:
    """Write a content folder from scratch: people.csv, clients.csv and cards/; return it."""
    (folder / "cards").mkdir(parents=True, exist_ok=True)
    (folder / "people.csv").write_text(people, encoding="utf-8")
    (folder / "clients.csv").write_text(clients, encoding="utf-8")
    for card_id, (title, team, owners, aliases, *sections) in cards.items():
        body = "\n\n".join(f"## {h}\n{text}" for h, text in zip(SECTIONS, sections, strict=True))
        (folder / "cards" / f"{card_id}.md").write_text(
            f"---\nid: {card_id}\ntitle: {title}\nteam: {team}\nowners: [{owners}]\n"
            f"aliases: [{aliases}]\n---\n# {title}\n\n{body}\n",
            encoding="utf-8",
        )
    return folder


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, 1) if needle in line)


def drop_card(folder: Path, card_id: str) -> None:
    """Remove a card and every client's mention of it."""
    (folder / "cards" / f"{card_id}.md").unlink()
    clients = folder / "clients.csv"
    lines = clients.read_text(encoding="utf-8").splitlines()
    kept = [lines[0]] + [_without_service(line, card_id) for line in lines[1:]]
    clients.write_text("\n".join(kept) + "\n", encoding="utf-8")


def _without_service(line: str, card_id: str) -> str:
    *head, services = line.rsplit(",", 1)
    remaining = ";".join(s for s in services.split(";") if s != card_id)
    return ",".join([*head, remaining])


def drop_person(folder: Path, email: str) -> None:
    """Remove a person from people.csv, from card owners and as client owner."""
    people = folder / "people.csv"
    lines = people.read_text(encoding="utf-8").splitlines()
    people.write_text("\n".join(x for x in lines if not x.startswith(email)) + "\n")
    for card in (folder / "cards").glob("*.md"):
        text = card.read_text(encoding="utf-8")
        text = text.replace(f", {email}", "").replace(f"{email}, ", "")
        card.write_text(text, encoding="utf-8")
    clients = folder / "clients.csv"
    clients.write_text(clients.read_text(encoding="utf-8").replace(email, ""), encoding="utf-8")
