"""Referrals: creating them, moving them through their lifecycle, and keeping people informed.

Plain synchronous functions over a SQLModel session; the caller owns the transaction
(`with store.write() as session:`), so each change is one transaction that appends a
`ReferralEvent` and awards campaign points alongside it. Functions return the `Reply`s
that tell the other people concerned (addressed with `to_person`); the dialogue handler
adds what the speaker sees.

Lifecycle: new → accepted | declined → meeting → proposal → won (value) | lost (reason),
any open referral can be parked (and resumed), and the referrer can withdraw it.
Privacy: `can_see` is the one check of who may see a referral's client and details.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, String, and_, bindparam, cast, func, insert, update
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, or_, select

from bot import campaigns
from bot.messages import Button, Reply
from bot.money import Money, firm_currency
from bot.people import admins, by_ids, owner_of_client
from bot.render import label, render
from bot.store import insert_unless_taken, locked
from bot.store.models import Client, Person, Referral, ReferralEvent, ServiceCard

__all__ = [
    "ACTION_STATUSES",
    "DUPLICATE_WINDOW",
    "OPEN",
    "STATUSES",
    "USUAL_PATH",
    "Mine",
    "NewReferral",
    "Outcome",
    "ReferralError",
    "View",
    "actions_for",
    "allowed",
    "can_act",
    "can_see",
    "check_move",
    "consent_buttons",
    "confirm_client",
    "consent",
    "create",
    "client_and_owner",
    "receiver_and_client",
    "client_named",
    "find_duplicate",
    "funnel",
    "in_team",
    "mine",
    "move",
    "needs_consent",
    "net_givers",
    "proceeds_at",
    "remind_silent_owners",
    "status_counts",
    "team_matrix",
    "update_existing",
    "value_won",
    "view",
    "visible_for_client",
    "working_days_after",
]

STATUSES = (
    "new",
    "accepted",
    "declined",
    "meeting",
    "proposal",
    "won",
    "lost",
    "parked",
    "withdrawn",
)
OPEN = frozenset({"new", "accepted", "meeting", "proposal", "parked"})
# The statuses a referral usually passes through to reach each one, from "new" (seed data,
# test factories and benchmarks build histories with it).
USUAL_PATH: dict[str, list[str]] = {
    "new": ["new"],
    "accepted": ["new", "accepted"],
    "meeting": ["new", "accepted", "meeting"],
    "proposal": ["new", "accepted", "meeting", "proposal"],
    "won": ["new", "accepted", "meeting", "proposal", "won"],
    "lost": ["new", "accepted", "lost"],
}
# How far along the road each open step is; a move may skip steps forward, never back.
_STAGE = {"new": 0, "accepted": 1, "meeting": 2, "proposal": 3, "won": 4, "lost": 4}
# The action id of the button that moves a referral to each status.
ACTION_STATUSES = {
    "referral.accept": "accepted",
    "referral.decline": "declined",
    "referral.meeting": "meeting",
    "referral.proposal": "proposal",
    "referral.won": "won",
    "referral.lost": "lost",
    "referral.park": "parked",
    "referral.withdraw": "withdrawn",
}
DUPLICATE_WINDOW = timedelta(days=30)
CONSENT_WORKING_DAYS = 2
# Until the owner says go ahead, the receiver may accept but not take it further.
_WAITING_FOR_OWNER = frozenset({"pending", "talk_first"})
# Answers the owner may still give (after "let's talk first", the go-ahead is still to come).
_OWNER_MAY_ANSWER = frozenset({"pending", "lapsed", "talk_first"})
# Before the receiver accepts, a referral can only be accepted, declined, parked or withdrawn.
_BEFORE_ACCEPTANCE = frozenset({"accepted", "declined", "parked", "withdrawn"})


class ReferralError(Exception):
    """A change that cannot be made; `code` names why (the dialogue picks the words)."""

    def __init__(self, code: str, referral: Referral | None = None, **data: object) -> None:
        super().__init__(code)
        self.code = code
        self.referral = referral
        # The id, not the row: after a rollback the row's attributes are gone.
        self.referral_id = referral.id if referral is not None else None
        self.data = data


@dataclass
class NewReferral:
    """What the referrer confirmed: a client (known or as written) and a receiver."""

    client: str
    receiver: str  # email
    card: str | None = None
    estimate: Money | None = None
    note: str = ""
    # What was confirmed (a draft's key): the same confirmation never creates two referrals.
    confirmation: str | None = None


@dataclass
class Outcome:
    """A change made: the referral, the event appended, and who else must hear of it."""

    referral: Referral
    event: ReferralEvent | None = None
    notices: list[Reply] = field(default_factory=list)
    provisional_client: bool = False
    current: View | None = None  # the referral as it now reads (`view`), when already built


@dataclass
class View:
    """A referral with names resolved, for templates."""

    id: int
    client: str
    client_provisional: bool
    referrer: Person
    receiver: Person
    owner: Person | None
    card: str | None
    card_title: str | None
    status: str
    value: float | None
    currency: str | None
    won_value: float | None
    reason: str
    note: str
    consent: str
    created_at: datetime


@dataclass
class Mine:
    """A person's referrals: what they sent, what they received, what waits on them, and
    the referrals of the clients they look after (made by others, to others)."""

    sent: list[View] = field(default_factory=list)
    received: list[View] = field(default_factory=list)
    waiting: list[View] = field(default_factory=list)
    clients: list[View] = field(default_factory=list)


# -- looking things up -------------------------------------------------------------------


# Built once, so SQLAlchemy neither rebuilds nor re-keys them on every turn.
_LIVE_CLIENT_NAMED = select(Client).where(
    Client.name == bindparam("name"),
    Client.retired == False,  # noqa: E712
)


_LIVE_CLIENT_AND_OWNER = (
    select(Client, Person)
    .outerjoin(Person, col(Person.id) == Client.owner_id)
    .where(Client.name == bindparam("name"), Client.retired == False)  # noqa: E712
)


def client_named(session: Session, name: str) -> Client | None:
    """A live client by name or alias (case-insensitive), provisional ones included."""
    if not name.strip():
        return None
    # A name as the parser resolved it is usually the stored one, found on the name's index.
    exact = session.exec(_LIVE_CLIENT_NAMED, params={"name": name.strip()}).first()
    return exact if exact is not None else _client_folded(session, name)


def client_and_owner(session: Session, name: str) -> tuple[Client | None, Person | None]:
    """`client_named` and the client's relationship owner (one statement for a stored name)."""
    if not name.strip():
        return None, None
    row = session.exec(_LIVE_CLIENT_AND_OWNER, params={"name": name.strip()}).first()
    if row is not None:
        return row[0], row[1]
    return _folded_and_owner(session, name)


