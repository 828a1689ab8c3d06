"""A referral's life: every transition, who hears of it, owner's consent, privacy, withdraw."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from sqlmodel import select

from bot import jobs, referrals
from bot.channels.console import ConsoleChannel
from bot.context import Context
from bot.messages import Reply
from bot.people import by_email
from bot.store.models import Referral, ReferralEvent
from tests.conftest import ADMIN, PRIYA, RecordingMessenger
from tests.factories import fetch
from tests.test_referral_chat import (
    ACME_TO_PRIYA,
    BLUE_FIN_TO_PRIYA,
    HELEN,
    NIKHIL,
    here,
    referred,
    to,
)

pytestmark = pytest.mark.postgres  # also on PostgreSQL under -m slow

JAMES = "james.thornton@hartwellfinch.example"  # Corporate: no part in Acme's referral
FRIDAY = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def log_acme(chat) -> int:
    """Helen (not the owner) introduces Nikhil's client Acme to Priya; returns the id."""
    return referred(chat, ACME_TO_PRIYA)


def log_blue_fin(chat) -> int:
    """Helen introduces her own client Blue Fin to Priya: no consent needed."""
    return referred(chat, BLUE_FIN_TO_PRIYA)


def accepted_blue_fin(chat) -> int:
    """`log_blue_fin`, then Priya accepts it; returns the id."""
    rid = log_blue_fin(chat)
    chat(PRIYA).press("referral.accept", {"id": rid})
    return rid


def events(ctx: Context, referral_id: int) -> list[tuple[str | None, str]]:
    with ctx.store.read() as session:
        rows = session.exec(
            select(ReferralEvent)
            .where(ReferralEvent.referral_id == referral_id)
            .order_by(ReferralEvent.id)  # type: ignore[arg-type]
        )
        return [(e.from_status, e.to_status) for e in rows]


def answer(person: ConsoleChannel, action: str, referral_id: int) -> str:
    """The kind of the one reply `person` gets for pressing `action` on the referral."""
    [reply] = person.press(action, {"id": referral_id})
    return reply.kind


def recipients(replies: list[Reply]) -> set[str]:
    return {r.to_person for r in replies if r.to_person}


def test_the_whole_road_to_won_tells_referrer_and_owner_each_time(chat, ctx) -> None:
    rid = log_acme(chat)
    priya, nikhil = chat(PRIYA), chat(NIKHIL)
    accepted = priya.press("referral.accept", {"id": rid})
    assert here(accepted)[0].kind == "referral_moved"
    assert recipients(accepted) == {HELEN, NIKHIL}
    nikhil.press("referral.consent_go", {"id": rid})
    for action in ("referral.meeting", "referral.proposal"):
        replies = priya.press(action, {"id": rid})
        assert recipients(replies) == {HELEN, NIKHIL}
        assert all(r.kind == "referral_status_notice" for r in replies if r.to_person)
    [form] = priya.press("referral.won", {"id": rid})
    assert form.form is not None and form.form.inputs[0].initial == "20,000 GBP"
    replies = priya.submit({"value": "£18k"})
    assert recipients(replies) == {HELEN, NIKHIL}
    won = fetch(ctx, Referral, rid)
    assert (won.status, won.won_value, won.currency) == ("won", 18_000, "GBP")
    assert events(ctx, rid) == [
        (None, "new"),
        ("new", "accepted"),
        ("accepted", "accepted"),  # the owner's go-ahead: a change, not a move
        ("accepted", "meeting"),
        ("meeting", "proposal"),
        ("proposal", "won"),
    ]
    # A closed referral stays closed.
    [refused] = priya.press("referral.lost", {"id": rid, "submitted": True})
    assert refused.kind == "referral_refused_bad_move"


def test_decline_tells_referrer_and_owner(chat, ctx) -> None:
    rid = log_acme(chat)
    replies = chat(PRIYA).press("referral.decline", {"id": rid})
    assert recipients(replies) == {HELEN, NIKHIL}
    assert fetch(ctx, Referral, rid).status == "declined"


