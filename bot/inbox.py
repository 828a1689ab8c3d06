"""The durable inbox: every platform delivery is stored before it is acknowledged.

A delivery (a Slack event, command or interaction, a Teams activity) is written with its
delivery claim — `(platform, key)`, unique — in one transaction, before the HTTP answer; if
that write fails the adapter answers 5xx and the platform retries. A `Worker` in each
process then claims items atomically (a compare-and-set on `claimed_at`; a claim older than
the lease is taken over, so a dead process's work is finished by another replica or by the
next start) and runs them concurrently in a bounded pool.

Sends made while processing an item go through `once`: each is numbered (item id, n) and
recorded after the platform accepted it, so a resumed item skips what already went out.
A crash between the platform accepting a send and our record of it would send it again; a
platform that can find its own messages closes that window with a `Keyed` send: the call
carries its key, and a resumed item looks for that key before sending again. A send the
platform can find so (`Keyed.findable`) needs no prompt record: its record is written with
the item's finishing write, in the worker's group commit.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from uuid import uuid4

from sqlalchemy import Result, and_, bindparam, delete, insert, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.logs import log_failure
from bot.store import Store, detached
from bot.store.group_commit import GroupCommit, Row, Rows, written
from bot.store.models import InboxDecision, InboxItem, InboxSent, StashEntry, utcnow

log = logging.getLogger(__name__)
T = TypeVar("T")

LEASE = timedelta(seconds=120)
POLL_SECONDS = 2.0
MAX_ATTEMPTS = 3
BATCH = 100
SQLITE_WORKERS = 4  # SQLite lets one writer in at a time: more threads only queue
POSTGRES_WORKERS = 4  # turns are mostly CPU: more threads only queue for the interpreter
IN_HAND_PER_THREAD = 16
DONE_TTL = timedelta(days=7)  # longer than any platform retries a delivery
STASH_TTL = timedelta(days=30)  # a button older than this answers "please ask again"


def pool_size(store: Store, configured: int = 0) -> int:
    """Threads running turns per process: as configured, else sized to the store."""
    if configured > 0:
        return configured
    return SQLITE_WORKERS if store.url.startswith("sqlite") else POSTGRES_WORKERS


def in_hand(threads: int) -> int:
    """Items a worker holds at once for `threads` turn threads: most of an item's time is
    spent waiting for the platform (paced posts), which needs no thread."""
    return threads * IN_HAND_PER_THREAD


def worker_name() -> str:
    """This process's name in `claimed_by` (host, pid and a random part)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid4().hex[:8]}"


