"""`cards check` and `load` never crash: generated content folders, mutated every which way.

Whatever the folder holds, `read_folder` returns problems (never raises), and loading is
all or nothing: a folder with errors changes nothing, a folder without loads completely.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from bot.catalog import ContentError, has_errors, load_catalog, load_into, read_folder
from bot.store import Store
from bot.store.models import Client, Person, ServiceCard
from tests.firm import write_firm

PEOPLE = (
    "email,name,team,office,title,role,slack_id,teams_id\n"
    "ann@firm.example,Ann Lee,Tax,London,Partner,admin,U01,\n"
    "bob@firm.example,Bob Ray,Audit,Leeds,Manager,member,,T-02\n"
)
CLIENTS = (
    "name,aliases,sector,owner,services\n"
    "Acme Ltd,Acme;ACM,logistics,ann@firm.example,tax\n"
    "Bolt plc,,,bob@firm.example,\n"
)
CARDS = {
    "tax": ("Tax", "Tax", "ann@firm.example", "VAT", "Tax.", "Pos.", "- a", "- b", "- c"),
    "audit": ("Audit", "Audit", "bob@firm.example", "", "Audit.", "Pos.", "- a", "- b", "- c"),
}
FILES = ("people.csv", "clients.csv", "cards/tax.md", "cards/audit.md")

cell = st.text(st.characters(blacklist_categories=["Cs"]), max_size=12)
yaml_value = st.one_of(
    cell,
    st.sampled_from(
        [
            "2026-10-14 09:30:00",
            "2026-10-14T09:30:00Z",
            "2026-13-45",
            "[unclosed",
            "{a: 1}",
            "- x",
            "!!binary aGk=",
            "&a [*a]",
            "'",
            "~",
            "99999999999999999999",
            "ann@firm.example",
            "[ann@firm.example, bob@firm.example]",
        ]
    ),
)
front_key = st.sampled_from(["id", "title", "team", "owners", "aliases", "updated", "other", ""])
column = st.sampled_from(
    ["email", "name", "team", "role", "slack_id", "teams_id", "aliases", "owner", "services", ""]
)


@st.composite
def mutation(draw: st.DrawFn) -> tuple[str, str, object]:
    """One change to one file: (kind, file, argument)."""
    kind = draw(
        st.sampled_from(
            [
                "bytes",
                "bom",
                "directory",
                "dangling_link",
                "delete",
                "front",
                "header",
                "duplicate_column",
                "row",
                "line",
                "truncate",
            ]
        )
    )
    target = draw(st.sampled_from(FILES + ("cards",)))
    argument: object = None
    if kind == "bytes":
        argument = draw(st.binary(max_size=64))
    elif kind == "front":
        argument = (draw(front_key), draw(yaml_value))
    elif kind in ("header", "row"):
        argument = draw(st.lists(st.one_of(column, cell), max_size=9))
    elif kind == "duplicate_column":
        argument = (draw(column), draw(cell))
    elif kind == "line":
        argument = draw(st.text(max_size=30))
    elif kind == "truncate":
        argument = draw(st.integers(0, 400))
    return kind, target, argument


def apply(folder: Path, kind: str, target: str, argument: object) -> None:
    path = folder / target
    if not path.parent.is_dir() or path.parent.is_symlink():
        return  # an earlier change took the folder away
    if kind == "directory":
        _remove(path)
        (path / "inside").mkdir(parents=True)
        return
    if kind == "delete":
        _remove(path)
        return
    if kind == "dangling_link":
        _remove(path)
        path.symlink_to(folder / "nowhere")
        return
    if not path.is_file():
        return
    data = path.read_bytes()
    if kind == "bytes":
        path.write_bytes(argument)  # type: ignore[arg-type]
    elif kind == "bom":
        path.write_bytes(b"\xef\xbb\xbf" + data)
    elif kind == "truncate":
        path.write_bytes(data[: int(argument)])  # type: ignore[call-overload]
    else:
        text = data.decode("utf-8", "replace")
        path.write_text(_edit_text(text, kind, argument), encoding="utf-8")


def _edit_text(text: str, kind: str, argument: object) -> str:
    lines = text.splitlines() or [""]
    if kind == "front":
        key, value = argument  # type: ignore[misc]
        return "\n".join(lines[:1] + [f"{key}: {value}"] + lines[1:]) + "\n"
    if kind == "header":
        return "\n".join([",".join(argument)] + lines[1:]) + "\n"  # type: ignore[arg-type]
    if kind == "row":
        return text + ",".join(argument) + "\n"  # type: ignore[arg-type]
    if kind == "duplicate_column":
        name, value = argument  # type: ignore[misc]
        return "\n".join([lines[0] + f",{name}"] + [x + f",{value}" for x in lines[1:]]) + "\n"
    return "\n".join(lines[:2] + [str(argument)] + lines[2:]) + "\n"


def _remove(path: Path) -> None:
    if path.is_symlink():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def snapshot(store: Store) -> tuple[list[tuple[object, ...]], ...]:
    with store.read() as session:
        return (
            sorted(
                (p.email, p.name, p.role, p.slack_id, p.active)
                for p in session.exec(select(Person))
            ),
            sorted((c.id, c.title, c.retired) for c in session.exec(select(ServiceCard))),
            sorted((c.name, c.retired) for c in session.exec(select(Client))),
        )


@pytest.fixture(scope="module")
def store() -> Iterator[Store]:
    store = Store("sqlite://")
    with tempfile.TemporaryDirectory() as tmp, store.write() as session:
        load_into(session, load_catalog(write_firm(Path(tmp), PEOPLE, CLIENTS, CARDS)))
    yield store
    store.dispose()


def check_and_load(store: Store, changes: list[tuple[str, str, object]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_firm(Path(tmp) / "firm", PEOPLE, CLIENTS, CARDS)
        for change in changes:
            apply(folder, *change)
        catalog, problems = read_folder(folder)  # never raises
        assert all(p.level in ("error", "warning") and p.file and p.message for p in problems)
        before = snapshot(store)
        event("refused" if has_errors(problems) else "loaded")
        if has_errors(problems):
            with pytest.raises(ContentError):
                load_catalog(folder)
            assert snapshot(store) == before
            return
        with store.write() as session:
            load_into(session, catalog)
        people, cards, _ = snapshot(store)
        assert {p[0] for p in people if p[4]} == {p.email for p in catalog.people}
        assert {c[0] for c in cards if not c[2]} == {c.id for c in catalog.cards}


FAST = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FAST
@given(st.lists(mutation(), min_size=1, max_size=4))
def test_check_and_load_never_crash(store: Store, changes: list[tuple[str, str, object]]) -> None:
    check_and_load(store, changes)


@pytest.mark.slow
@settings(
    max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(mutation(), min_size=1, max_size=6))
def test_check_and_load_never_crash_thousands(
    store: Store, changes: list[tuple[str, str, object]]
) -> None:
    check_and_load(store, changes)