def test_lost_records_the_reason(chat, ctx) -> None:
    rid = accepted_blue_fin(chat)
    priya = chat(PRIYA)
    [form] = priya.press("referral.lost", {"id": rid})
    assert form.form is not None
    replies = priya.submit({"reason": "went with their usual firm"})
    assert recipients(replies) == {HELEN}  # Helen is referrer and owner: told once
    lost = fetch(ctx, Referral, rid)
    assert (lost.status, lost.reason) == ("lost", "went with their usual firm")


def test_park_and_resume(chat, ctx) -> None:
    rid = accepted_blue_fin(chat)
    priya = chat(PRIYA)
    replies = priya.press("referral.park", {"id": rid})
    assert recipients(replies) == {HELEN}
    assert fetch(ctx, Referral, rid).status == "parked"
    priya.press("referral.meeting", {"id": rid})
    assert fetch(ctx, Referral, rid).status == "meeting"


def test_referrer_can_withdraw_and_the_receiver_and_owner_hear(chat, ctx) -> None:
    rid = log_acme(chat)
    replies = chat(HELEN).press("referral.withdraw", {"id": rid})
    assert here(replies)[0].kind == "referral_moved"
    assert recipients(replies) == {PRIYA, NIKHIL}
    assert fetch(ctx, Referral, rid).status == "withdrawn"


@pytest.mark.parametrize(
    ("who", "action", "refusal"),
    [
        (PRIYA, "referral.withdraw", "referral_refused_not_allowed"),  # the receiver
        (HELEN, "referral.accept", "referral_refused_not_allowed"),  # the referrer moving it on
        (PRIYA, "referral.consent_go", "referral_refused_not_owner"),  # only the owner consents
        (JAMES, "referral.consent_go", "referral_not_visible"),  # nor a stranger to it
    ],
)
def test_a_button_pressed_by_the_wrong_person_is_refused_and_changes_nothing(
    chat, ctx, who: str, action: str, refusal: str
) -> None:
    rid = log_acme(chat)
    assert answer(chat(who), action, rid) == refusal
    after = fetch(ctx, Referral, rid)
    assert (after.status, after.consent) == ("new", "pending")


def test_status_update_in_a_sentence(chat, ctx) -> None:
    rid = accepted_blue_fin(chat)
    priya = chat(PRIYA)
    [ask] = priya.send("Blue Fin went well, we won it, £18k")
    assert ask.kind == "referral_status_confirm" and fetch(ctx, Referral, rid).status == "accepted"
    replies = priya.send("Yes, record it")
    assert here(replies)[0].kind == "referral_moved"
    assert recipients(replies) == {HELEN}
    won = fetch(ctx, Referral, rid)
    assert (won.status, won.won_value) == ("won", 18_000)


def test_status_update_by_the_referrer_is_refused_kindly(chat, ctx) -> None:
    rid = log_blue_fin(chat)
    [reply] = chat(HELEN).send("Blue Fin went well, we won it")
    assert reply.kind == "referral_update_refused"
    assert "Priya Shah" in reply.text
    assert fetch(ctx, Referral, rid).status == "new"


# -- owner's consent ---------------------------------------------------------------------


def test_owner_is_asked_and_receiver_waits(chat, ctx) -> None:
    helen = chat(HELEN)
    helen.send("/refer Acme to Priya for employment £20k")
    replies = helen.send("yes")
    owner_dm = next(r for r in replies if r.to_person == NIKHIL)
    assert [b.action for b in owner_dm.buttons][:2] == [
        "referral.consent_go",
        "referral.consent_talk",
    ]
    receiver_dm = next(r for r in replies if r.to_person == PRIYA)
    assert "go-ahead" in receiver_dm.text
    rid = int(receiver_dm.buttons[0].value["id"])
    assert fetch(ctx, Referral, rid).consent == "pending"
    chat(PRIYA).press("referral.accept", {"id": rid})
    assert answer(chat(PRIYA), "referral.meeting", rid) == "referral_refused_waiting_for_owner"


