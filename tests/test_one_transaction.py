"""`Store.one_transaction`: a turn's writes commit together, or not at all."""

from __future__ import annotations

import pytest
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from bot.store import Store
from bot.store.models import Team

pytestmark = pytest.mark.postgres  # also on PostgreSQL under -m slow


def _teams(store: Store) -> list[str]:
    with store.read() as session:
        return sorted(t.name for t in session.exec(select(Team)))


def test_writes_commit_together_at_the_end_and_reads_see_them_before(store: Store) -> None:
    with store.one_transaction() as turn:
        with store.write() as session:
            session.add(Team(name="Tax"))
        with store.write() as session:
            session.add(Team(name="Audit"))
        assert turn.began
        assert _teams(store) == ["Audit", "Tax"]  # this block reads what it wrote

    assert _teams(store) == ["Audit", "Tax"]


def test_a_failing_write_is_undone_alone(store: Store) -> None:
    with store.one_transaction():
        with store.write() as session:
            session.add(Team(name="Tax"))
        with pytest.raises(IntegrityError), store.write() as session:
            session.add(Team(name="Tax"))  # the name is unique
        with store.write() as session:
            session.add(Team(name="Audit"))

    assert _teams(store) == ["Audit", "Tax"]


def test_a_failing_first_write_is_undone_alone_and_the_next_one_begins_afresh(
    store: Store,
) -> None:
    with store.write() as session:
        session.add(Team(name="Tax"))
    with store.one_transaction() as turn:
        with pytest.raises(IntegrityError), store.write() as session:
            session.add(Team(name="Audit"))
            session.add(Team(name="Tax"))  # the name is unique: the whole write fails
        assert not turn.began  # nothing of the block is written
        with store.write() as session:
            session.add(Team(name="Deals"))
        assert turn.began

    assert _teams(store) == ["Deals", "Tax"]


def test_a_block_that_raises_commits_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError), store.one_transaction():
        with store.write() as session:
            session.add(Team(name="Tax"))
        raise RuntimeError("the process stops here")

    assert _teams(store) == []


def test_a_block_that_only_reads_opens_no_transaction(store: Store) -> None:
    with store.one_transaction() as turn:
        assert _teams(store) == []

    assert not turn.began


def _savepoints(store: Store) -> list[str]:
    """The SAVEPOINT statements `store` runs from now on."""
    seen: list[str] = []

    def saw(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        if statement.startswith("SAVEPOINT"):
            seen.append(statement)

    event.listen(store.engine, "before_cursor_execute", saw)
    return seen


def test_a_write_without_a_savepoint_joins_the_block(store: Store) -> None:
    savepoints = _savepoints(store)
    with store.one_transaction():
        with store.write() as session:
            session.add(Team(name="Tax"))
        with store.write(savepoint=False) as session:
            session.add(Team(name="Audit"))
        assert _teams(store) == ["Audit", "Tax"]

    assert _teams(store) == ["Audit", "Tax"]
    assert savepoints == []


def test_a_failing_write_without_a_savepoint_undoes_the_block_so_far(store: Store) -> None:
    with store.one_transaction() as turn:
        with store.write() as session:
            session.add(Team(name="Tax"))
        with pytest.raises(IntegrityError), store.write(savepoint=False) as session:
            session.add(Team(name="Tax"))  # the name is unique
        assert not turn.began  # the block's transaction is gone with it
        with store.write() as session:
            session.add(Team(name="Deals"))

    assert _teams(store) == ["Deals"]


def test_reads_before_the_first_write_share_a_connection_and_give_detached_rows(
    store: Store,
) -> None:
    with store.write() as session:
        session.add(Team(name="Tax"))
    checkouts: list[object] = []
    event.listen(store.engine, "engine_connect", checkouts.append)
    with store.one_transaction():
        with store.read() as session:
            tax = session.exec(select(Team)).one()
        assert _teams(store) == ["Tax"]
        # PostgreSQL's reads, in autocommit, share the block's one connection; SQLite's are
        # deferred transactions, one each (a snapshot held across the turn would age).
        assert len(checkouts) == (1 if store.engine.dialect.name == "postgresql" else 2)
        with store.write() as session:
            tax.name = "Tax and audit"
            session.add(tax)  # what a read gave is detached, as after a closed session

    assert _teams(store) == ["Tax and audit"]


def test_a_write_begun_inside_a_read_leaves_that_read_usable(store: Store) -> None:
    if store.url == "sqlite://":
        pytest.skip("in-memory SQLite is one connection: no write can begin inside a read")
    with store.one_transaction(), store.read() as outer:
        assert outer.exec(select(Team)).all() == []
        with store.write() as session:
            session.add(Team(name="Tax"))
        # The read's session is still open; it does not see the uncommitted write.
        assert outer.exec(select(Team)).all() == []

    assert _teams(store) == ["Tax"]