def _folded_and_owner(session: Session, name: str) -> tuple[Client | None, Person | None]:
    """`client_and_owner` for a name not written as stored: case folded, or an alias."""
    client = _client_folded(session, name)
    return client, owner_of_client(session, client)


def receiver_and_client(
    session: Session, receiver: str, client: str, card: str | None = None
) -> tuple[Person | None, Client | None, Person | None, str | None]:
    """The receiver by email, the live client by name or alias and its owner, and the
    card's title (when the receiver is found): one statement when the client is named as
    stored (`client_and_owner` otherwise)."""
    row = None
    if receiver.strip():
        values = {"email": receiver.strip().lower(), "name": client.strip(), "card": card}
        row = session.exec(_PLANNED, params=values).first()
    if row is None:
        return (None, *client_and_owner(session, client), None)
    person, found, owner, title = row
    if found is None and client.strip():  # not its stored name: folded, or an alias
        found, owner = _folded_and_owner(session, client)
    return person, found, owner, title


def _client_folded(session: Session, name: str) -> Client | None:
    """`client_named` for a name not written as stored: case folded, or an alias."""
    wanted = name.strip().casefold()
    live = select(Client).where(Client.retired == False).order_by(col(Client.id))  # noqa: E712
    if wanted.isascii() and not set(wanted) & set('"\\%_'):
        # The database narrows thousands of clients to the few that can match (its lower()
        # and LIKE fold ASCII only, hence the check); Python decides as below.
        found = session.exec(live.where(func.lower(Client.name) == wanted)).first()
        if found is not None:
            return found
        live = live.where(cast(Client.aliases, String).ilike(f"%{wanted}%"))
    clients = session.exec(live).all()
    for client in clients:
        if client.name.casefold() == wanted:
            return client
    return next((c for c in clients if wanted in {a.casefold() for a in c.aliases}), None)


def owner_id(session: Session, referral: Referral) -> int | None:
    client = session.get(Client, referral.client_id)
    return client.owner_id if client else None


def can_see(person: Person, referral: Referral, session: Session | None = None) -> bool:
    """Whether `person` may see this referral's client and details.

    Only the referrer, the receiver, the client's relationship owner and admins may.
    Without a session the owner cannot be looked up, so the check fails closed for them.
    """
    if person.is_admin or person.id in (referral.referrer_id, referral.receiver_id):
        return True
    return (
        session is not None and person.id is not None and owner_id(session, referral) == person.id
    )


def needs_consent(owner: int | None, referrer: int | None, receiver: int | None) -> bool:
    """Whether the client's relationship owner must give the go-ahead (the firm's setting
    aside): only when the owner is neither the referrer nor the receiver."""
    return bool(owner and owner not in (referrer, receiver))


def consent_buttons(referral_id: int | None, consent: str = "pending") -> list[Button]:
    """The owner's two answers, the same everywhere (once they asked to talk, only Go ahead)."""
    ref = {"id": referral_id}
    buttons = [Button(label("go_ahead"), "referral.consent_go", ref, "primary")]
    if consent != "talk_first":
        buttons.append(Button(label("lets_talk_first"), "referral.consent_talk", ref))
    return buttons


def check_move(session: Session, referral: Referral, actor: Person, to_status: str) -> None:
    """Raise `ReferralError` unless `actor` may move `referral` to `to_status` now.

    Codes: not_visible, not_allowed (not theirs to move), bad_move (the lifecycle forbids
    it), not_accepted (the receiver hasn't accepted yet) and waiting_for_owner (the owner
    hasn't said go ahead). Nobody, admins included, skips the receiver or the owner.
    """
    if not can_see(actor, referral, session):
        raise ReferralError("not_visible")
    if to_status not in STATUSES or not can_act(actor, referral, to_status):
        raise ReferralError("not_allowed", referral, status=to_status)
    if referral.status == to_status:  # a second press, here or on another replica
        raise ReferralError("already", referral, status=to_status)
    if referral.status == "new" and to_status in _STAGE and to_status not in _BEFORE_ACCEPTANCE:
        raise ReferralError("not_accepted", referral, status=to_status)
    if not allowed(referral.status, to_status):
        raise ReferralError("bad_move", referral, status=to_status)
    if referral.consent in _WAITING_FOR_OWNER and to_status in ("meeting", "proposal", "won"):
        raise ReferralError("waiting_for_owner", referral, status=to_status)


def can_act(person: Person, referral: Referral, to_status: str) -> bool:
    """Whether `person` may move the referral to `to_status` (the receiver or an admin; the
    referrer may withdraw)."""
    if to_status == "withdrawn":
        return person.id == referral.referrer_id or person.is_admin
    return person.id == referral.receiver_id or person.is_admin


