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
import collections
import contextlib
import itertools
import logging
import multiprocessing
import multiprocessing.connection
import multiprocessing.process
import os
import pickle
import signal
import threading
from dataclasses import dataclass, field
from functools import partial
from multiprocessing.connection import Connection
from typing import Any

from bot import outbox
from bot.context import Context
from bot.messages import Reply, Turn
from bot.outbox import Decision
from bot.settings import Settings

log = logging.getLogger(__name__)
_ctx: Context | None = None  # in a turn process: its own context, made once at start
_PROTOCOL = pickle.HIGHEST_PROTOCOL
CLOSE_SECONDS = 30.0  # how long `close` waits for a process's last turns
AHEAD = 2  # turns sent to a process at once: one it works on, one read when it is done


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


class TurnDied(Exception):
    """The turn process a turn was sent to died before it answered."""


@dataclass(frozen=True)
class _Call:
    """A turn on its way to a turn process: its number, its pickled form, its answer."""

    number: int
    data: bytes
    future: asyncio.Future[list[Reply]]


@dataclass
class _Worker:
    """One turn process, the pipe its turns go down and the one its answers come up."""

    process: multiprocessing.process.BaseProcess
    calls: Connection  # the receiver's sending end
    answers: Connection  # the receiver's reading end
    in_hand: dict[int, asyncio.Future[list[Reply]]] = field(default_factory=dict)
    loop: asyncio.AbstractEventLoop | None = None  # whose selector reads `answers`


