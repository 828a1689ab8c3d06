"""Double presses change state once: one referral per confirmation, one event per move."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlmodel import select

from bot import referrals
from bot.context import Context
from bot.people import by_email
from bot.referrals import NewReferral, ReferralError
from bot.store.models import PointEvent, Referral, ReferralEvent
from tests.conftest import PRIYA
from tests.test_referral_chat import HELEN, here, to

pytestmark = pytest.mark.postgres  # also on PostgreSQL under -m slow


def _count(ctx: Context, model: type) -> int:
    with ctx.store.read() as session:
        return len(list(session.exec(select(model))))


def test_confirm_pressed_twice_at_once_saves_one_referral(chat, ctx) -> None:
    helen = chat(HELEN)
    helen.send("I've introduced Acme to Priya for their TUPE issue, maybe £20k")

    with ThreadPoolExecutor(2) as pool:  # two replicas answering the same button
        both = list(pool.map(lambda _: helen.press("referral.confirm"), range(2)))

    assert _count(ctx, Referral) == 1
    kinds = [here(replies)[0].kind for replies in both]
    assert kinds.count("referral_saved") == 1  # the other is told it is already done
    notices = [to(replies).get(PRIYA, []) for replies in both]
    assert sorted(notices) == [[], ["referral_new_receiver"]]  # one set of notices


def test_the_same_confirmation_never_creates_two_referrals(ctx) -> None:
    new = NewReferral(client="Acme Logistics plc", receiver=PRIYA, confirmation="draft-1")
    with ctx.store.write() as session:
        helen = by_email(session, HELEN)
        assert helen is not None
        referrals.create(session, helen, new, ctx.now())
    with pytest.raises(ReferralError) as refused, ctx.store.write() as session:
        helen = by_email(session, HELEN)
        assert helen is not None
        referrals.create(session, helen, new, ctx.now())

    assert refused.value.code == "already_saved"
    assert _count(ctx, Referral) == 1


def test_accept_pressed_three_times_moves_once(chat, ctx) -> None:
    helen = chat(HELEN)
    helen.send("/refer Acme to Priya for employment £20k")
    dm = next(r for r in helen.send("yes") if r.to_person == PRIYA)
    accept = next(b for b in dm.buttons if b.action == "referral.accept")
    events_before = _count(ctx, ReferralEvent)
    points_before = _count(ctx, PointEvent)
    priya = chat(PRIYA)

    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(lambda _: priya.press(accept.action, accept.value), range(3)))

    assert _count(ctx, ReferralEvent) == events_before + 1
    assert _count(ctx, PointEvent) - points_before <= 1  # points follow the one event
    refused = [here(a)[0].kind for a in answers if here(a)[0].kind.startswith("referral_ref")]
    assert refused == ["referral_refused_already"] * 2
    told = [to(a).get(HELEN, []) for a in answers]
    assert sum(len(t) for t in told) == 1  # the referrer hears of it once