def allowed(from_status: str, to_status: str) -> bool:
    """Whether the lifecycle permits the move."""
    if from_status not in OPEN or to_status == from_status:
        return False
    if to_status in ("parked", "withdrawn"):
        return True
    if to_status == "declined":
        return from_status == "new"
    if from_status == "parked":
        return to_status in _STAGE and to_status != "new"
    return to_status in _STAGE and _STAGE[to_status] > _STAGE[from_status]


def current_view(session: Session, outcome: Outcome) -> View:
    """The referral of `outcome` as it now reads: the view the change built, else a new one."""
    return outcome.current or view(session, outcome.referral)


# What a view names besides the referral's own columns, read in one statement: its client,
# card title, referrer, receiver and the client's owner (one look-up each would be five).
_REFERRER, _RECEIVER, _OWNER = aliased(Person), aliased(Person), aliased(Person)
_NAMED = (
    sa_select(Client, col(ServiceCard.title), _REFERRER, _RECEIVER, _OWNER)
    .select_from(Referral)
    .join(_REFERRER, col(_REFERRER.id) == Referral.referrer_id)
    .join(_RECEIVER, col(_RECEIVER.id) == Referral.receiver_id)
    .outerjoin(Client, col(Client.id) == Referral.client_id)
    .outerjoin(_OWNER, col(_OWNER.id) == Client.owner_id)
    .outerjoin(ServiceCard, col(ServiceCard.id) == Referral.card_id)
    .where(col(Referral.id) == bindparam("id"))
)
# The referral itself too, for a turn that starts from its id.
_REFERRAL_NAMED = _NAMED.add_columns(Referral)


def view(session: Session, referral: Referral) -> View:
    """The referral with names resolved (its ids as stored: a referral never changes client,
    card or people, so a changed copy of the row reads the same names)."""
    return _view_of(referral, session.execute(_NAMED, {"id": referral.id}).one())


def _view_of(referral: Referral, named: Any) -> View:
    """The view from a row of `_NAMED`: (client, card title, referrer, receiver, owner)."""
    client, card_title, referrer, receiver, owner = tuple(named)[:5]
    people = {referrer.id: referrer, receiver.id: receiver}
    if owner is not None:
        people[owner.id] = owner
    return _view(referral, client, people, card_title)


def _view(
    referral: Referral, client: Client | None, people: dict[int, Person], card_title: str | None
) -> View:
    """The view of a referral from rows already read."""
    assert referral.id is not None
    return View(
        id=referral.id,
        client=client.name if client else "?",
        client_provisional=bool(client and client.provisional),
        referrer=people[referral.referrer_id],
        receiver=people[referral.receiver_id],
        owner=people.get(client.owner_id) if client and client.owner_id else None,
        card=referral.card_id,
        card_title=card_title,
        status=referral.status,
        value=referral.value,
        currency=referral.currency,
        won_value=referral.won_value,
        reason=referral.reason,
        note=referral.note,
        consent=referral.consent,
        created_at=referral.created_at,
    )


# Ids only, on the connection: the answer is nearly always none, and the ORM's machinery
# would cost more than the look-up; a referral found is then read whole.
_DUPLICATES = select(Referral.id).where(
    Referral.client_id == bindparam("client"),
    Referral.receiver_id == bindparam("receiver"),
    Referral.created_at >= bindparam("since"),
    col(Referral.status).not_in(["withdrawn", "declined"]),
)
_DUPLICATES_FOR_CARD = _DUPLICATES.where(Referral.card_id == bindparam("card")).order_by(
    col(Referral.created_at).desc()
)
_DUPLICATES_FOR_NO_CARD = _DUPLICATES.where(col(Referral.card_id).is_(None)).order_by(
    col(Referral.created_at).desc()
)


def find_duplicate(
    session: Session,
    client_id: int,
    receiver_id: int,
    card_id: str | None,
    now: datetime,
    seen_by: Person | None = None,
) -> Referral | None:
    """A referral of the same client to the same receiver for the same service, in 30 days.

    With `seen_by`, only one that person may see counts: asking "update the existing
    one?" about someone else's referral would reveal it.
    """
    query = _DUPLICATES_FOR_CARD if card_id else _DUPLICATES_FOR_NO_CARD
    values = {"client": client_id, "receiver": receiver_id, "since": now - DUPLICATE_WINDOW}
    found = session.connection().execute(query, {**values, "card": card_id} if card_id else values)
    rows = (session.get(Referral, referral_id) for referral_id in found.scalars().all())
    return next((r for r in rows if r and (seen_by is None or can_see(seen_by, r, session))), None)


def visible_for_client(session: Session, person: Person, client_id: int) -> list[Referral]:
    """The open referrals of a client that `person` may see, newest first."""
    rows = session.exec(
        select(Referral)
        .where(Referral.client_id == client_id, col(Referral.status).in_(sorted(OPEN)))
        .order_by(col(Referral.created_at).desc())
    ).all()
    return [r for r in rows if can_see(person, r, session)]


