"""Group commit: writes queued while a transaction commits share the next one; each fails
alone, a failed commit fails them all, and nobody hears back before the commit."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future

import pytest
from sqlalchemy import bindparam, event, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from bot.store import Store
from bot.store.group_commit import GroupCommit, Row, Rows
from bot.store.models import InboxItem, utcnow
from tests.inbox_counts import counting, kind


def _add(key: str) -> Callable[[Session], int]:
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


def _queued(writes: GroupCommit, count: int) -> tuple[threading.Event, list[Future[int]]]:
    """`count` writes queued behind one the writer is held in; set the event to let it go."""
    go = _held(writes)
    return go, [writes.submit(_add(f"k{n}")) for n in range(count)]


@pytest.fixture
def writes() -> Iterator[GroupCommit]:
    """A writer for a fresh in-memory database (its `store`)."""
    writer = GroupCommit(Store("sqlite://"))
    yield writer
    writer.close()


def test_writes_queued_during_a_commit_share_the_next_transaction(writes: GroupCommit) -> None:
    go, futures = _queued(writes, 5)
    assert not any(f.done() for f in futures)  # nothing is reported before its commit

    go.set()
    ids = [f.result(10) for f in futures]

    assert len(set(ids)) == 5 and _keys(writes.store) == [f"k{n}" for n in range(5)]
    assert writes.batches == 2  # the held one, then the five together


def test_a_failing_write_fails_alone(writes: GroupCommit) -> None:
    writes.submit(_add("taken")).result(10)
    go = _held(writes)
    before = writes.submit(_add("a"))
    twice = writes.submit(_add("taken"))
    after = writes.submit(_add("b"))
    go.set()

    with pytest.raises(IntegrityError):
        twice.result(10)
    assert before.result(10) and after.result(10)
    assert _keys(writes.store) == ["a", "b", "taken"]


_INSERT = insert(InboxItem).returning(InboxItem.id, sort_by_parameter_order=True)  # type: ignore[arg-type]
_MARK = update(InboxItem).where(InboxItem.key == bindparam("k")).values(meta={"marked": True})  # type: ignore[arg-type]


def _row(key: str) -> Rows:
    values = {"platform": "test", "key": key, "body": {}, "meta": {}, "received_at": utcnow()}
    return Rows([Row(_INSERT, values), Row(_MARK, {"k": key})])


@pytest.mark.postgres
def test_rows_queued_together_run_as_one_statement_each(store: Store, backend: str) -> None:
    """Five writes of the same two statements: one multi-row INSERT (SQLite, which keeps no
    order in a multi-row RETURNING, takes the rows one by one) and one executemany UPDATE;
    each write gets its own ids."""
    writes = GroupCommit(store)
    go = _held(writes)
    futures = [writes.submit(_row(f"r{n}")) for n in range(5)]
    with counting(writes.store) as counts:
        go.set()
        results = [f.result(10) for f in futures]
    writes.close()

    inserts = 1 if backend == "postgres" else 5
    assert [kind(s) for s in counts.statements] == ["INSERT inbox_item"] * inserts + [
        "UPDATE inbox_item"
    ]
    with writes.store.read() as session:
        rows = {i.key: i for i in session.exec(select(InboxItem))}
    assert results == [[rows[f"r{n}"].id, None] for n in range(5)]  # in order, each its own
    assert all(rows[f"r{n}"].meta == {"marked": True} for n in range(5))


def test_a_failing_rows_write_fails_alone(writes: GroupCommit) -> None:
    writes.submit(_row("taken")).result(10)
    go = _held(writes)
    before, twice, after = (writes.submit(_row(k)) for k in ("a", "taken", "b"))
    go.set()

    with pytest.raises(IntegrityError):
        twice.result(10)
    assert before.result(10)[0] and after.result(10)[0]
    assert _keys(writes.store) == ["a", "b", "taken"]


def test_a_failed_commit_fails_every_write_in_it(writes: GroupCommit) -> None:
    go, futures = _queued(writes, 3)

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
    assert _keys(writes.store) == []  # none of them was kept
    writes.submit(_add("later")).result(10)  # and the writer goes on
    assert _keys(writes.store) == ["later"]


def test_close_writes_what_is_queued(writes: GroupCommit) -> None:
    go, futures = _queued(writes, 3)
    go.set()
    writes.close(10)

    assert all(f.done() and f.exception() is None for f in futures)
    assert _keys(writes.store) == ["k0", "k1", "k2"]


def test_a_lazy_write_waits_for_an_urgent_one_and_shares_its_transaction() -> None:
    writes = GroupCommit(Store("sqlite://"), linger=30.0)  # longer than the test takes
    try:
        done = writes.submit(_add("finished"), lazy=True)
        received = writes.submit(_add("received"))
        assert received.result(10) and done.result(10)
        assert writes.batches == 1
        assert _keys(writes.store) == ["finished", "received"]
    finally:
        writes.close()


def test_a_lazy_write_alone_is_committed_once_its_linger_is_over() -> None:
    writes = GroupCommit(Store("sqlite://"), linger=0.001)
    try:
        assert writes.submit(_add("finished"), lazy=True).result(10)
        assert writes.batches == 1 and _keys(writes.store) == ["finished"]
    finally:
        writes.close()


def test_close_writes_lazy_writes_at_once() -> None:
    writes = GroupCommit(Store("sqlite://"), linger=30.0)
    done = writes.submit(_add("finished"), lazy=True)
    writes.close(10)
    assert done.result(0) and _keys(writes.store) == ["finished"]
