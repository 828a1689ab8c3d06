"""Group commit: writes queued while a transaction commits share the next one; each fails
alone, a failed commit fails them all, and nobody hears back before the commit."""

from __future__ import annotations

import threading
from concurrent.futures import Future

import pytest
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.store import Store
from bot.store.group_commit import GroupCommit
from bot.store.models import InboxItem, utcnow


def _add(key: str) -> object:
    def write(session: Session) -> int:
        item = InboxItem(platform="test", key=key, body={}, meta={}, received_at=utcnow())
        session.add(item)
        session.flush()
        assert item.id is not None
        return item.id

    return write


def _keys(store: Store) -> list[str]:
    with store.read() as session:
        return sorted(session.exec(select(InboxItem.key)))


def _held(writes: GroupCommit) -> threading.Event:
    """Hold the writer in a transaction until the returned event is set."""
    go, inside = threading.Event(), threading.Event()

    def wait(session: Session) -> None:
        inside.set()
        go.wait(10)

    writes.submit(wait)
    assert inside.wait(10)
    return go


def test_writes_queued_during_a_commit_share_the_next_transaction() -> None:
    store = Store("sqlite://")
    writes = GroupCommit(store)
    go = _held(writes)
    futures: list[Future[int]] = [writes.submit(_add(f"k{n}")) for n in range(5)]  # type: ignore[arg-type]
    assert not any(f.done() for f in futures)  # nothing is reported before its commit

    go.set()
    ids = [f.result(10) for f in futures]

    assert len(set(ids)) == 5 and _keys(store) == [f"k{n}" for n in range(5)]
    assert writes.batches == 2  # the held one, then the five together
    writes.close()


def test_a_failing_write_fails_alone() -> None:
    store = Store("sqlite://")
    writes = GroupCommit(store)
    writes.submit(_add("taken")).result(10)  # type: ignore[arg-type]
    go = _held(writes)
    before = writes.submit(_add("a"))  # type: ignore[arg-type]
    twice = writes.submit(_add("taken"))  # type: ignore[arg-type]
    after = writes.submit(_add("b"))  # type: ignore[arg-type]
    go.set()

    with pytest.raises(IntegrityError):
        twice.result(10)
    assert before.result(10) and after.result(10)
    assert _keys(store) == ["a", "b", "taken"]
    writes.close()


def test_a_failed_commit_fails_every_write_in_it() -> None:
    store = Store("sqlite://")
    writes = GroupCommit(store)
    go = _held(writes)
    futures = [writes.submit(_add(f"k{n}")) for n in range(3)]  # type: ignore[arg-type]

    def doom_the_commit(session: Session) -> None:  # as a lost connection would at COMMIT
        def refuse(_session: Session) -> None:
            if not session.in_nested_transaction():  # the batch's commit, not its savepoint
                raise OSError("connection lost")

        event.listen(session, "before_commit", refuse)

    writes.submit(doom_the_commit)
    go.set()

    for future in futures:
        with pytest.raises(OSError):
            future.result(10)
    assert _keys(store) == []  # none of them was kept
    writes.submit(_add("later")).result(10)  # type: ignore[arg-type]  # and the writer goes on
    assert _keys(store) == ["later"]
    writes.close()


def test_close_writes_what_is_queued() -> None:
    store = Store("sqlite://")
    writes = GroupCommit(store)
    go = _held(writes)
    futures = [writes.submit(_add(f"k{n}")) for n in range(3)]  # type: ignore[arg-type]
    go.set()
    writes.close(10)

    assert all(f.done() and f.exception() is None for f in futures)
    assert _keys(store) == ["k0", "k1", "k2"]