def mine(session: Session, person: Person, limit: int = 10) -> Mine:
    """What `person` sent, received, and what waits on them (to accept, or to consent to)."""
    assert person.id is not None
    newest = col(Referral.updated_at).desc()
    sent = session.exec(
        select(Referral).where(Referral.referrer_id == person.id).order_by(newest).limit(limit)
    ).all()
    received = session.exec(
        select(Referral).where(Referral.receiver_id == person.id).order_by(newest).limit(limit)
    ).all()
    waiting = list(
        session.exec(
            select(Referral)
            .where(Referral.receiver_id == person.id, Referral.status == "new")
            .order_by(newest)
        )
    )
    owned = [c.id for c in session.exec(select(Client).where(Client.owner_id == person.id))]
    clients: list[Referral] = []
    if owned:
        clients = list(
            session.exec(
                select(Referral)
                .where(
                    col(Referral.client_id).in_(owned),
                    Referral.referrer_id != person.id,
                    Referral.receiver_id != person.id,
                )
                .order_by(newest)
                .limit(limit)
            )
        )
        waiting += session.exec(
            select(Referral)
            .where(
                col(Referral.client_id).in_(owned),
                col(Referral.consent).in_(sorted(_WAITING_FOR_OWNER)),
                col(Referral.status).in_(sorted(OPEN)),
            )
            .order_by(newest)
        ).all()
    unique = {r.id: r for r in waiting}
    return Mine(
        sent=[view(session, r) for r in sent],
        received=[view(session, r) for r in received],
        waiting=[view(session, r) for r in unique.values() if r.status in OPEN],
        clients=[view(session, r) for r in clients],
    )


# -- creating ----------------------------------------------------------------------------


@dataclass
class Creation:
    """A referral worked out before it is saved (`apply_create` saves it): the row to
    insert, still without an id, and what its answer and notices name."""

    referral: Referral
    referrer: Person
    new: NewReferral
    client: Client | None  # None: a provisional client is made when it is saved
    people: dict[int, Person]  # the referrer, the receiver and the client's owner
    card_title: str | None
    owner_consent: bool


def plan_create(
    session: Session,
    referrer: Person,
    new: NewReferral,
    now: datetime,
    owner_consent: bool = True,
) -> Creation:
    """What `create` reads, on any session (a read one included): the receiver, the client,
    the people and the card. Raises `ReferralError` for an unknown receiver or oneself."""
    receiver, client, owner, title = receiver_and_client(
        session, new.receiver, new.client, new.card
    )
    if receiver is None or not receiver.active:
        raise ReferralError("unknown_receiver", email=new.receiver)
    if receiver.id == referrer.id:
        raise ReferralError("self_referral")
    assert referrer.id is not None and receiver.id is not None
    if client is None:
        client = _retired_client(session, new.client)
        owner = owner_of_client(session, client)
    referral = Referral.between(
        referrer,
        receiver,
        client_id=client.id if client and client.id else 0,
        card_id=new.card,
        value=new.estimate.value if new.estimate else None,
        currency=(new.estimate.currency or firm_currency()) if new.estimate else None,
        note=new.note.strip(),
        confirmation=new.confirmation or None,
        created_at=now,
        updated_at=now,
    )
    people = {p.id: p for p in (referrer, receiver, owner) if p is not None and p.id is not None}
    return Creation(referral, referrer, new, client, people, title, owner_consent)


_CARD_TITLE = select(ServiceCard.title).where(col(ServiceCard.id) == bindparam("card"))
_PLANNED_RECEIVER, _PLANNED_OWNER = aliased(Person), aliased(Person)
# What `plan_create` reads: the receiver by email, the live client by its stored name and
# that client's owner (None when not so named), and the card's title (its one column: a
# card's row carries its whole text).
_PLANNED = (
    select(_PLANNED_RECEIVER, Client, _PLANNED_OWNER, _CARD_TITLE.scalar_subquery())
    .select_from(_PLANNED_RECEIVER)
    .outerjoin(Client, and_(col(Client.name) == bindparam("name"), col(Client.retired).is_(False)))
    .outerjoin(_PLANNED_OWNER, col(_PLANNED_OWNER.id) == Client.owner_id)
    .where(_PLANNED_RECEIVER.email == bindparam("email"))
)


def apply_create(session: Session, planned: Creation, now: datetime) -> Outcome:
    """Save a planned referral and tell the receiver, the owner and (if needed) admins.

    The write reads only what decides the outcome, afresh: a duplicate, and (for a client
    not known when planned) the client, created as provisional when still unknown, owned
    by the referrer until an admin confirms it. With `owner_consent`, a referral of someone
    else's client waits for the owner's go-ahead. Raises `ReferralError("duplicate")` for a
    repeat within 30 days, and `ReferralError("already_saved")` for a confirmation already
    saved (a double press: the insert's unique key decides, on any replica).
    """
    referral, referrer, new = planned.referral, planned.referrer, planned.new
    receiver = planned.people[referral.receiver_id]
    assert referrer.id is not None and receiver.id is not None
    if session.get_bind().dialect.name != "sqlite":  # SQLite's writes are serial already
        _lock_person(session, referrer)  # one creation per referrer at a time, on any replica
    client, provisional = (
        (planned.client, False) if planned.client else _client_for(session, new.client, referrer)
    )
    assert client.id is not None
    existing = find_duplicate(session, client.id, receiver.id, new.card, now, seen_by=referrer)
    if existing is not None:
        # The first of two presses is the duplicate the second finds: saved already.
        same = new.confirmation and existing.confirmation == new.confirmation
        raise ReferralError("already_saved" if same else "duplicate", existing)
    asks_owner = planned.owner_consent and needs_consent(client.owner_id, referrer.id, receiver.id)
    referral.client_id = client.id
    referral.consent = "pending" if asks_owner else "not_needed"
    statement = insert_unless_taken(Referral, "confirmation", session.get_bind().dialect.name)
    referral.id = (
        session.connection().execute(statement, referral.model_dump(exclude={"id"})).scalar()
    )
    if referral.id is None:  # the confirmation's key is taken: saved already
        saved = session.exec(
            select(Referral).where(Referral.confirmation == new.confirmation)
        ).first()
        raise ReferralError("already_saved", saved)
    people = planned.people
    if client.owner_id and client.owner_id not in people:  # a client made since the plan
        people = {**people, **by_ids(session, {client.owner_id})}
    current = _view(referral, client, people, planned.card_title)
    event = _event(referral, referrer, None, "new", now, referral.note)
    _record(session, referral, event, current)
    notices = [_to_receiver(current)]
    if current.owner and current.owner.id not in (referrer.id, receiver.id):
        notices.append(_to_owner(current, asks_owner))
    if provisional:
        notices += _to_admins(session, current)
    return Outcome(referral, event, notices, provisional, current)


