"""Group commit: many small writes from many callers, committed together by one thread.

The inbox writes a few rows per delivery (the delivery with its claim, a record per post
sent, the item done). Each as its own transaction takes the store's write lock (SQLite
lets one writer in at a time) and, on PostgreSQL, a commit of its own; under load they
queue behind each other and behind the turns' writes. Here one thread takes whatever has
queued while the previous batch committed and writes it in one transaction. If a write
fails (a duplicate key), the batch is written again with each write in its own savepoint,
so that one fails alone. A caller hears back only after the commit, so nothing is
acknowledged that a crash could lose.

A write nobody is waiting on (an item done: `lazy`) does not start a transaction of its
own at once: it waits up to `LINGER_SECONDS` for an urgent one (a delivery, whose
acknowledgement waits) to ride with, so a delivery and another's end share one commit. A
batch of lazy writes alone commits asynchronously on PostgreSQL (see `submit`).

A write may also be `Rows`: rows for statements built once. The rows of every such write
in a batch are executed together, one `executemany` per statement (on PostgreSQL one
multi-row INSERT, or one pipelined round trip), not one round trip per row: a batch of
twenty deliveries and ends is then three statements, not sixty.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from sqlalchemy import Executable, text
from sqlmodel import Session

from bot.store.engine import Store

T = TypeVar("T")
MAX_BATCH = 256  # writes in one transaction (a bound on how long the write lock is held)
LINGER_SECONDS = 0.02  # how long lazy writes wait for an urgent one (deliveries: ~10 ms apart)


@dataclass(frozen=True)
class Row:
    """One row of `statement` (built once, as a module constant): its `values`."""

    statement: Executable
    values: dict[str, Any]


@dataclass(frozen=True)
class Rows:
    """A write that is only rows: its result is what each row's statement returned (the
    first column of a RETURNING statement, else None), in order. A statement that returns
    must say `sort_by_parameter_order=True`, so that rows run together keep their order."""

    rows: Sequence[Row]


Write = Callable[[Session], Any] | Rows
_Op = tuple[Write, "Future[Any]"]
_ASYNCHRONOUS = text("SET LOCAL synchronous_commit = off")
_STOP = object()


class GroupCommit:
    """A writer thread for `store`; `submit` a function of a session, get a future."""

    def __init__(
        self, store: Store, max_batch: int = MAX_BATCH, linger: float = LINGER_SECONDS
    ) -> None:
        self.store = store
        self.max_batch = max_batch
        self.linger = linger
        self.batches = 0  # transactions committed (for tests and benchmarks)
        self._queue: queue.SimpleQueue[tuple[_Op, bool] | object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, write: Callable[[Session], T] | Rows, *, lazy: bool = False) -> Future[Any]:
        """Run `write(session)` (or write its `Rows`) in the next batch; the future holds its
        result once the batch has committed (or the exception it or the commit raised).

        `lazy`: no one waits on it, so its batch may wait up to `linger` seconds for an
        urgent write; and a crash of the database server may lose it once committed without
        losing or doubling anything (an item's done mark: the item is resumed, and skips
        what was sent for it). A batch of lazy writes only commits asynchronously on
        PostgreSQL (`synchronous_commit = off`: it does not wait for the WAL flush)."""
        future: Future[Any] = Future()
        self._ensure_thread()
        self._queue.put(((write, future), lazy))
        return future

    def close(self, timeout: float | None = None) -> None:
        """Write what is queued, then stop the thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(_STOP)
            thread.join(timeout)

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="crossbot-group-commit", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch, urgent, stopping = self._next_batch()
            if batch:
                self._commit(batch, durable=urgent)

    def _next_batch(self) -> tuple[list[_Op], bool, bool]:
        """What queued (waiting for the first write); a batch of lazy writes only waits a
        little for an urgent one. Whether one is urgent; True when `close` was asked for."""
        batch: list[_Op] = []
        urgent, deadline = False, 0.0
        entry = self._queue.get()
        while True:
            if entry is _STOP:
                return batch, urgent, True
            op, lazy = cast(tuple[_Op, bool], entry)
            batch.append(op)
            if not lazy:
                urgent = True
            elif not deadline:
                deadline = time.monotonic() + self.linger
            if len(batch) >= self.max_batch:
                return batch, urgent, False
            try:
                entry = self._queue.get_nowait()
                continue
            except queue.Empty:
                pass
            left = deadline - time.monotonic()
            if urgent or left <= 0:
                return batch, urgent, False
            try:
                entry = self._queue.get(timeout=left)
            except queue.Empty:
                return batch, urgent, False

    def _commit(self, batch: list[_Op], durable: bool = True) -> None:
        ops = [(write, future) for write, future in batch if future.set_running_or_notify_cancel()]
        if not ops:
            return
        try:
            # Writes rarely fail (a duplicate delivery is a retry), and a savepoint each
            # would triple the round trips: the batch is tried plainly first.
            outcomes = self._transaction(ops, savepoints=False, durable=durable)
        except Exception as exc:
            if len(ops) == 1:
                ops[0][1].set_exception(exc)
                return
            try:  # again, each write in its own savepoint, so that a failing one fails alone
                outcomes = self._transaction(ops, savepoints=True, durable=durable)
            except BaseException as again:  # the transaction failed: every write in it did
                for _write, future in ops:
                    future.set_exception(again)
                return
        except BaseException as exc:
            for _write, future in ops:
                future.set_exception(exc)
            raise
        self.batches += 1
        for future, value, error in outcomes:
            if error is None:
                future.set_result(value)
            else:
                future.set_exception(error)

    def _transaction(
        self, ops: list[_Op], savepoints: bool, durable: bool = True
    ) -> list[tuple[Future[Any], Any, BaseException | None]]:
        outcomes: list[tuple[Future[Any], Any, BaseException | None]] = []
        # Priority: a delivery's acknowledgement waits for this commit, not for the turns
        # waiting to write (bot/store/_writers.py).
        with self.store.write(priority=True) as session:
            if not durable and session.connection().dialect.name == "postgresql":
                # Lazy writes only: their loss in a server crash loses and doubles nothing
                # (`submit`), so the commit need not wait for the WAL to reach the disk.
                session.connection().execute(_ASYNCHRONOUS)
            if not savepoints:
                together = iter(_together([w for w, _f in ops if isinstance(w, Rows)], session))
                for write, future in ops:
                    value = next(together) if isinstance(write, Rows) else write(session)
                    outcomes.append((future, value, None))
                return outcomes
            for write, future in ops:
                try:
                    with session.begin_nested():
                        outcomes.append((future, _alone(write, session), None))
                except Exception as exc:
                    outcomes.append((future, None, exc))
        return outcomes


def written(session: Session, rows: Rows) -> list[Any]:
    """`rows` written in `session`'s transaction, outside a group commit: what each returned."""
    return _together([rows], session)[0]


def _alone(write: Write, session: Session) -> Any:
    """What one write gives, written on its own."""
    return written(session, write) if isinstance(write, Rows) else write(session)


def _together(writes: list[Rows], session: Session) -> list[list[Any]]:
    """Execute the rows of `writes`, one `executemany` per statement (in the order the
    statements first appear); each write's results, in its rows' order."""
    if not writes:
        return []
    by_statement: dict[Executable, list[tuple[int, int]]] = {}
    for w, write in enumerate(writes):
        for r, row in enumerate(write.rows):
            by_statement.setdefault(row.statement, []).append((w, r))
    results: list[list[Any]] = [[None] * len(write.rows) for write in writes]
    connection = session.connection()
    for statement, places in by_statement.items():
        values = [writes[w].rows[r].values for w, r in places]
        result = connection.execute(statement, values)
        if result.returns_rows:
            for (w, r), value in zip(places, result.scalars().all(), strict=True):
                results[w][r] = value
    return results
