"""The content folder contract: every error and warning, with file and line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.catalog import ContentError, load_catalog, read_folder
from tests.conftest import SAMPLE_CONTENT
from tests.firm import copy_sample, edit, line_of

TODAY = date(2026, 11, 25)


def problems_of(folder: Path) -> list[str]:
    return [str(p) for p in read_folder(folder, today=TODAY)[1]]


def only(problems: list[str], needle: str) -> str:
    hits = [p for p in problems if needle in p]
    assert len(hits) == 1, problems
    return hits[0]


def card_problem(tmp_path: Path, written: str, instead: str, needle: str) -> tuple[Path, str]:
    """The sample firm's employment card with `written` replaced: the card, and the one
    problem naming `needle`."""
    card = copy_sample(tmp_path) / "cards" / "employment.md"
    edit(card, written, instead)
    return card, only(problems_of(card.parent.parent), needle)


def test_sample_firm_has_no_errors() -> None:
    catalog, problems = read_folder(SAMPLE_CONTENT, today=TODAY)
    assert [p for p in problems if p.level == "error"] == []
    assert len(catalog.cards) >= 12 and len(catalog.people) >= 25 and len(catalog.clients) >= 12
    assert len({c.team for c in catalog.cards}) >= 5


def test_card_sections_and_bullets_are_parsed() -> None:
    card = load_catalog(SAMPLE_CONTENT).card("employment")
    assert card is not None
    assert card.main_contact == "priya.shah@hartwellfinch.example"
    assert card.section("what_we_do")
    assert all(not q.startswith("-") for q in card.bullets("questions"))
    assert "TUPE" in card.aliases


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    folder = copy_sample(tmp_path)
    card = folder / "cards" / "employment.md"
    edit(card, "title: Employment law", "title: [Employment law")
    problem = only(problems_of(folder), "malformed YAML")
    assert problem.startswith(f"{card}:")
    assert int(problem.split(":")[1]) >= line_of(card, "title:")


@pytest.mark.parametrize("key", ["id", "title", "team", "owners"])
def test_missing_required_key(tmp_path: Path, key: str) -> None:
    folder = copy_sample(tmp_path)
    card = folder / "cards" / "employment.md"
    lines = card.read_text().splitlines()
    card.write_text("\n".join(line for line in lines if not line.startswith(f"{key}:")) + "\n")
    assert f"error: missing '{key}'" in only(problems_of(folder), f"missing '{key}'")


@pytest.mark.parametrize(
    ("written", "instead", "problem", "at"),
    [
        ("id: employment", "id: employment-law", "differs from the file name", "id:"),
        ("priya.shah@hartwellfinch.example", "ghost@hartwellfinch.example", "ghost@", "owners:"),
    ],
    ids=["id must match the file name", "unknown owner"],
)
def test_a_card_error_names_the_file_and_line(
    tmp_path: Path, written: str, instead: str, problem: str, at: str
) -> None:
    card, found = card_problem(tmp_path, written, instead, problem)
    assert found.startswith(f"{card}:{line_of(card, at)}: error")


def test_duplicate_ids(tmp_path: Path) -> None:
    folder = copy_sample(tmp_path)
    copy = folder / "cards" / "employment-copy.md"
    copy.write_text((folder / "cards" / "employment.md").read_text())
    edit(copy, "id: employment", "id: employment-copy")
    edit(folder / "cards" / "employment-copy.md", "id: employment-copy", "id: employment")
    problems = problems_of(folder)
    assert any("duplicate id 'employment'" in p for p in problems), problems


def test_duplicate_person_email(tmp_path: Path) -> None:
    folder = copy_sample(tmp_path)
    people = folder / "people.csv"
    first = people.read_text().splitlines()[1]
    people.write_text(people.read_text() + first.replace("Priya Shah", "Priya Again") + "\n")
    problem = only(problems_of(folder), "duplicate email")
    assert "people.csv:" in problem


def test_client_with_unknown_owner_and_service(tmp_path: Path) -> None:
    folder = copy_sample(tmp_path)
    clients = folder / "clients.csv"
    clients.write_text(
        clients.read_text()
        + "Ghost Owner Ltd,,retail,ghost@hartwellfinch.example,\n"
        + "Ghost Service Ltd,,retail,,no-such-card\n"
    )
    problems = problems_of(folder)
    assert "clients.csv:" in only(problems, "owner 'ghost@hartwellfinch.example'")
    assert "clients.csv:" in only(problems, "no-such-card")


def test_missing_section_is_a_warning(tmp_path: Path) -> None:
    needle = "missing section '## Questions to ask'"
    _, problem = card_problem(tmp_path, "## Questions to ask", "## Other notes", needle)
    assert ": warning:" in problem


def test_stale_card_is_a_warning(tmp_path: Path) -> None:
    needle = "employment.md:7: warning: not reviewed since 2024-01-01"
    _, problem = card_problem(tmp_path, "updated: 2026-10-14", "updated: 2024-01-01", needle)
    assert "12 months" in problem


def test_card_team_without_people_is_a_warning(tmp_path: Path) -> None:
    needle = "has nobody in people.csv"
    _, problem = card_problem(tmp_path, "team: Employment", "team: Employment Law Group", needle)
    assert ": warning:" in problem


def test_missing_people_file_and_cards(tmp_path: Path) -> None:
    (tmp_path / "cards").mkdir()
    problems = problems_of(tmp_path)
    assert any("people.csv is missing" in p for p in problems)
    assert any("no service cards" in p for p in problems)


def test_load_catalog_raises_with_every_problem(tmp_path: Path) -> None:
    folder = copy_sample(tmp_path)
    edit(folder / "cards" / "employment.md", "id: employment", "id: wrong")
    with pytest.raises(ContentError) as raised:
        load_catalog(folder)
    assert any("differs from the file name" in str(p) for p in raised.value.problems)