def _client_for(session: Session, name: str, referrer: Person) -> tuple[Client, bool]:
    """The client of that name, read in the write, or a provisional one made now (True)."""
    client = client_named(session, name) or _retired_client(session, name)
    if client is not None:
        return client, False
    client = Client(name=name.strip(), owner_id=referrer.id, provisional=True)
    session.add(client)
    session.flush()
    return client, True


def create(
    session: Session,
    referrer: Person,
    new: NewReferral,
    now: datetime,
    owner_consent: bool = True,
) -> Outcome:
    """`plan_create` and `apply_create` in one transaction (see both); the outcome's
    referral is the session's row, so later moves in the session show on it."""
    outcome = apply_create(session, plan_create(session, referrer, new, now, owner_consent), now)
    row = session.get(Referral, outcome.referral.id)
    assert row is not None
    outcome.referral = row
    return outcome


def update_existing(
    session: Session,
    referral_id: int,
    actor: Person,
    now: datetime,
    estimate: Money | None = None,
    note: str = "",
) -> Outcome:
    """Fold a repeated referral into the existing one: a new estimate and note, one event."""
    referral = _load(session, referral_id)
    if not can_see(actor, referral, session):
        raise ReferralError("not_visible")
    if estimate is not None:
        referral.value = estimate.value
        referral.currency = estimate.currency or referral.currency or firm_currency()
    if note.strip() and note.strip() not in referral.note:
        referral.note = f"{referral.note}\n{note.strip()}".strip()
    referral.updated_at = now
    session.add(referral)
    event = _append(session, referral, actor, referral.status, referral.status, now, "updated")
    current = view(session, referral)
    buttons = actions_for(current.receiver, referral)
    notices = _tell_others(current, actor, "referral_updated_notice", buttons)
    return Outcome(referral, event, notices, current=current)


# -- moving it on ------------------------------------------------------------------------


@dataclass
class Move:
    """A move worked out before it is made: the referral as it will read (a copy, in no
    session), its event, view and notices; `seen_status` and `seen_at` are the row as read."""

    outcome: Outcome
    seen_status: str
    seen_at: datetime


@dataclass(frozen=True)
class MoveTo:
    """Where a move takes a referral, with what the mover gave: the value `won` (for "won";
    else the estimate counts), a `reason` (lost, declined, parked, withdrawn) or a `note`."""

    status: str
    won: Money | None = None
    reason: str = ""
    note: str = ""


def plan_move(session: Session, referral_id: int, actor: Person, to: MoveTo, now: datetime) -> Move:
    """`move` worked out on any session, a read one included (nothing is written or
    locked); `apply_move` then makes it. Raises `ReferralError` as `check_move` says."""
    named = session.execute(_REFERRAL_NAMED, {"id": referral_id}).first()
    if named is None:
        raise ReferralError("not_visible")
    return _planned(session, named[-1], actor, to, now, named)


def _planned(
    session: Session, found: Referral, actor: Person, to: MoveTo, now: datetime, named: Any = None
) -> Move:
    """The move worked out from `found` (and its `_NAMED` row, when read with it)."""
    check_move(session, found, actor, to.status)
    referral = Referral(**found.model_dump())  # a copy: the row read stays as it was
    from_status, won = referral.status, to.won
    referral.status, referral.updated_at = to.status, now
    if to.status == "won":
        referral.won_value = won.value if won is not None else referral.value
        if won is not None or referral.currency is None:
            given = won.currency if won is not None else None
            referral.currency = given or referral.currency or firm_currency()
    if to.status in ("lost", "declined", "parked", "withdrawn"):
        referral.reason = to.reason.strip()
    # First: its people are then at hand for the points.
    current = _view_of(referral, named) if named is not None else view(session, referral)
    event = _event(referral, actor, from_status, to.status, now, (to.reason or to.note).strip())
    show = [Button(label("show_referral"), "referral.show", {"id": current.id})]
    notices = _tell_others(current, actor, "referral_status_notice", show, before=from_status)
    outcome = Outcome(referral, event, notices, current=current)
    return Move(outcome, found.status, found.updated_at)


# A compare-and-set, built once: the move is made only on the row as it was read.
_MOVE = (
    update(Referral)
    .where(
        col(Referral.id) == bindparam("ref"),
        col(Referral.status) == bindparam("seen_status"),
        col(Referral.updated_at) == bindparam("seen_at"),
    )
    .values(
        status=bindparam("status"),
        updated_at=bindparam("now"),
        won_value=bindparam("won_value"),
        currency=bindparam("currency"),
        reason=bindparam("reason"),
    )
)


def apply_move(session: Session, planned: Move) -> bool:
    """Make a planned move, with its event and points, if the referral is still as it was
    read: one compare-and-set on its status and last change. False when anything changed
    it since (a second press, here or on another replica): nothing is written then, and
    `move` works it out again under the row's lock."""
    referral, event = planned.outcome.referral, planned.outcome.event
    assert event is not None
    values = {
        "ref": referral.id,
        "seen_status": planned.seen_status,
        "seen_at": planned.seen_at,
        "status": referral.status,
        "now": referral.updated_at,
        "won_value": referral.won_value,
        "currency": referral.currency,
        "reason": referral.reason,
    }
    if session.connection().execute(_MOVE, values).rowcount != 1:
        return False
    _record(session, referral, event, planned.outcome.current)
    return True