# -- the delivery claim ------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    """A delivery to process: its item id, and the item itself when it was stored just now
    (claimed by the receiving worker, nothing sent yet), so the worker starts on it at once
    without reading it back. `item` is None for a stale copy taken over."""

    id: int
    item: InboxItem | None = None


def receive(
    store: Store,
    platform: str,
    key: str,
    body: dict[str, Any],
    worker: str,
    *,
    meta: dict[str, Any] | None = None,
    lease: timedelta = LEASE,
    now: datetime | None = None,
    count_attempt: bool = False,
) -> Received | None:
    """Store a delivery claimed by `worker`, or take over its unfinished, stale copy.

    Returns what to process (see `Received`), or None for a delivery already done or in
    hand elsewhere (a retry). Raises when the database cannot be written: the caller
    answers 5xx so that the platform retries.

    `count_attempt` stores a new item with its first attempt counted, as `claim` would
    have counted it, for a worker that starts on it without claiming it again.
    """
    now = now or utcnow()
    try:
        with store.write() as session:
            values = _new_item(platform, key, body, meta, worker, now, int(count_attempt))
            item = _stored(session, values)
            return Received(item.id or 0, item)
    except IntegrityError:
        taken = _take_over(store, platform, key, worker, lease, now)
        return Received(taken) if taken is not None else None


def _stored(session: Session, values: dict[str, Any]) -> InboxItem:
    """A new item of these columns (`_new_item`): IntegrityError if the delivery is known."""
    # One statement built once, on the transaction's connection: every acknowledgement
    # waits for this write, and the ORM's unit of work (or a statement built per call)
    # costs several times the INSERT itself.
    inserted = session.connection().execute(_INSERT, values)
    return detached(InboxItem, {**values, "id": inserted.scalar_one()})


def _new_item(
    platform: str,
    key: str,
    body: dict[str, Any],
    meta: dict[str, Any] | None,
    worker: str,
    now: datetime,
    attempts: int,
) -> dict[str, Any]:
    """The columns of a new item, claimed by `worker`."""
    return {
        "platform": platform,
        "key": key,
        "body": body,
        "meta": meta or {},
        "received_at": now,
        "claimed_by": worker,
        "claimed_at": now,
        "attempts": attempts,
    }


# Ordered: the group commit inserts a batch's deliveries in one statement (`Rows`).
_INSERT = insert(InboxItem).returning(col(InboxItem.id), sort_by_parameter_order=True)
# inline: the record's id is never read, so PostgreSQL need not return it.
_INSERT_SENT = insert(InboxSent).inline()
# A deferred record may meet one an attempt that took the item over wrote: either is right.
_INSERT_SENT_ONCE = {
    "sqlite": sqlite.insert(InboxSent).on_conflict_do_nothing().inline(),
    "postgresql": postgresql.insert(InboxSent).on_conflict_do_nothing().inline(),
}
_FINISH = (
    update(InboxItem)
    .where(col(InboxItem.id) == bindparam("item"), col(InboxItem.claimed_by) == bindparam("by"))
    .values(done_at=bindparam("done"))
)


def _take_over(
    store: Store, platform: str, key: str, worker: str, lease: timedelta, now: datetime
) -> int | None:
    """The id of the delivery's item, now claimed by `worker`, if it is unfinished and its
    claim has lapsed (one compare-and-set by its key: nothing is read first)."""
    where = (col(InboxItem.platform) == platform, col(InboxItem.key) == key)
    with store.write() as session:
        row = _claimed(session, where, worker, lease, now, count=False).first()
        return None if row is None else int(row[0])


def claim(
    store: Store, item_id: int, worker: str, lease: timedelta = LEASE, now: datetime | None = None
) -> bool:
    """Claim an item for `worker` (compare-and-set): True if no one else holds it now."""
    with store.write() as session:
        where = (col(InboxItem.id) == item_id,)
        return _claimed(session, where, worker, lease, now or utcnow()).first() is not None


def _claim_and_load(
    store: Store, item_id: int, worker: str, lease: timedelta, now: datetime
) -> tuple[InboxItem | None, set[int]]:
    """Claim an item (as `claim`) and read it and the sends already made for it, in one
    transaction: the claim returns the row, so only the send records are read."""
    with store.write() as session:
        where = (col(InboxItem.id) == item_id,)
        columns = tuple(InboxItem.__table__.columns)  # type: ignore[attr-defined]
        row = _claimed(session, where, worker, lease, now, returning=columns).mappings().first()
        if row is None:
            return None, set()
        sent = set(session.exec(select(InboxSent.seq).where(InboxSent.item_id == item_id)))
        return detached(InboxItem, dict(row)), sent


def _claimed(
    session: Session,
    where: tuple[Any, ...],
    worker: str,
    lease: timedelta,
    now: datetime,
    count: bool = True,
    returning: tuple[Any, ...] = (InboxItem.id,),
) -> Result[Any]:
    """The compare-and-set claim of the unfinished item `where` picks, for `worker`: the
    claimed row's `returning` columns (no row: someone else holds it, or it is done)."""
    free = or_(
        col(InboxItem.claimed_by) == worker,
        col(InboxItem.claimed_at).is_(None),
        col(InboxItem.claimed_at) < now - lease,
    )
    values: dict[str, Any] = {"claimed_by": worker, "claimed_at": now}
    if count:
        values["attempts"] = InboxItem.attempts + 1  # type: ignore[operator]
    return session.connection().execute(
        update(InboxItem)
        .where(and_(*where, col(InboxItem.done_at).is_(None), free))
        .values(**values)
        .returning(*returning)
    )


