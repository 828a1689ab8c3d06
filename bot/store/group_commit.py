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
acknowledgement waits) to ride with, so a delivery and another's end share one commit.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar, cast

from sqlmodel import Session

from bot.store.engine import Store

T = TypeVar("T")
MAX_BATCH = 256  # writes in one transaction (a bound on how long the write lock is held)
LINGER_SECONDS = 0.02  # how long lazy writes wait for an urgent one (deliveries: ~10 ms apart)

_Op = tuple[Callable[[Session], Any], "Future[Any]"]
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

    def submit(self, write: Callable[[Session], T], *, lazy: bool = False) -> Future[T]:
        """Run `write(session)` in the next batch; the future holds its result once the
        batch has committed (or the exception it or the commit raised). `lazy`: no one
        waits on it, so its batch may wait up to `linger` seconds for an urgent write."""
        future: Future[T] = Future()
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
            batch, stopping = self._next_batch()
            if batch:
                self._commit(batch)

    def _next_batch(self) -> tuple[list[_Op], bool]:
        """What queued (waiting for the first write); a batch of lazy writes only waits a
        little for an urgent one. True when `close` was asked for."""
        batch: list[_Op] = []
        urgent, deadline = False, 0.0
        entry = self._queue.get()
        while True:
            if entry is _STOP:
                return batch, True
            op, lazy = cast(tuple[_Op, bool], entry)
            batch.append(op)
            if not lazy:
                urgent = True
            elif not deadline:
                deadline = time.monotonic() + self.linger
            if len(batch) >= self.max_batch:
                return batch, False
            try:
                entry = self._queue.get_nowait()
                continue
            except queue.Empty:
                pass
            left = deadline - time.monotonic()
            if urgent or left <= 0:
                return batch, False
            try:
                entry = self._queue.get(timeout=left)
            except queue.Empty:
                return batch, False

    def _commit(self, batch: list[_Op]) -> None:
        ops = [(write, future) for write, future in batch if future.set_running_or_notify_cancel()]
        if not ops:
            return
        try:
            # Writes rarely fail (a duplicate delivery is a retry), and a savepoint each
            # would triple the round trips: the batch is tried plainly first.
            outcomes = self._transaction(ops, savepoints=False)
        except Exception as exc:
            if len(ops) == 1:
                ops[0][1].set_exception(exc)
                return
            try:  # again, each write in its own savepoint, so that a failing one fails alone
                outcomes = self._transaction(ops, savepoints=True)
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
        self, ops: list[_Op], savepoints: bool
    ) -> list[tuple[Future[Any], Any, BaseException | None]]:
        outcomes: list[tuple[Future[Any], Any, BaseException | None]] = []
        # Priority: a delivery's acknowledgement waits for this commit, not for the turns
        # waiting to write (bot/store/_writers.py).
        with self.store.write(priority=True) as session:
            for write, future in ops:
                if not savepoints:
                    outcomes.append((future, write(session), None))
                    continue
                try:
                    with session.begin_nested():
                        outcomes.append((future, write(session), None))
                except Exception as exc:
                    outcomes.append((future, None, exc))
        return outcomes