def move(session: Session, referral_id: int, actor: Person, to: MoveTo, now: datetime) -> Outcome:
    """Move a referral on as `to` says, append its event and tell the others concerned:
    worked out from the row locked and read afresh, then made (`apply_move`).

    Raises `ReferralError` as `check_move` says.
    """
    found = _load(session, referral_id)
    planned = _planned(session, found, actor, to, now)
    made = apply_move(session, planned)
    assert made  # the row is locked by this transaction: nothing changed it since
    session.expire(found)  # the copy was written: the next read of the row is fresh
    return planned.outcome


def consent(
    session: Session, referral_id: int, owner: Person, go_ahead: bool, now: datetime
) -> Outcome:
    """The relationship owner's answer: go ahead, or let's talk first."""
    referral = _load(session, referral_id)
    is_owner = owner.id is not None and owner_id(session, referral) == owner.id
    if not (is_owner or owner.is_admin):
        raise ReferralError("not_visible" if not can_see(owner, referral, session) else "not_owner")
    if referral.status not in OPEN:
        raise ReferralError("closed", referral)
    if referral.consent not in _OWNER_MAY_ANSWER or (
        not go_ahead and referral.consent == "talk_first"
    ):
        raise ReferralError("already_answered", referral, consent=referral.consent)
    answer = "given" if go_ahead else "talk_first"
    referral.consent, referral.updated_at = answer, now
    session.add(referral)
    event = _append(
        session, referral, owner, referral.status, referral.status, now, f"owner: {answer}"
    )
    current = view(session, referral)
    template = "referral_consent_go_notice" if go_ahead else "referral_consent_talk_notice"
    notices = [
        Reply(
            render(template, r=current, owner=owner, me=who),
            buttons=actions_for(who, referral) if who.id == referral.receiver_id else [],
            to_person=who.email,
            kind=template,
        )
        for who in _others(current, owner, include_receiver=True)
        if who.id != (current.owner.id if current.owner else None)
    ]
    return Outcome(referral, event, notices, current=current)


def working_days_after(start: datetime, days: int, zone: ZoneInfo) -> datetime:
    """The moment `days` working days (Mon–Fri, in the firm's time zone) after `start`."""
    local = start.astimezone(zone)
    counted = 0
    while counted < days:
        local = (local + timedelta(days=1)).replace(tzinfo=zone)
        if local.weekday() < 5:
            counted += 1
    return local


def awaiting_owner_reminder(session: Session, now: datetime, zone: ZoneInfo) -> list[Referral]:
    """Open referrals whose owner has not answered the consent question for 2 working days
    and has not been reminded: the nudges' `consent` rule reminds them."""
    pending = session.exec(
        select(Referral).where(
            Referral.consent == "pending",
            col(Referral.status).in_(sorted(OPEN)),
            col(Referral.consent_reminded_at).is_(None),
        )
    ).all()
    return [
        r for r in pending if working_days_after(r.created_at, CONSENT_WORKING_DAYS, zone) <= now
    ]


def owner_reminded(
    session: Session, referral_id: int, now: datetime, zone: ZoneInfo
) -> list[Reply]:
    """The consent reminder went to the owner now: the referral proceeds 2 working days from
    now unless they answer, and the receiver and referrer are told that moment."""
    referral = session.get(Referral, referral_id)
    if referral is None or referral.consent != "pending":
        return []
    referral.consent_reminded_at = now
    session.add(referral)
    current = view(session, referral)
    proceeds = proceeds_at(referral, zone).astimezone(zone)
    return [
        Reply(
            render("referral_consent_reminded_notice", r=current, me=who, proceeds=proceeds),
            to_person=who.email,
            kind="referral_consent_reminded_notice",
        )
        for who in (current.receiver, current.referrer)
    ]


def remind_silent_owners(
    session: Session, now: datetime, timezone: str | ZoneInfo | None = None
) -> list[Reply]:
    """Referrals whose owner stayed silent after the reminder proceed without them.

    The reminder itself is a nudge (`nudges`' `consent` rule: the attention budget, Snooze
    and Not relevant apply); 2 working days after it was sent, with still no answer, the
    referral proceeds (consent "lapsed") and everyone is told, the owner included, who can
    still ask to talk first. An owner who cannot be reminded (nudges off, left the firm) does
    not hold a referral up: it proceeds when it would have had the reminder gone out on
    time. Run daily by the scheduler; running it again never repeats a step.
    """
    zone = _zone(timezone)
    pending = session.exec(
        select(Referral).where(
            Referral.consent == "pending", col(Referral.status).in_(sorted(OPEN))
        )
    ).all()
    replies: list[Reply] = []
    for referral in pending:
        reminded = referral.consent_reminded_at is not None
        if proceeds_at(referral, zone) <= now and (reminded or _unremindable(session, referral)):
            replies += _proceed_without_owner(session, referral, now)
    return replies


def proceeds_at(referral: Referral, zone: ZoneInfo) -> datetime:
    """When a referral whose owner stays silent proceeds without them."""
    reminded = referral.consent_reminded_at or working_days_after(
        referral.created_at, CONSENT_WORKING_DAYS, zone
    )
    return working_days_after(reminded, CONSENT_WORKING_DAYS, zone)


def _unremindable(session: Session, referral: Referral) -> bool:
    """Whether no consent reminder can reach the client's owner (gone, or nudges off)."""
    from bot import nudges  # nudges reads referrals; the reverse is needed only here

    owner = owner_of_client(session, session.get(Client, referral.client_id))
    return owner is None or not owner.active or nudges.is_off(session, owner.id or 0)