class TurnProcesses:
    """`answer(turn)` in one of `processes` worker processes on the database at `url`.

    Each process has a pipe of its own. A turn goes down the pipe of a process with fewer
    than `AHEAD` turns in hand (the one with fewest), else waits here for the first to
    answer, so that no turn queues behind a slow one while another process is free; the
    answers are read by the event loop itself when a pipe is readable. A process pool does
    the same through a manager thread and a feeder thread, whose wake-ups cost the receiver
    about twice the CPU per turn (docs/performance.md)."""

    def __init__(self, url: str, settings: Settings, processes: int) -> None:
        self.url = url
        self.settings = settings
        self.processes = processes
        self._numbers = itertools.count()
        self._closing = False
        self._waiting: collections.deque[_Call] = collections.deque()
        self._workers = [self._start() for _ in range(processes)]

    def _start(self) -> _Worker:
        # spawn, not fork: the receiver runs threads (the group commit, the executor), and
        # a forked child would inherit their locks in whatever state they were.
        spawn = multiprocessing.get_context("spawn")
        their_calls, calls = spawn.Pipe(duplex=False)
        answers, their_answers = spawn.Pipe(duplex=False)
        process = spawn.Process(
            target=_serve,
            args=(their_calls, their_answers, self.url, self.settings),
            name="crossbot-turns",
            daemon=True,  # ended with the receiver, which waits for no turn at exit
        )
        process.start()  # started (and warming up) now, not on the first turns
        # Only the child holds its ends now: its death reads as the end of `answers`.
        their_calls.close()
        their_answers.close()
        return _Worker(process, calls, answers)

    def pids(self) -> list[int]:
        """The turn processes' ids."""
        return [w.process.pid for w in self._workers if w.process.pid is not None]

    async def answer(self, turn: Turn, decision: Decision | None = None) -> list[Reply]:
        """The router's replies to `turn`, computed in a turn process (and, for an inbox
        item's turn, committed there with what it changed: `bot.outbox`)."""
        try:
            return await self._call(turn, decision)
        except TurnDied:
            # A process died (killed, out of memory), maybe during this very turn: as for a
            # replica killed mid-turn, the turn runs again, and its state changes stay
            # exactly-once (compare-and-set moves, idempotent creation).
            return await self._call(turn, decision)

    async def _call(self, turn: Turn, decision: Decision | None) -> list[Reply]:
        loop = asyncio.get_running_loop()
        for worker in self._workers:
            self._watch(worker, loop)
        number = next(self._numbers)
        future: asyncio.Future[list[Reply]] = loop.create_future()
        data = pickle.dumps((number, turn, decision), _PROTOCOL)
        self._waiting.append(_Call(number, data, future))
        self._dispatch()
        return await future

    def _dispatch(self) -> None:
        """Send waiting turns to the processes with room for them, fewest in hand first."""
        while self._waiting and not self._closing:
            worker = min(self._workers, key=lambda w: len(w.in_hand))
            if len(worker.in_hand) >= AHEAD:
                return
            call = self._waiting.popleft()
            if call.future.done():  # its caller gave up waiting
                continue
            worker.in_hand[call.number] = call.future
            try:
                # A turn is a few hundred bytes and at most `AHEAD` are in a pipe, so its
                # buffer takes them without blocking the loop.
                worker.calls.send_bytes(call.data)
            except OSError:  # the process is gone
                self._lost(worker)

    def _watch(self, worker: _Worker, loop: asyncio.AbstractEventLoop) -> None:
        """Have `loop` read the worker's answers (once per loop)."""
        if worker.loop is loop:
            return
        if worker.loop is not None and not worker.loop.is_closed():
            worker.loop.remove_reader(worker.answers.fileno())
        worker.loop = loop
        loop.add_reader(worker.answers.fileno(), self._read, worker)

    def _read(self, worker: _Worker) -> None:
        """The answers `worker` has sent (in the event loop, when its pipe is readable)."""
        try:
            while worker.answers.poll():
                number, ok, value = pickle.loads(worker.answers.recv_bytes())
                future = worker.in_hand.pop(number, None)
                if future is None or future.done():  # its caller gave up waiting
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)
        except (EOFError, OSError):  # the process ended
            self._lost(worker)
        self._dispatch()

    def _lost(self, worker: _Worker) -> None:
        """`worker`'s process is gone: a new one in its place (unless closing), and the
        turns it had in hand fail with `TurnDied`, for `answer` to send them again."""
        loop, worker.loop = worker.loop, None
        if loop is not None and not loop.is_closed():
            loop.remove_reader(worker.answers.fileno())
        if worker in self._workers and not self._closing:
            log.warning("a turn process died: starting a new one")
            new = self._workers[self._workers.index(worker)] = self._start()
            if loop is not None and not loop.is_closed():
                self._watch(new, loop)
        worker.process.join(1)
        worker.calls.close()
        worker.answers.close()
        for future in worker.in_hand.values():
            if not future.done():
                future.set_exception(TurnDied())
        worker.in_hand.clear()

    def close(self) -> None:
        """Stop the processes once the turns sent to them are done (called off the loop,
        after the inbox's worker has stopped)."""
        self._closing = True
        for worker in self._workers:
            with contextlib.suppress(OSError):
                worker.calls.send_bytes(b"")  # the end: the process exits after its turns
        for worker in self._workers:
            worker.process.join(CLOSE_SECONDS)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
        # Their pipes now read as ended: each loop's `_read` unregisters and closes them.


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


def _serve(calls: Connection, answers: Connection, url: str, settings: Settings) -> None:
    """A turn process: begun, then each turn read from `calls` is answered on `answers`,
    until the receiver closes (an empty message) or is gone (the pipe ends)."""
    _begin(url, settings)
    while True:
        try:
            data = calls.recv_bytes()
        except EOFError:
            return
        if not data:
            return
        number, turn, decision = pickle.loads(data)
        answer: tuple[int, bool, Any]
        try:
            answer = (number, True, _answer(turn, decision))
        except Exception as exc:  # raised in the receiver, as a process pool would
            answer = (number, False, exc)
        answers.send_bytes(_pickled(answer))


def _pickled(answer: tuple[int, bool, Any]) -> bytes:
    """`answer` pickled; an exception that can't be is sent as its type's name."""
    try:
        return pickle.dumps(answer, _PROTOCOL)
    except Exception:  # an unpicklable exception (or reply): say what failed, not its data
        number, _ok, value = answer
        failed = RuntimeError(f"{type(value).__name__} in a turn process (not picklable)")
        return pickle.dumps((number, False, failed), _PROTOCOL)


def _answer(turn: Turn, decision: Decision | None) -> list[Reply]:
    from bot.conversation import handle

    assert _ctx is not None, "a turn process runs _begin first"
    return outbox.decide(_ctx.store, decision, partial(handle, turn, _ctx))
