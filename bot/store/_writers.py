"""Writers taking turns on SQLite: in this process on a lock, between processes on the file.

SQLite lets one writer in at a time. Two things decide how long a write waits for it:

- In this process, writers queue on `WriterLock` rather than in SQLite's busy handler, and
  a *priority* writer (the inbox storing a delivery, which an acknowledgement waits for)
  goes before every other writer waiting: it waits for at most the transaction in
  progress, never for a queue of turns.
- Between processes (replicas, turn processes) only the database file's own lock is
  shared. SQLite's busy handler sleeps 1, 2, 5, 10 … up to 100 ms between tries, so with
  several processes writing, the lock stands free while every waiter sleeps.
  `begin_immediate` tries again every millisecond instead (a priority writer five times as
  often), so a free lock is taken at once.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

POLL_SECONDS = 0.001  # how often a writer waiting for another process's write lock tries again
PRIORITY_POLL_SECONDS = 0.0002
FAST_POLL_SECONDS = 2.0  # then SQLite's own busy handler waits (up to the busy timeout)


class WriterLock:
    """A re-entrant lock where priority holders go before the others waiting.

    A release wakes one waiter, of the kind that goes next: waking them all made every
    waiting turn thread take the interpreter only to wait again, on every write.
    """

    def __init__(self) -> None:
        lock = threading.Lock()
        self._lock = lock
        self._priority = threading.Condition(lock)
        self._others = threading.Condition(lock)
        self._owner: int | None = None
        self._depth = 0
        self._waiting = {True: 0, False: 0}  # by priority

    @contextmanager
    def held(self, priority: bool = False) -> Iterator[None]:
        """Hold the lock for the block (again, if this thread holds it already)."""
        self._acquire(priority)
        try:
            yield
        finally:
            self._release()

    def _acquire(self, priority: bool) -> None:
        me = threading.get_ident()
        turn = self._priority if priority else self._others
        with self._lock:
            if self._owner == me:
                self._depth += 1
                return
            self._waiting[priority] += 1
            try:
                while self._owner is not None or (self._waiting[True] and not priority):
                    turn.wait()
            finally:
                self._waiting[priority] -= 1
            self._owner, self._depth = me, 1

    def _release(self) -> None:
        with self._lock:
            self._depth -= 1
            if self._depth == 0:
                self._owner = None
                # Most releases have no one waiting: skip the condition's own bookkeeping.
                if self._waiting[True]:
                    self._priority.notify()
                elif self._waiting[False]:
                    self._others.notify()


def begin_immediate(dbapi_connection: Any, busy_timeout_ms: int, priority: bool) -> bool:
    """Start a write transaction on a pysqlite connection, polling for the file's write
    lock for up to `FAST_POLL_SECONDS`; False if it is still taken (the caller then waits
    in SQLite's busy handler, which raises a proper error at the busy timeout)."""
    pause = PRIORITY_POLL_SECONDS if priority else POLL_SECONDS
    deadline = time.monotonic() + FAST_POLL_SECONDS
    dbapi_connection.execute("PRAGMA busy_timeout=0")
    try:
        while True:
            try:
                dbapi_connection.execute("BEGIN IMMEDIATE")
                return True
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
            if time.monotonic() >= deadline:
                return False
            time.sleep(pause * (0.5 + random.random()))  # jitter: waiters don't move in step
    finally:
        dbapi_connection.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
