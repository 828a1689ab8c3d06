"""The outbox: what a turn decides to say is committed with what it changed.

A turn for an inbox item runs in one transaction (`Store.one_transaction`). When it changed
anything, its replies go into the same transaction (table `inbox_decision`, by item and the
n-th turn of the item), so a turn that saved a referral cannot lose the notices to the
receiver and the relationship owner. A resumed item replays the stored replies instead of
routing again (which would find the work done and say only "Already saved"), and sends
already made for it are skipped (`bot.inbox.once`): the notices arrive exactly once, but
for a crash between the platform accepting a message and our record of it.

A turn that changed nothing stores nothing: routing it again decides the same.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from sqlalchemy import bindparam, insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot import inbox
from bot.messages import Reply, reply_from_data, reply_to_data
from bot.store import Store
from bot.store.models import InboxDecision

Route = Callable[[], list[Reply]]


@dataclass(frozen=True)
class Decision:
    """Which decision of which inbox item a turn is: the n-th turn of item `item_id`.
    Plain data, so a turn process can decide it too (`bot.turn_processes`)."""

    item_id: int
    n: int
    resumed: bool


def next_decision() -> Decision | None:
    """The decision the next turn of the inbox item this task is processing makes (call it
    in the event loop); None outside an item."""
    delivery = inbox.current()
    if delivery is None:
        return None
    n, delivery.next_decision = delivery.next_decision, delivery.next_decision + 1
    return Decision(delivery.item_id, n, delivery.resumed)


def deciding(route: Route) -> Route:
    """`route` (the router, for one turn) bound to the inbox item this task is processing:
    call it in the event loop, run what it returns in a turn thread. Outside an item,
    `route` itself."""
    delivery, decision = inbox.current(), next_decision()
    if delivery is None or decision is None:
        return route
    return partial(decide, delivery.store, decision, route)


def decide(store: Store, decision: Decision | None, route: Route) -> list[Reply]:
    """The replies an earlier attempt stored, or `route`'s, stored with what it changed."""
    if decision is None:
        return route()
    if decision.resumed:
        stored = _stored(store, decision)
        if stored is not None:
            return stored
    try:
        with store.one_transaction() as turn:
            replies = route()
            if turn.began:  # it changed something: the replies go with it
                data = [reply_to_data(r) for r in replies]
                # Core, on the turn's connection: the ORM's unit of work for one row cost
                # more than the INSERT (a duplicate now raises here, not at the commit).
                turn.session.connection().execute(
                    _INSERT, {"item_id": decision.item_id, "n": decision.n, "replies": data}
                )
    except IntegrityError:
        # Another attempt at the item (its claim had lapsed) decided first: nothing of this
        # one was committed, and the item goes on with that attempt's replies.
        stored = _stored(store, decision)
        if stored is None:
            raise
        return stored
    return replies


# Built once: SQLAlchemy then reuses their compiled forms.
_INSERT = insert(InboxDecision).inline()  # its id is never read: nothing returned
_REPLIES = select(InboxDecision.replies).where(
    col(InboxDecision.item_id) == bindparam("item"), col(InboxDecision.n) == bindparam("n")
)


def _stored(store: Store, decision: Decision) -> list[Reply] | None:
    with store.read() as session:
        row = session.exec(_REPLIES, params={"item": decision.item_id, "n": decision.n}).first()
    return None if row is None else [reply_from_data(r) for r in row]