def test_owner_go_ahead_tells_receiver_and_referrer(chat, ctx) -> None:
    rid = log_acme(chat)
    replies = chat(NIKHIL).press("referral.consent_go", {"id": rid})
    assert here(replies)[0].kind == "referral_consent_recorded"
    assert to(replies) == {
        HELEN: ["referral_consent_go_notice"],
        PRIYA: ["referral_consent_go_notice"],
    }
    assert fetch(ctx, Referral, rid).consent == "given"


def test_owner_talk_first_holds_the_receiver(chat, ctx) -> None:
    rid = log_acme(chat)
    replies = chat(NIKHIL).press("referral.consent_talk", {"id": rid})
    assert to(replies) == {
        HELEN: ["referral_consent_talk_notice"],
        PRIYA: ["referral_consent_talk_notice"],
    }
    assert fetch(ctx, Referral, rid).consent == "talk_first"
    chat(PRIYA).press("referral.accept", {"id": rid})
    assert answer(chat(PRIYA), "referral.proposal", rid) == "referral_refused_waiting_for_owner"


def test_consent_setting_off_means_no_waiting(chat, ctx) -> None:
    ctx.settings.owner_consent = False
    rid = log_acme(chat)
    assert fetch(ctx, Referral, rid).consent == "not_needed"
    # The owner is still told.
    helen = chat(HELEN)
    helen.send("/refer Acme to Kieran for data protection")
    replies = helen.send("yes")
    assert to(replies)[NIKHIL] == ["referral_new_owner"]


