"""Loading a large firm (`pytest -m slow`): progress is shown and a reload updates in place."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlmodel import func, select

from bot.store import Store
from bot.store.models import Person, ServiceCard
from tests.test_cli import crossbot

pytestmark = pytest.mark.slow

CARD = """---
id: service-{n}
title: Service {n}
team: Team {team}
owners: [person{owner}@bigfirm.example]
updated: 2026-06-01
---
## What we do
We advise on matter type {n}.

## How to position us
As the specialists for matter type {n}.

## Clients we want
- Clients with matter type {n}

## Situations to look out for
- A client mentions matter type {n}

## Questions to ask
- Have you had a matter of type {n}?
"""


def write_firm(folder: Path, cards: int, people: int, title_suffix: str = "") -> None:
    (folder / "cards").mkdir(parents=True, exist_ok=True)
    for n in range(cards):
        text = CARD.format(n=n, team=n % 40, owner=n % people)
        (folder / "cards" / f"service-{n}.md").write_text(
            text.replace(f"title: Service {n}", f"title: Service {n}{title_suffix}")
        )
    rows = ["email,name,team,office"] + [
        f"person{n}@bigfirm.example,Person {n},Team {n % 40},Office {n % 5}" for n in range(people)
    ]
    (folder / "people.csv").write_text("\n".join(rows) + "\n")


def test_large_folder_loads_with_progress_and_reloads_in_place(tmp_path: Path) -> None:
    folder = tmp_path / "big"
    write_firm(folder, cards=2000, people=5000)
    url = os.environ.get("CROSSBOT_TEST_SCALE_URL", f"sqlite:///{tmp_path / 'big.db'}")
    env = {"CROSSBOT_DATABASE_URL": url}
    first = crossbot("load", str(folder), cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    assert "cards: 2000/2000" in first.stderr and "people: 5000/5000" in first.stderr

    (folder / "cards" / "service-1999.md").unlink()
    write_firm(folder, cards=1999, people=5000, title_suffix=" (revised)")
    second = crossbot("load", str(folder), cwd=tmp_path, env=env)
    assert second.returncode == 0, second.stderr
    assert "updated: 1999 cards" in second.stdout and "1 cards" in second.stdout
    with Store(url).read() as session:
        assert session.exec(select(func.count()).select_from(ServiceCard)).one() == 2000
        assert session.get(ServiceCard, "service-1999").retired  # type: ignore[union-attr]
        assert session.exec(select(func.count()).select_from(Person)).one() == 5000