def finish(store: Store, item_id: int, worker: str, now: datetime | None = None) -> None:
    """Mark an item done (only by the worker that holds it)."""
    with store.write() as session:
        written(session, _finishing(store, item_id, worker, now or utcnow()))


def _finishing(
    store: Store, item_id: int, worker: str, now: datetime, sent: Iterable[int] = ()
) -> Rows:
    """An item's done mark, with the records of its deferred sends (`Delivery.deferred`)."""
    record = _INSERT_SENT_ONCE[store.engine.dialect.name]
    rows = [Row(record, {"item_id": item_id, "seq": seq}) for seq in sent]
    return Rows([*rows, Row(_FINISH, {"item": item_id, "by": worker, "done": now})])


def _add_deferred(session: Session, item_id: int, seqs: Iterable[int]) -> None:
    """Record sends whose record was deferred (`Delivery.deferred`), once each."""
    rows = [{"item_id": item_id, "seq": seq} for seq in seqs]
    if rows:
        connection = session.connection()
        connection.execute(_INSERT_SENT_ONCE[connection.dialect.name], rows)


def renew(store: Store, item_ids: Iterable[int], worker: str, now: datetime | None = None) -> int:
    """Extend `worker`'s claims on items still in hand, in one statement; how many held."""
    ids = list(item_ids)
    if not ids:
        return 0
    with store.write() as session:
        result = session.execute(
            update(InboxItem)
            .where(
                col(InboxItem.id).in_(ids),
                col(InboxItem.claimed_by) == worker,
                col(InboxItem.done_at).is_(None),
            )
            .values(claimed_at=now or utcnow())
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


def release(
    store: Store, item_ids: Iterable[int], worker: str, sent: dict[int, list[int]] | None = None
) -> None:
    """Give back unfinished items, so that another worker takes them at once; `sent`: the
    deferred send records of each (`Delivery.deferred`), written first."""
    ids = list(item_ids)
    if not ids:
        return
    with store.write() as session:
        for item_id, seqs in (sent or {}).items():
            _add_deferred(session, item_id, seqs)
        session.execute(
            update(InboxItem)
            .where(
                col(InboxItem.id).in_(ids),
                col(InboxItem.claimed_by) == worker,
                col(InboxItem.done_at).is_(None),
            )
            .values(claimed_by=None, claimed_at=None)
        )


def due(
    store: Store,
    platform: str,
    lease: timedelta = LEASE,
    now: datetime | None = None,
    limit: int = BATCH,
) -> list[int]:
    """Unfinished items no live worker holds (never claimed, released, or lease expired)."""
    stale = (now or utcnow()) - lease
    with store.read() as session:
        rows = session.exec(
            select(InboxItem.id)
            .where(
                InboxItem.platform == platform,
                col(InboxItem.done_at).is_(None),
                or_(col(InboxItem.claimed_at).is_(None), col(InboxItem.claimed_at) < stale),
                col(InboxItem.attempts) < MAX_ATTEMPTS,
            )
            .order_by(col(InboxItem.id))
            .limit(limit)
        ).all()
    return [int(r) for r in rows if r is not None]


def backlog(store: Store) -> int:
    """How many items are not done yet (for health checks)."""
    from sqlalchemy import func

    with store.read() as session:
        return int(
            session.exec(
                select(func.count()).select_from(InboxItem).where(col(InboxItem.done_at).is_(None))
            ).one()
        )


def prune(session: Session, now: datetime) -> None:
    """Forget done items (and their send records) and stash entries past their TTL."""
    old = select(InboxItem.id).where(col(InboxItem.received_at) < now - DONE_TTL)
    session.execute(delete(InboxSent).where(col(InboxSent.item_id).in_(old)))
    session.execute(delete(InboxDecision).where(col(InboxDecision.item_id).in_(old)))
    session.execute(delete(InboxItem).where(col(InboxItem.received_at) < now - DONE_TTL))
    session.execute(delete(StashEntry).where(col(StashEntry.created_at) < now - STASH_TTL))


# -- sends, once each --------------------------------------------------------------------


@dataclass
class Delivery:
    """The inbox item being processed: its sends so far, and its turns' decisions
    (`bot.outbox`). `resumed` is False for an item stored just now, which has neither."""

    store: Store
    item_id: int
    sent: set[int] = field(default_factory=set)
    next_seq: int = 0
    resumed: bool = True
    next_decision: int = 0
    since: datetime | None = None  # when the item was received: no send of it is older
    let_go: Callable[[], None] | None = None  # gives back the item's place in the worker
    # Findable sends not recorded yet: the worker writes them with the item's finish (or
    # its release). Only a worker that does so sets `defer`.
    defer: bool = False
    deferred: list[int] = field(default_factory=list)
    # With `defer`, a send's prompt record starts once this task next waits for anything
    # (`_record_soon`): a last send the item's end follows without a wait is recorded with
    # its done mark instead, in one transaction, not two (`Delivery.unrecorded`).
    _soon: asyncio.Handle | None = None
    _soon_seq: int = 0
    _recording: asyncio.Future[None] | None = None

    def unrecorded(self) -> int | None:
        """The last send, if its prompt record has not started (this task has not waited
        since it was sent): the caller now writes it, with the item's end."""
        if self._soon is None:
            return None
        self._soon.cancel()
        self._soon = None
        return self._soon_seq


@dataclass(frozen=True)
class Keyed:
    """How a platform finds a send it already made. `tag(key)` is the call's extra keyword
    arguments that carry the key; `seen(key, since)` says whether a message with that key
    went out since `since`. `seen` is asked only for a resumed item's unrecorded send.

    `findable`: `seen` can find this send (a Slack DM, not a channel). Its record can then
    wait for the item's end: until it is written, a resumed item finds the send instead."""

    tag: Callable[[str], dict[str, Any]]
    seen: Callable[[str, datetime | None], Awaitable[bool]]
    findable: bool = False


_RECORDS = ThreadPoolExecutor(2, thread_name_prefix="crossbot-sent")
_current: ContextVar[Delivery | None] = ContextVar("crossbot_inbox_delivery", default=None)


async def once(
    send: Callable[..., Awaitable[T]], *args: Any, keyed: Keyed | None = None, **kwargs: Any
) -> T | None:
    """`await send(*args, **kwargs)` for the item being processed, unless a previous attempt
    at the same item already made this call (then None). Outside an item, just call it.

    With `keyed`, the call carries its key (`send_key`), and a resumed item whose record
    of it is missing first asks the platform whether it went out (then records it, None).
    """
    delivery = _current.get()
    if delivery is None:
        return await send(*args, **kwargs)
    await _recorded(delivery)  # the previous send's record is in before this one goes
    seq, delivery.next_seq = delivery.next_seq, delivery.next_seq + 1
    if seq in delivery.sent:
        return None
    if keyed is not None:
        key = send_key(delivery.item_id, seq)
        kwargs = {**kwargs, **keyed.tag(key)}
        if delivery.resumed and await _went_out(keyed, key, delivery.since):
            await _record(delivery, seq)
            return None
    result = await send(*args, **kwargs)
    if keyed is not None and keyed.findable and delivery.defer:
        delivery.sent.add(seq)
        delivery.deferred.append(seq)  # no transaction of its own (see Keyed.findable)
    elif delivery.defer:
        _record_soon(delivery, seq)
    else:
        await _record(delivery, seq)
    return result


def _record_soon(delivery: Delivery, seq: int) -> None:
    """Record send `seq` as soon as this task waits for anything (the loop runs the
    callback then), so the record starts no later than it would have; until then the
    item's end may take it (`Delivery.unrecorded`) and write it with its done mark."""
    delivery.sent.add(seq)
    delivery._soon_seq = seq
    delivery._soon = asyncio.get_running_loop().call_soon(_start_record, delivery)


def _start_record(delivery: Delivery) -> None:
    delivery._soon = None
    delivery._recording = asyncio.ensure_future(_record(delivery, delivery._soon_seq))


async def _recorded(delivery: Delivery) -> None:
    """Wait for the record of the send before (started now if it had not)."""
    if delivery._soon is not None:
        delivery._soon.cancel()
        _start_record(delivery)
    recording, delivery._recording = delivery._recording, None
    if recording is not None:
        await recording


def send_key(item_id: int, seq: int) -> str:
    """The key a keyed send carries: its item and its number within the item."""
    return f"{item_id}:{seq}"


async def _went_out(keyed: Keyed, key: str, since: datetime | None) -> bool:
    try:
        return await keyed.seen(key, since)
    except Exception as exc:  # cannot tell: send again (at least once, never lost)
        log_failure(log, "inbox send lookup failed", exc)
        return False


async def _record(delivery: Delivery, seq: int) -> None:
    delivery.sent.add(seq)
    try:
        # Threads of their own: queued behind other blocking work in the loop's default
        # executor, a record would commit later, and the window below would be wider.
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(_RECORDS, _record_send, delivery.store, delivery.item_id, seq)
    except IntegrityError:
        pass  # recorded by an earlier attempt
    except Exception as exc:  # sent but not recorded: the at-least-once window
        log_failure(log, "inbox send not recorded", exc)


def answered() -> None:
    """The person who asked has their answer: the rest of the item being processed (the
    notices to other people, whose channels may be paced for seconds) goes on without
    holding one of the worker's places, so it holds up no one else's answer."""
    delivery = _current.get()
    if delivery is not None and delivery.let_go is not None:
        delivery.let_go()


def current() -> Delivery | None:
    """The inbox item this task is processing, if any."""
    return _current.get()


@contextmanager
def delivering(
    store: Store,
    item_id: int | None,
    sent: set[int] | None = None,
    *,
    resumed: bool = True,
    since: datetime | None = None,
    let_go: Callable[[], None] | None = None,
    defer: bool = False,
) -> Iterator[Delivery | None]:
    """Sends inside this block belong to inbox item `item_id` (none if it is None); yields
    the item's `Delivery`. `resumed` False: the item was stored just now, so no attempt has
    sent or decided yet. `since`: when the item was received (where a keyed send looks for
    itself). `let_go`: what `answered` calls (gives the item's place in its worker back).
    `defer`: the caller writes `Delivery.deferred` when the item ends (`Keyed.findable`)."""
    if item_id is None:
        yield None
        return
    if sent is None:
        sent = _sent(store, item_id)
    moment = _aware(since) if since is not None else None
    delivery = Delivery(
        store, item_id, sent, resumed=resumed, since=moment, let_go=let_go, defer=defer
    )
    token = _current.set(delivery)
    try:
        yield delivery
    finally:
        _current.reset(token)


def _record_send(store: Store, item_id: int, seq: int) -> None:
    # Priority: behind the turns waiting for SQLite's write lock, a record waited up to a
    # second under load, and the at-least-once window was as wide. In a transaction of
    # its own, not the group commit's: queued behind a burst's receipts, it was wider.
    with store.write(priority=True) as session:
        _add_sent(session, item_id, seq)


def _add_sent(session: Session, item_id: int, seq: int) -> None:
    """Record a send (IntegrityError if an earlier attempt recorded it)."""
    session.connection().execute(_INSERT_SENT, {"item_id": item_id, "seq": seq})


def _sent(store: Store, item_id: int) -> set[int]:
    with store.read() as session:
        return set(session.exec(select(InboxSent.seq).where(InboxSent.item_id == item_id)))


# -- the worker --------------------------------------------------------------------------


class Worker:
    """Processes one platform's inbox items in this process, at most `concurrency` at once.

    `submit` takes an item received here (already claimed by `name`); an item stored just
    now is started on at once, without claiming or reading it again. A poller picks up
    items left unfinished by a dead process or a previous run, and one statement renews
    the claims of every item in hand. `stop` stops taking work, waits for what is in hand
    and gives back what never started.

    Each delivery received and each item done is written through one `GroupCommit`: what
    queues while a transaction commits is written in the next, so a burst costs a few
    transactions, not two per delivery. A send the platform can find again (a Slack DM,
    `Keyed.findable`) is recorded with the item done. Any other send's record is written
    the moment the platform has accepted the send, in a priority transaction of its own,
    because the time until it commits is the window in which a crash makes the send go
    out twice.

    `concurrency` bounds the items in hand, not the CPU: an item waiting for Slack (a
    slow response_url) holds a place here but no thread, so the caller sizes its own
    thread pool to the store and this bound a few times larger (`in_hand`). Once the
    person who asked has their answer (`answered`), the item gives its place back: its
    notices to others, paced in busy channels, hold up no one's answer.
    """

    def __init__(
        self,
        store: Store,
        platform: str,
        process: Callable[[InboxItem], Awaitable[None]],
        *,
        concurrency: int = SQLITE_WORKERS,
        lease: timedelta = LEASE,
        poll_seconds: float = POLL_SECONDS,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.platform = platform
        self.process = process
        self.concurrency = concurrency
        self.lease = lease
        self.poll_seconds = poll_seconds
        self.clock = clock
        self.name = worker_name()
        self._slots: asyncio.Semaphore | None = None
        self._queued: set[int] = set()
        self._started: set[int] = set()
        self._skipped: set[int] = set()
        self._fresh: dict[int, InboxItem] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._poller: asyncio.Task[None] | None = None
        self._renewer: asyncio.Task[None] | None = None
        self._stopping = False
        self.writes = GroupCommit(store)

    def start(self) -> None:
        """Begin polling for items to resume (call inside the running loop)."""
        self._stopping = False
        self._poller = asyncio.ensure_future(self._poll())
        self._renewer = asyncio.ensure_future(self._renew())

    async def receive(
        self, key: str, body: dict[str, Any], meta: dict[str, Any] | None = None
    ) -> Received | None:
        """`receive` for this worker's platform, written in the next group commit: the
        item is stored (claimed by this worker, its first attempt counted) when this
        returns. None for a delivery already done or in hand elsewhere; raises when the
        database cannot take it (answer 5xx)."""
        now = self.clock()
        values = _new_item(self.platform, key, body, meta, self.name, now, attempts=1)
        try:
            [item_id] = await self._write(Rows([Row(_INSERT, values)]))
        except IntegrityError:  # a copy of a delivery seen before: done, or left stale
            taken = await asyncio.to_thread(
                _take_over, self.store, self.platform, key, self.name, self.lease, now
            )
            return Received(taken) if taken is not None else None
        return Received(item_id, detached(InboxItem, {**values, "id": item_id}))

    async def _write(self, write: Rows, *, lazy: bool = False) -> list[Any]:
        result: list[Any] = await asyncio.wrap_future(self.writes.submit(write, lazy=lazy))
        return result

    def submit(self, item_id: int, item: InboxItem | None = None) -> asyncio.Task[None] | None:
        """Process an item soon (once, however often it is submitted). `item` is the row
        `receive` stored just now, claimed by this worker: no claim or read is needed."""
        if item_id in self._queued or self._stopping:
            return None
        self._queued.add(item_id)
        if item is not None:
            self._fresh[item_id] = item
        task = asyncio.ensure_future(self._run(item_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def resume(self) -> int:
        """Submit every item due now; how many were found."""
        ids = await asyncio.to_thread(due, self.store, self.platform, self.lease, self.clock())
        for item_id in ids:
            self.submit(item_id)
        return len(ids)

    async def drain(self, timeout: float | None = None) -> None:
        """Wait until every submitted item (and what it submitted) is finished."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while self._tasks:
            left = None if deadline is None else max(0.0, deadline - loop.time())
            done, _ = await asyncio.wait(set(self._tasks), timeout=left)
            if not done:
                return

    async def stop(self, timeout: float) -> None:
        """Stop taking work; finish what is in hand within `timeout`; give back the rest."""
        self._stopping = True
        if self._poller is not None:
            self._poller.cancel()
        await self.drain(timeout)
        if self._renewer is not None:
            self._renewer.cancel()
        # Items in hand past the timeout stay claimed until their lease ends.
        unstarted = self._skipped | (self._queued - self._started)
        self._skipped = set()
        if unstarted:
            await asyncio.to_thread(release, self.store, unstarted, self.name)
        await asyncio.to_thread(self.writes.close)

    async def _run(self, item_id: int) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.concurrency)
        slots, held = self._slots, [False]

        def let_go() -> None:  # once: at `answered`, or when the item ends
            if held[0]:
                held[0] = False
                slots.release()

        try:
            await slots.acquire()
            held[0] = True
            if self._stopping:
                self._skipped.add(item_id)
                return
            self._started.add(item_id)
            await self._attempt(item_id, self._fresh.pop(item_id, None), let_go)
        finally:
            let_go()
            self._queued.discard(item_id)
            self._started.discard(item_id)
            self._fresh.pop(item_id, None)

    async def _attempt(
        self, item_id: int, fresh: InboxItem | None, let_go: Callable[[], None] | None = None
    ) -> None:
        try:
            item, sent = await self._take(item_id, fresh)
        except Exception as exc:  # the database is down: the poller tries again later
            log_failure(log, "inbox claim failed", exc)
            return
        if item is None:
            return  # done, or another worker holds it
        deferred: list[int] = []
        delivery: Delivery | None = None
        try:
            with delivering(
                self.store,
                item_id,
                sent,
                resumed=item is not fresh,
                since=item.received_at,
                let_go=let_go,
                defer=True,
            ) as delivery:
                assert delivery is not None
                deferred = delivery.deferred
                await self.process(item)
            if let_go is not None:
                let_go()  # the item's work is done: its end is written without a place
            last = delivery.unrecorded()
            if last is not None:
                deferred.append(last)
            done = _finishing(self.store, item_id, self.name, self.clock(), deferred)
            # A last send not recorded yet rides with the done mark, and the mark is then
            # urgent: no linger, and a commit that waits for the disk (see `GroupCommit`).
            await self._write(done, lazy=last is None)
        except Exception as exc:
            log_failure(log, "inbox item failed", exc, platform=self.platform)
            last = delivery.unrecorded() if delivery is not None else None
            if last is not None and last not in deferred:
                deferred.append(last)  # written with its release, then
            await self._give_back(item_id, deferred)

    async def _take(
        self, item_id: int, fresh: InboxItem | None
    ) -> tuple[InboxItem | None, set[int]]:
        """The item and the sends already made for it, once this worker holds its claim.

        An item stored just now by this worker is still ours while its claim is young (no
        one may take it over before its lease ends) and has sent nothing: it starts as it
        is. Any other is claimed (compare-and-set) and read.
        """
        if fresh is not None and self._young(fresh):
            return fresh, set()
        return await asyncio.to_thread(
            _claim_and_load, self.store, item_id, self.name, self.lease, self.clock()
        )

    def _young(self, item: InboxItem) -> bool:
        claimed = item.claimed_at
        return claimed is not None and self.clock() - _aware(claimed) < self.lease / 3

    async def _renew(self) -> None:
        """Keep the claims on every item in hand, so no one takes a slow one over."""
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            try:
                held = set(self._started)
                await asyncio.to_thread(renew, self.store, held, self.name, self.clock())
            except Exception as exc:  # the database is away: the leases may lapse
                log_failure(log, "inbox renew failed", exc)

    async def _give_back(self, item_id: int, sent: list[int] | None = None) -> None:
        try:
            records = {item_id: sent} if sent else None
            await asyncio.to_thread(release, self.store, [item_id], self.name, records)
        except Exception as exc:  # left on its lease
            log_failure(log, "inbox release failed", exc)

    async def _poll(self) -> None:
        while not self._stopping:
            try:
                await self.resume()
            except Exception as exc:  # the database is down: keep trying
                log_failure(log, "inbox poll failed", exc)
            await asyncio.sleep(self.poll_seconds)


def _aware(moment: datetime) -> datetime:
    """A stored time as an aware UTC one (SQLite gives it back naive)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
