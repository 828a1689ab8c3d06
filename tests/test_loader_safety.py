"""The loader refuses dangerous or ambiguous content, and never crashes on what it refuses."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

from sqlmodel import select

from bot.catalog import load_catalog, load_into, read_folder
from bot.store import Store
from bot.store.models import Person
from tests.conftest import SAMPLE_CONTENT
from tests.firm import copy_sample, edit, line_of
from tests.test_cli import crossbot

TODAY = date(2026, 11, 25)
PEOPLE_HEADER = "email,name,team,office,title,role,slack_id,teams_id"


def problems_of(folder: Path) -> list[str]:
    return [str(p) for p in read_folder(folder, today=TODAY)[1]]


def errors_of(folder: Path) -> list[str]:
    return [p for p in problems_of(folder) if ": error: " in p]


def only(problems: list[str], needle: str) -> str:
    hits = [p for p in problems if needle in p]
    assert len(hits) == 1, problems
    return hits[0]


def _append_column(path: Path, header: str, value: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    lines = [lines[0] + f",{header}"] + [line + f",{value}" for line in lines[1:]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_a_second_role_column_is_an_error_not_42_admins(tmp_path: Path) -> None:
    folder = copy_sample(tmp_path)
    _append_column(folder / "people.csv", "role", "admin")
    problem = only(errors_of(folder), "duplicate column")
    assert problem.startswith(f"{folder / 'people.csv'}:1: error:") and "'role'" in problem
    checked = crossbot("cards", "check", str(folder), cwd=tmp_path)
    assert checked.returncode == 1 and "ready to load" not in checked.stdout


def test_a_duplicate_column_in_clients_is_an_error(tmp_path: Path) -> None:
    folder = copy_sample(tmp_path)
    _append_column(folder / "clients.csv", "Owner", "")
    assert only(errors_of(folder), "duplicate column").startswith(f"{folder / 'clients.csv'}:1:")


def test_duplicate_slack_and_teams_ids_are_errors_with_both_lines(tmp_path: Path) -> None:
    folder = copy_sample(tmp_path)
    people = folder / "people.csv"
    edit(
        people,
        "Legal Director,member,,",
        "Legal Director,member,U04PSH7K2QX,5B7E2C1A-9D43-4F6E-8A21-3C0F9E7D4B18",
    )
    owen = line_of(people, "owen.gallagher")
    slack = only(errors_of(folder), "slack_id")
    teams = only(errors_of(folder), "teams_id")
    for problem in (slack, teams):
        assert problem.startswith(f"{people}:{owen}: error:")
        assert f"line {line_of(people, 'priya.shah')}" in problem


def test_a_client_named_like_another_clients_alias_is_a_warning(tmp_path: Path) -> None:
    folder = copy_sample(tmp_path)
    clients = folder / "clients.csv"
    with clients.open("a", encoding="utf-8") as handle:
        handle.write("Acme,,haulage,,\n")
    problem = only(problems_of(folder), "alias")
    assert problem.startswith(f"{clients}:{line_of(clients, 'Acme,,haulage')}: warning:")
    assert "Acme Logistics plc" in problem


def test_a_datetime_in_updated_is_taken_as_its_date(tmp_path: Path) -> None:
    folder = copy_sample(tmp_path)
    card = folder / "cards" / "employment.md"
    text = card.read_text(encoding="utf-8")
    for written in ("2026-10-14 09:30:00", "'2026-10-14 09:30:00'", "2026-10-14T09:30:00Z"):
        card.write_text(re.sub(r"(?m)^updated:.*$", f"updated: {written}", text), encoding="utf-8")
        catalog, problems = read_folder(folder, today=TODAY)
        assert not [
            str(p) for p in problems if "employment.md" in p.file and "updated" in p.message
        ]
        employment = catalog.card("employment")
        assert employment is not None and employment.updated == date(2026, 10, 14), written
        assert type(employment.updated) is date


def test_a_byte_order_mark_is_accepted_in_every_file(tmp_path: Path) -> None:
    folder = copy_sample(tmp_path)
    for path in [folder / "people.csv", folder / "clients.csv", *(folder / "cards").glob("*.md")]:
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert errors_of(folder) == []
    assert load_catalog(folder).card("employment") is not None


def test_a_folder_where_a_file_should_be_is_an_error_naming_it(tmp_path: Path) -> None:
    for relative in ("people.csv", "clients.csv", "cards/employment.md"):
        folder = copy_sample(tmp_path / relative.replace("/", "-"))
        path = folder / relative
        path.unlink()
        (path / "inside").mkdir(parents=True)
        problem = only(errors_of(folder), "is a folder, not")
        assert problem.startswith(f"{path}: error:"), problem
        checked = crossbot("cards", "check", str(folder), cwd=tmp_path)
        assert checked.returncode == 1 and "Traceback" not in checked.stderr


def test_a_file_where_the_cards_folder_should_be_is_an_error(tmp_path: Path) -> None:
    folder = copy_sample(tmp_path)
    shutil.rmtree(folder / "cards")
    (folder / "cards").write_text("not a folder\n", encoding="utf-8")
    assert only(errors_of(folder), "not a folder").startswith(f"{folder / 'cards'}: error:")


def test_files_that_are_not_utf8_are_errors_naming_them(tmp_path: Path) -> None:
    folder = copy_sample(tmp_path)
    for path in (folder / "people.csv", folder / "clients.csv", folder / "cards" / "employment.md"):
        path.write_bytes(path.read_bytes().replace(b"a", b"\xe9\xff", 1))
    errors = errors_of(folder)
    for name in ("people.csv", "clients.csv", "employment.md"):
        assert any(name in e.split(":")[0] and "UTF-8" in e for e in errors), (name, errors)


def test_a_slack_id_given_to_someone_else_leaves_the_person_who_learnt_it(
    store: Store, tmp_path: Path
) -> None:
    folder = copy_sample(tmp_path)
    with store.write() as session:
        load_into(session, load_catalog(folder))
        owen = session.exec(select(Person).where(Person.name == "Owen Gallagher")).one()
        owen.slack_id = "U0LEARNT1"  # learnt at first contact; people.csv leaves it blank
    edit(
        folder / "people.csv",
        "Bethan Morris,Employment,Bristol,Senior Associate,member,,",
        "Bethan Morris,Employment,Bristol,Senior Associate,member,U0LEARNT1,",
    )
    with store.write() as session:
        load_into(session, load_catalog(folder))
    with store.read() as session:
        holders = session.exec(select(Person.name).where(Person.slack_id == "U0LEARNT1")).all()
        assert holders == ["Bethan Morris"]


def test_an_unreadable_people_file_is_one_error_not_one_per_card_owner(tmp_path: Path) -> None:
    folder = copy_sample(tmp_path)
    _append_column(folder / "people.csv", "role", "admin")
    assert len(errors_of(folder)) == 1
    assert not [p for p in problems_of(folder) if "people.csv" in p and "people.csv:" not in p]


def test_a_card_that_cannot_be_read_is_an_error_naming_it(tmp_path: Path) -> None:
    folder = copy_sample(tmp_path)
    broken = folder / "cards" / "gone.md"
    broken.symlink_to(tmp_path / "nowhere.md")  # a dangling link: listed, but unreadable
    problem = only(errors_of(folder), "gone.md")
    assert problem.startswith(f"{broken}: error: cannot be read")


def test_control_characters_and_data_marks_are_dropped_from_content(tmp_path: Path) -> None:
    """Content can't smuggle in bot.render's private-use data marks or control characters."""
    folder = tmp_path / "firm"
    shutil.copytree(SAMPLE_CONTENT, folder)
    people = folder / "people.csv"
    lines = people.read_text(encoding="utf-8").splitlines()
    header, first, *rest = lines
    cells = first.split(",")
    cells[1] = "\ue000" + cells[1] + "\x00\ue001"
    people.write_text("\n".join([header, ",".join(cells), *rest]) + "\n", encoding="utf-8")
    card = sorted((folder / "cards").glob("*.md"))[0]
    card.write_text(
        card.read_text(encoding="utf-8").replace("## What we do\n", "## What we do\n\ue002\x07"),
        encoding="utf-8",
    )
    catalog, problems = read_folder(folder)
    assert not [p for p in problems if p.level == "error"]
    texts = [p.name for p in catalog.people] + [
        t for c in catalog.cards for t in c.sections.values()
    ]
    assert not any(ch in t for t in texts for ch in "\ue000\ue001\ue002\x00\x07")
