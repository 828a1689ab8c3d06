"""Turns in worker processes beside the receiver, so that every core serves one host.

With `CROSSBOT_TURN_PROCESSES=N` (N > 0), `crossbot serve` keeps in its own process what
must answer quickly — the HTTP server, the signature checks, the inbox writes that come
before every acknowledgement, the posts to the platform — and runs each turn's
`conversation.handle` (understanding, search, the turn's SQL, rendering) in one of N
processes, each with a `Context` of its own on the same database. A turn is CPU work: in
threads it competes with the event loop for one interpreter lock, and an acknowledgement
waits behind it; in processes it doesn't, and N processes use N cores.

Nothing about exactly-once changes: the receiver still owns the inbox item and every send
(`bot.inbox`), and a turn's state change is one transaction wherever it runs. When a turn
process dies (killed, out of memory), new ones are started and the turns it had in hand
run again there, as a replica's do when it is killed mid-turn.

N = 0 runs turns in threads of the receiving process (one-process mode), as an in-memory
database requires. Unset ("auto", the default), `crossbot serve` picks for a host with two
or more cores (`for_host`): one turn process on SQLite, which lets one writer in at a time,
and two on PostgreSQL. Measured on two cores (docs/deployment.md), that lifts one replica
from 118 to 167 answers/s on SQLite and from 98 to 129 on PostgreSQL. Anything else that
builds a Slack channel (the tests, a terminal chat) runs turns in threads unless told to.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial

from bot import outbox
from bot.context import Context
from bot.messages import Reply, Turn
from bot.outbox import Decision
from bot.settings import Settings

log = logging.getLogger(__name__)
_ctx: Context | None = None  # in a turn process: its own context, made once at start


def available(url: str) -> bool:
    """Whether turns can run in other processes on this database (not an in-memory one)."""
    return url not in ("sqlite://", "sqlite:///:memory:")


def for_host(url: str, wanted: int | None, cores: int | None = None) -> int:
    """How many turn processes `crossbot serve` runs: `wanted` if set; else, on a host with
    two or more cores this process may use, one on SQLite and two on PostgreSQL (a turn
    there waits on the server for part of its time, which a second process fills), and
    none on one core or an in-memory database."""
    if wanted is not None:
        return wanted
    if not available(url) or (usable_cores() if cores is None else cores) < 2:
        return 0
    return 2 if url.startswith("postgresql") else 1


def usable_cores() -> int:
    """The cores this process may run on (its affinity, where the OS tells it)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else os.cpu_count() or 1


class TurnProcesses:
    """`answer(turn)` in one of `processes` worker processes on the database at `url`."""

    def __init__(self, url: str, settings: Settings, processes: int) -> None:
        self.url = url
        self.settings = settings
        self.processes = processes
        self._lock = threading.Lock()
        self._pool = self._start()

    def _start(self) -> ProcessPoolExecutor:
        # spawn, not fork: the receiver runs threads (the group commit, the executor), and
        # a forked child would inherit their locks in whatever state they were.
        pool = ProcessPoolExecutor(
            self.processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_begin,
            initargs=(self.url, self.settings),
        )
        for _ in range(self.processes):  # start (and warm) them all now, not on first turns
            pool.submit(_ready)
        return pool

    async def answer(self, turn: Turn, decision: Decision | None = None) -> list[Reply]:
        """The router's replies to `turn`, computed in a turn process (and, for an inbox
        item's turn, committed there with what it changed: `bot.outbox`)."""
        pool = self._pool
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(pool, _answer, turn, decision)
        except BrokenProcessPool:
            # A process died (killed, out of memory), maybe during this very turn: as for a
            # replica killed mid-turn, the turn runs again, and its state changes stay
            # exactly-once (compare-and-set moves, idempotent creation).
            self._replace(pool)
            return await loop.run_in_executor(self._pool, _answer, turn, decision)

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is broken:  # the first turn to notice starts new processes
                log.warning("a turn process died: starting new ones")
                self._pool = self._start()
        broken.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Stop the processes once the turns in hand are done (others are cancelled)."""
        self._pool.shutdown(wait=True, cancel_futures=True)


def _begin(url: str, settings: Settings) -> None:
    """A turn process's start: its context on the shared database, its content loaded."""
    global _ctx
    from bot.money import use_firm_currency
    from bot.store import Store

    # Ctrl-C reaches the whole process group: the receiver decides when turns stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _end_with_the_receiver()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    _ctx = Context(Store(url, migrate=False), settings)
    use_firm_currency(_ctx.firm().currency)
    from bot.dialogs import referral, whodoes

    whodoes.warm(_ctx)
    referral.warm(_ctx)


def _end_with_the_receiver() -> None:
    """Exit when the receiving process is gone. A receiver killed outright (SIGKILL, out of
    memory) can't stop its pool, and a worker waiting for its next turn would otherwise
    live on, holding a database connection and its content, as an orphan."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(0)  # no turn of a dead receiver can be answered: nothing is left to do

    threading.Thread(target=watch, name="crossbot-receiver-watch", daemon=True).start()


def _ready() -> None:
    """Nothing: submitted once per process so that each starts at once."""


def _answer(turn: Turn, decision: Decision | None) -> list[Reply]:
    from bot.conversation import handle

    assert _ctx is not None, "a turn process runs _begin first"
    return outbox.decide(_ctx.store, decision, partial(handle, turn, _ctx))
