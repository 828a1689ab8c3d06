"""Helpers for the campaign tests: a week-long campaign, referrals and their steps as rows.

Also a pytest plugin (registered in tests/conftest.py): the `clock` and `week` fixtures.

The referral domain is built elsewhere, so these tests write `Referral` and
`ReferralEvent` rows directly and call the award seam the way the referral flow does.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlmodel import Session, col, func, select

from bot.campaigns import award_for_referral_event, create_campaign, start_campaign
from bot.context import Context
from bot.store.models import Campaign, Person, PointEvent, Referral, ReferralEvent
from tests.conftest import frozen_clock
from tests.factories import referral

MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # London is on UTC in winter
FRIDAY = date(2026, 12, 4)
PNG = b"\x89PNG\r\n\x1a\n"  # the signature every PNG file starts with

PRIYA = "priya.shah@hartwellfinch.example"  # Employment, Manchester
OWEN = "owen.gallagher@hartwellfinch.example"  # Employment, London
SAM = "sam.patel@hartwellfinch.example"  # Tax, ambassador
MORAG = "morag.campbell@hartwellfinch.example"  # Tax
TARIQ = "tariq.hussain@hartwellfinch.example"  # Tax
GRACE = "grace.whitfield@hartwellfinch.example"  # Tax
JAMES = "james.thornton@hartwellfinch.example"  # Corporate
NADIA = "nadia.brooks@hartwellfinch.example"  # Operations (a team of one), admin
ALEX = "alex.morgan@hartwellfinch.example"  # Business Development, admin
KIERAN = "kieran.walsh@hartwellfinch.example"  # Technology & Data
CLIENTS = ["Northwind Foods Ltd", "Acme Logistics plc", "Blue Fin Hotels", "Pennine Dairies Ltd"]


def make_campaign(ctx: Context, now: datetime = MONDAY, **options) -> Campaign:
    """Winter week, Monday to Friday, started (announced) at `now`."""
    with ctx.store.write() as session:
        campaign = create_campaign(
            session,
            name="Winter week",
            start=options.pop("start", now.date()),
            end=options.pop("end", FRIDAY),
            now=now,
            zone=ctx.settings.zone,
            **options,
        )
        if campaign.starts_at <= now:
            start_campaign(session, campaign, now, ctx.settings)
    return campaign


# Time stands still on the campaign's Monday morning (a module may freeze it elsewhere).
clock = frozen_clock(MONDAY)


@pytest.fixture
def week(ctx: Context, clock: time_machine.Traveller) -> Campaign:
    """The Winter week campaign, started on Monday morning."""
    return make_campaign(ctx)


def refer(
    session: Session,
    referrer: Person,
    receiver: Person,
    client_name: str,
    now: datetime,
    card: str | None = None,
    value: float | None = None,
) -> tuple[Referral, list[PointEvent]]:
    """A referral logged at `now` (`factories.referral`), and whatever its logging scored."""
    row = referral(
        session, client_name, referrer.email, receiver.email, now, value=value, card=card
    )
    logged = select(ReferralEvent).where(ReferralEvent.referral_id == row.id)
    return row, award_for_referral_event(session, row, session.exec(logged).one(), now)


def step(
    session: Session,
    referral: Referral,
    status: str,
    actor: Person,
    now: datetime,
    won_value: float | None = None,
) -> tuple[ReferralEvent, list[PointEvent]]:
    """A change of status by `actor`, and the awards it earned."""
    assert referral.id is not None
    previous, referral.status = referral.status, status
    if won_value is not None:
        referral.won_value = won_value
    session.add(referral)
    event = ReferralEvent(
        referral_id=referral.id, actor_id=actor.id, at=now, from_status=previous, to_status=status
    )
    session.add(event)
    session.flush()
    return event, award_for_referral_event(session, referral, event, now)


def points_of(session: Session, who: Person) -> int:
    total = session.exec(
        select(func.coalesce(func.sum(PointEvent.points), 0)).where(PointEvent.person_id == who.id)
    ).one()
    return int(total)


def ledger(session: Session) -> list[PointEvent]:
    return list(session.exec(select(PointEvent).order_by(col(PointEvent.id))))


def later(days: int = 0, hours: int = 0) -> datetime:
    return MONDAY + timedelta(days=days, hours=hours)
