"""Rows for tests, written directly (the referral engineer's domain functions are elsewhere)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlmodel import Session, SQLModel, select

from bot.context import Context
from bot.referrals import USUAL_PATH
from bot.store.models import Client, Person, Referral, ReferralEvent

Row = TypeVar("Row", bound=SQLModel)


def fetch(ctx: Context, model: type[Row], ident: int) -> Row:
    """Row `ident` of `model` as the database holds it now (the test fails if there is none)."""
    with ctx.store.read() as session:
        row = session.get(model, ident)
        assert row is not None, (model.__name__, ident)
        return row


def person(session: Session, email: str) -> Person:
    found = session.exec(select(Person).where(Person.email == email)).first()
    assert found is not None, email
    return found


def client(session: Session, name: str) -> Client:
    found = session.exec(select(Client).where(Client.name == name)).first()
    assert found is not None, name
    return found


def referral(
    session: Session,
    client_name: str,
    referrer: str,
    receiver: str,
    at: datetime,
    status: str = "new",
    value: float | None = None,
    step: timedelta = timedelta(hours=1),
    card: str | None = None,
    consent: str = "not_needed",
) -> Referral:
    """A referral made at `at`, moved through its statuses one `step` apart (`consent`
    "pending": waiting on the client's relationship owner)."""
    giver, taker = person(session, referrer), person(session, receiver)
    row = Referral.between(
        giver,
        taker,
        client_id=client(session, client_name).id,
        card_id=card,
        consent=consent,
        value=value,
        currency="GBP" if value else None,
        won_value=value if status == "won" else None,
        status=status,
        created_at=at,
        updated_at=at + step * (len(USUAL_PATH[status]) - 1),
    )
    session.add(row)
    session.flush()
    previous = None
    for n, to_status in enumerate(USUAL_PATH[status]):
        session.add(
            ReferralEvent(
                referral_id=row.id,
                actor_id=giver.id if n == 0 else taker.id,
                at=at + step * n,
                from_status=previous,
                to_status=to_status,
            )
        )
        previous = to_status
    return row


def referral_id(ctx: Context, *args: Any, **options: Any) -> int:
    """`referral(session, *args, **options)` in a transaction of its own: the new row's id."""
    with ctx.store.write() as session:
        row = referral(session, *args, **options)
        assert row.id is not None
        return row.id