def _proceed_without_owner(session: Session, referral: Referral, now: datetime) -> list[Reply]:
    referral.consent, referral.updated_at = "lapsed", now
    session.add(referral)
    _append(session, referral, None, referral.status, referral.status, now, "owner: lapsed")
    current = view(session, referral)
    replies = [
        Reply(
            render("referral_consent_lapsed_notice", r=current, me=who),
            buttons=actions_for(who, referral, current.owner.id if current.owner else None),
            to_person=who.email,
            kind="referral_consent_lapsed_notice",
        )
        for who in (current.receiver, current.referrer, current.owner)
        if who is not None
    ]
    return replies


# -- buttons -----------------------------------------------------------------------------


def actions_for(person: Person, referral: Referral, owner: int | None = None) -> list[Button]:
    """The buttons `person` may press on this referral now."""
    ref = {"id": referral.id}
    buttons: list[Button] = []
    status = referral.status
    if person.id == referral.receiver_id:
        if status == "new":
            buttons += [
                Button(label("accept"), "referral.accept", ref, "primary"),
                Button(label("decline"), "referral.decline", ref, "danger"),
            ]
        elif status in OPEN:
            # Until the owner's go-ahead, a meeting, proposal or win would only be refused.
            onward = referral.consent not in _WAITING_FOR_OWNER
            if onward and allowed(status, "meeting"):
                buttons.append(Button(label("meeting_held"), "referral.meeting", ref))
            if onward and allowed(status, "proposal"):
                buttons.append(Button(label("proposal_sent"), "referral.proposal", ref))
            if onward:
                buttons.append(Button(label("won"), "referral.won", ref, "primary"))
            buttons.append(Button(label("lost"), "referral.lost", ref))
            if status != "parked":
                buttons.append(Button(label("park"), "referral.park", ref))
    if person.id == referral.referrer_id and status in OPEN:
        buttons.append(Button(label("withdraw"), "referral.withdraw", ref, "danger"))
    if owner is not None and person.id == owner and referral.consent in _OWNER_MAY_ANSWER:
        buttons += consent_buttons(referral.id, referral.consent)
    parties = (referral.referrer_id, referral.receiver_id, owner)
    if status == "won" and (person.id in parties or person.is_admin):
        # A win nobody hears about changes nothing: offer the story while it's fresh.
        buttons.append(
            Button(label("share_it_as_a_story"), "story.from_referral", {"referral": ref["id"]})
        )
    return buttons


# -- internals ---------------------------------------------------------------------------


_INSERT_EVENT = insert(ReferralEvent).returning(col(ReferralEvent.id))


def _append(
    session: Session,
    referral: Referral,
    actor: Person | None,
    from_status: str | None,
    to_status: str,
    now: datetime,
    note: str = "",
) -> ReferralEvent:
    """Append the audit event; a change of status also earns campaign points, same transaction."""
    event = _event(referral, actor, from_status, to_status, now, note)
    session.flush()  # the referral's own changes go first
    _record(session, referral, event)
    return event


def _event(
    referral: Referral,
    actor: Person | None,
    from_status: str | None,
    to_status: str,
    now: datetime,
    note: str,
) -> ReferralEvent:
    assert referral.id is not None
    return ReferralEvent(
        referral_id=referral.id,
        actor_id=actor.id if actor else None,
        at=now,
        from_status=from_status,
        to_status=to_status,
        note=note,
    )


def _record(
    session: Session,
    referral: Referral,
    event: ReferralEvent,
    current: View | None = None,
) -> None:
    """Insert the event (a Core insert, built once: the ORM's unit of work costs more than
    the row) and, for a change of status, its points (with `current`'s people, read already)."""
    row = event.model_dump(exclude={"id"})
    event.id = session.connection().execute(_INSERT_EVENT, row).scalar()
    if event.from_status != event.to_status:
        people = (
            {p.id: p for p in (current.referrer, current.receiver) if p.id} if current else None
        )
        campaigns.award_for_referral_event(session, referral, event, event.at, people)


def _lock_person(session: Session, person: Person) -> None:
    """Hold `person`'s row until this transaction ends (no-op on SQLite, see `_load`)."""
    session.connection().execute(_LOCK_PERSON, {"person": person.id}).first()


# Built once: a statement built per call cost more than its round trip (its cache key is
# worked out again each time; a built one's is kept).
_LOCK_PERSON = (
    sa_select(col(Person.id)).where(col(Person.id) == bindparam("person")).with_for_update()
)


def _retired_client(session: Session, name: str) -> Client | None:
    """A client no longer in clients.csv keeps its row (and name): refer to that one."""
    wanted = name.strip().casefold()
    rows = session.exec(select(Client).where(Client.retired == True)).all()  # noqa: E712
    return next((c for c in rows if c.name.casefold() == wanted), None)


def _load(session: Session, referral_id: int) -> Referral:
    """The referral, locked for this transaction (`FOR UPDATE` on PostgreSQL; SQLite's
    write transactions are serial already), read afresh: every change starts from the
    status another replica may just have committed."""
    referral = locked(session, Referral, referral_id)
    if referral is None:
        raise ReferralError("not_visible")  # the same answer as for someone else's referral
    return referral


def _others(current: View, actor: Person, include_receiver: bool = False) -> list[Person]:
    """Referrer, owner (and receiver) minus the actor, each once."""
    people = [current.referrer] + ([current.owner] if current.owner else [])
    if include_receiver:
        people.append(current.receiver)
    seen: set[int | None] = {actor.id}
    result = []
    for person in people:
        if person.id not in seen and person.active:
            seen.add(person.id)
            result.append(person)
    return result


