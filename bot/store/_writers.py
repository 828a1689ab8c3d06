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
    """A re-entrant lock where priority holders go before the others waiting."""

    def __init__(self) -> None:
        self._state = threading.Condition(threading.Lock())
        self._owner: int | None = None
        self._depth = 0
        self._priority_waiting = 0

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
        with self._state:
            if self._owner == me:
                self._depth += 1
                return
            self._priority_waiting += priority
            try:
                while self._owner is not None or (self._priority_waiting and not priority):
                    self._state.wait()
            finally:
                self._priority_waiting -= priority
            self._owner, self._depth = me, 1

    def _release(self) -> None:
        with self._state:
            self._depth -= 1
            if self._depth == 0:
                self._owner = None
                self._state.notify_all()


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