async def test_silent_owner_is_reminded_once_then_it_proceeds_at_a_later_moment(chat, ctx) -> None:
    with time_machine.travel(FRIDAY, tick=False) as traveller:
        rid = log_acme(chat)
        assert await remind(ctx) == []
        traveller.move_to(datetime(2026, 11, 23, 12, 0, tzinfo=UTC))  # Monday: 1 working day
        assert await remind(ctx) == []
        traveller.move_to(datetime(2026, 11, 24, 10, 0, tzinfo=UTC))  # Tuesday, same hour
        replies = await remind(ctx)
        assert to(replies) == {
            NIKHIL: ["nudge_consent"],
            PRIYA: ["referral_consent_reminded_notice"],
            HELEN: ["referral_consent_reminded_notice"],
        }
        # Everyone is told the same, later, moment: two working days after the reminder.
        assert all("Thursday 26 November" in r.text for r in replies)
        reminder = next(r for r in replies if r.to_person == NIKHIL)
        assert f"#{rid}" in reminder.text
        assert [b.label for b in reminder.buttons] == [
            "Go ahead",
            "Let's talk first",
            "Snooze a week",
            "Not relevant",
        ]
        assert fetch(ctx, Referral, rid).consent == "pending"
        traveller.move_to(datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
        assert await remind(ctx) == []  # one reminder only
        traveller.move_to(datetime(2026, 11, 26, 10, 0, tzinfo=UTC))
        replies = await remind(ctx)
        assert to(replies) == {
            NIKHIL: ["referral_consent_lapsed_notice"],
            PRIYA: ["referral_consent_lapsed_notice"],
            HELEN: ["referral_consent_lapsed_notice"],
        }
        owner_notice = next(r for r in replies if r.to_person == NIKHIL)
        assert "Let's talk first" in [b.label for b in owner_notice.buttons]
        assert fetch(ctx, Referral, rid).consent == "lapsed"
        traveller.move_to(datetime(2026, 11, 30, 10, 0, tzinfo=UTC))
        assert await remind(ctx) == []  # once only
        # The referral proceeds.
        priya = chat(PRIYA)
        priya.press("referral.accept", {"id": rid})
        priya.press("referral.meeting", {"id": rid})
        assert fetch(ctx, Referral, rid).status == "meeting"


async def test_no_reminder_once_the_owner_answered(chat, ctx) -> None:
    with time_machine.travel(FRIDAY, tick=False) as traveller:
        rid = log_acme(chat)
        chat(NIKHIL).press("referral.consent_go", {"id": rid})
        traveller.move_to(datetime(2026, 11, 30, 10, 0, tzinfo=UTC))
        assert await remind(ctx) == []


async def remind(ctx: Context) -> list[Reply]:
    """The two daily jobs that speak about consent: the nudges (the reminder, in the
    attention budget) and the referrals' own step (proceeding once the owner stayed silent)."""
    messenger = RecordingMessenger()
    await jobs.send_nudges(ctx, messenger, ctx.now())
    with ctx.store.write() as session:
        lapsed = referrals.remind_silent_owners(session, ctx.now(), ctx.settings.timezone)
    about_consent = ("nudge_consent", "referral_consent_reminded_notice")
    return [reply for _, reply in messenger.dms if reply.kind in about_consent] + lapsed


@pytest.mark.parametrize(
    ("start", "due"),
    [
        (datetime(2026, 11, 20, 10, tzinfo=UTC), datetime(2026, 11, 24, 10, tzinfo=UTC)),  # Fri
        (datetime(2026, 11, 23, 10, tzinfo=UTC), datetime(2026, 11, 25, 10, tzinfo=UTC)),  # Mon
        (datetime(2026, 11, 21, 10, tzinfo=UTC), datetime(2026, 11, 24, 10, tzinfo=UTC)),  # Sat
    ],
)
def test_working_days_skip_weekends(start: datetime, due: datetime) -> None:
    from zoneinfo import ZoneInfo

    assert referrals.working_days_after(start, 2, ZoneInfo("Europe/London")) == due


# -- privacy -----------------------------------------------------------------------------


def test_a_third_person_cannot_see_or_act(chat, ctx) -> None:
    rid = log_acme(chat)
    james = chat(JAMES)
    for action in ("referral.show", "referral.accept", "referral.won", "referral.withdraw"):
        [reply] = james.press(action, {"id": rid, "submitted": True})
        assert reply.kind == "referral_not_visible", action
        assert "Acme" not in reply.text
    [reply] = james.send("Acme went well, we won it, £18k")
    assert reply.kind == "referral_update_not_found"
    listing = james.send("my referrals")
    assert all("Acme Logistics" not in r.text for r in listing)
    assert fetch(ctx, Referral, rid).status == "new"


def test_everyone_concerned_and_admins_can_see(chat, ctx) -> None:
    rid = log_acme(chat)
    for email in (HELEN, PRIYA, NIKHIL, ADMIN):
        [reply] = chat(email).press("referral.show", {"id": rid})
        assert reply.kind == "referral_detail", email
        assert "Acme Logistics plc" in reply.text
    with ctx.store.read() as session:
        james = by_email(session, JAMES)
        referral = session.get(Referral, rid)
        assert james is not None and referral is not None
        assert not referrals.can_see(james, referral, session)
        nikhil = by_email(session, NIKHIL)
        assert nikhil is not None
        assert referrals.can_see(nikhil, referral, session)
        assert not referrals.can_see(nikhil, referral)  # no session: fails closed


def test_unknown_referral_id_looks_like_someone_elses(chat) -> None:
    [reply] = chat(PRIYA).press("referral.accept", {"id": 999})
    assert reply.kind == "referral_not_visible"
    [reply] = chat(PRIYA).press("referral.accept", {"id": "nonsense"})
    assert reply.kind == "referral_not_visible"


def test_a_duplicate_is_refused_by_the_domain_too(ctx) -> None:
    now = datetime(2026, 11, 20, 10, tzinfo=UTC)
    new = referrals.NewReferral("Acme", PRIYA, "employment")
    with ctx.store.write() as session:
        helen = by_email(session, HELEN)
        assert helen is not None
        referrals.create(session, helen, new, now)
    with pytest.raises(referrals.ReferralError) as error, ctx.store.write() as session:
        helen = by_email(session, HELEN)
        assert helen is not None
        referrals.create(session, helen, new, now)
    assert error.value.code == "duplicate"


def test_an_admin_move_tells_receiver_referrer_and_owner(chat, ctx) -> None:
    rid = log_acme(chat)
    replies = chat(ADMIN).press("referral.park", {"id": rid})
    assert recipients(replies) == {HELEN, PRIYA, NIKHIL}
    assert fetch(ctx, Referral, rid).status == "parked"


def test_each_change_is_one_event_with_its_actor(chat, ctx) -> None:
    rid = accepted_blue_fin(chat)
    with ctx.store.read() as session:
        priya = by_email(session, PRIYA)
        helen = by_email(session, HELEN)
        rows = list(session.exec(select(ReferralEvent).where(ReferralEvent.referral_id == rid)))
    assert priya is not None and helen is not None
    assert [(e.actor_id, e.from_status, e.to_status) for e in rows] == [
        (helen.id, None, "new"),
        (priya.id, "new", "accepted"),
    ]


def test_news_about_a_referral_i_hold_is_not_a_new_referral(chat, ctx) -> None:
    rid = log_blue_fin(chat)
    priya = chat(PRIYA)
    [ask] = priya.send("I've accepted the Blue Fin referral")
    assert ask.kind == "referral_status_confirm"
    replies = priya.send("Yes, record it")
    assert here(replies)[0].kind == "referral_moved"
    assert fetch(ctx, Referral, rid).status == "accepted"
    assert len(list_referrals(ctx)) == 1


def list_referrals(ctx: Context) -> list[Referral]:
    with ctx.store.read() as session:
        return list(session.exec(select(Referral)))


def test_a_retired_client_is_referred_to_by_its_existing_row(ctx) -> None:
    from bot.store.models import Client

    with ctx.store.write() as session:
        acme = session.exec(select(Client).where(Client.name == "Acme Logistics plc")).one()
        acme.retired = True
        session.add(acme)
    with ctx.store.write() as session:
        helen = by_email(session, HELEN)
        assert helen is not None
        new = referrals.NewReferral("Acme Logistics plc", PRIYA, "employment")
        outcome = referrals.create(session, helen, new, FRIDAY)
    assert not outcome.provisional_client


def test_points_are_awarded_in_the_same_transaction_during_a_campaign(chat, ctx) -> None:
    from datetime import timedelta

    from bot.store.models import Campaign, PointEvent

    with ctx.store.write() as session:
        now = ctx.now()
        session.add(
            Campaign(
                name="Cross-selling week",
                starts_at=now - timedelta(days=1),
                ends_at=now + timedelta(days=6),
                status="running",
            )
        )
    accepted_blue_fin(chat)
    with ctx.store.read() as session:
        kinds = {p.kind for p in session.exec(select(PointEvent))}
    assert {"logged", "accepted"} <= kinds


def test_a_win_offers_to_share_it_as_a_story(chat, ctx) -> None:
    rid = accepted_blue_fin(chat)
    priya = chat(PRIYA)
    priya.send("Blue Fin went well, we won it, £18k")
    moved = here(priya.send("Yes, record it"))[0]
    story = next(b for b in moved.buttons if b.action == "story.from_referral")
    [form] = priya.press(story.action, story.value)
    assert form.form is not None and form.form.submit_action.startswith("story.")
    # The referrer sees the same offer on the referral; a stranger sees nothing.
    [detail] = chat(HELEN).press("referral.show", {"id": rid})
    assert "story.from_referral" in [b.action for b in detail.buttons]
    [hidden] = chat(JAMES).press("referral.show", {"id": rid})
    assert hidden.buttons == []