def _tell_others(
    current: View, actor: Person, template: str, buttons: list[Button], **values: Any
) -> list[Reply]:
    """Notice `template` (with `actor` and `values`) to each party but the actor, each with
    its own copy of `buttons`."""
    return [
        Reply(
            render(template, r=current, actor=actor, **values),
            buttons=list(buttons),
            to_person=who.email,
            kind=template,
        )
        for who in _others(current, actor, include_receiver=True)
    ]


def _to_receiver(current: View) -> Reply:
    ref = {"id": current.id}
    return Reply(
        render("referral_new_receiver", r=current),
        buttons=[
            Button(label("accept"), "referral.accept", ref, "primary"),
            Button(label("decline"), "referral.decline", ref, "danger"),
        ],
        to_person=current.receiver.email,
        kind="referral_new_receiver",
    )


def _to_owner(current: View, asks: bool) -> Reply:
    assert current.owner is not None
    ref = {"id": current.id}
    buttons = [Button(label("show_referral"), "referral.show", ref)]
    if asks:
        buttons = consent_buttons(current.id) + buttons
    return Reply(
        render("referral_new_owner", r=current, consent=asks),
        buttons=buttons,
        to_person=current.owner.email,
        kind="referral_new_owner",
    )


def _to_admins(session: Session, current: View) -> list[Reply]:
    return [
        Reply(
            render("referral_provisional_client", r=current, admin=admin),
            buttons=[Button(label("confirm_client"), "referral.client_ok", {"id": current.id})],
            to_person=admin.email,
            kind="referral_provisional_client",
        )
        for admin in admins(session)
        if admin.id != current.referrer.id
    ]


def confirm_client(session: Session, referral_id: int, admin: Person) -> Client:
    """An admin confirms a provisional client created by a referral."""
    if not admin.is_admin:
        raise ReferralError("not_allowed")
    referral = _load(session, referral_id)
    client = session.get(Client, referral.client_id)
    assert client is not None
    client.provisional = False
    session.add(client)
    return client


def _zone(timezone: str | ZoneInfo | None) -> ZoneInfo:
    if isinstance(timezone, ZoneInfo):
        return timezone
    if timezone:
        return ZoneInfo(timezone)
    from bot.settings import get_settings

    return get_settings().zone


# -- reporting ---------------------------------------------------------------------------


def in_team(team: str | None) -> list[ColumnElement[bool]]:
    """Conditions on `Referral` for "given or received by `team`" (none for the whole firm)."""
    if team is None:
        return []
    return [or_(col(Referral.referrer_team) == team, col(Referral.receiver_team) == team)]


def funnel(session: Session, team: str | None = None) -> list[tuple[str, int]]:
    """How many referrals reached each step, from their events: a referral counts in every
    stage of the road up to the furthest it reached (a won one also passed accepted, ...),
    and in each side status it went to (declined, lost, parked, withdrawn)."""
    query = select(ReferralEvent.referral_id, ReferralEvent.to_status).distinct()
    if team is not None:
        query = query.join(Referral, col(Referral.id) == col(ReferralEvent.referral_id))
    reached: dict[int, set[str]] = {}
    for referral_id, status in session.exec(query.where(*in_team(team))).all():
        reached.setdefault(referral_id, set()).add(status)
    road = USUAL_PATH["won"]
    counts = dict.fromkeys(STATUSES, 0)
    for statuses in reached.values():
        furthest = max((road.index(s) for s in statuses if s in road), default=-1)
        for status in STATUSES:
            on_road = status in road and road.index(status) <= furthest
            counts[status] += on_road or (status not in road and status in statuses)
    return [(status, counts[status]) for status in STATUSES]


def status_counts(session: Session, team: str | None = None) -> list[tuple[str, int]]:
    """How many referrals are in each status now."""
    rows = dict(
        session.exec(
            select(Referral.status, func.count()).where(*in_team(team)).group_by(Referral.status)
        ).all()
    )
    return [(status, int(rows.get(status, 0))) for status in STATUSES]


def value_won(session: Session, team: str | None = None) -> list[tuple[str, str, float, int]]:
    """Value won by receiving team and currency: (team, currency, total, count)."""
    rows = session.exec(
        select(
            Referral.receiver_team,
            Referral.currency,
            func.sum(Referral.won_value),
            func.count(),
        )
        .where(Referral.status == "won", *in_team(team))
        .group_by(col(Referral.receiver_team), col(Referral.currency))
    ).all()
    return sorted(
        (
            (team, currency or firm_currency(), float(total or 0), int(n))
            for team, currency, total, n in rows
        ),
        key=lambda row: -row[2],
    )


def team_matrix(
    session: Session, start: datetime | None = None, end: datetime | None = None
) -> dict[tuple[str, str], int]:
    """Referrals given by one team (referrer) to another (receiver), withdrawn ones aside;
    with `start` / `end`, only those made in [start, end)."""
    window = []
    if start is not None:
        window.append(col(Referral.created_at) >= start)
    if end is not None:
        window.append(col(Referral.created_at) < end)
    rows = session.exec(
        select(Referral.referrer_team, Referral.receiver_team, func.count())
        .where(Referral.status != "withdrawn", *window)
        .group_by(Referral.referrer_team, Referral.receiver_team)
    ).all()
    return {(giver, taker): int(n) for giver, taker, n in rows}


def net_givers(matrix: dict[tuple[str, str], int]) -> list[tuple[str, int, int, int]]:
    """Per team: (team, given, received, net) with net = given − received, biggest givers first."""
    teams = sorted({t for pair in matrix for t in pair})
    rows = []
    for team in teams:
        given = sum(n for (giver, taker), n in matrix.items() if giver == team and taker != team)
        taken = sum(n for (giver, taker), n in matrix.items() if taker == team and giver != team)
        rows.append((team, given, taken, given - taken))
    return sorted(rows, key=lambda row: (-row[3], row[0]))
