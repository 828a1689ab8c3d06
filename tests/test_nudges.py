"""Nudges: each rule, the attention budget and what people say back, on a controlled clock."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from bot import digest, jobs, nudges, referrals
from bot.context import Context
from bot.messages import Reply
from bot.render import render
from bot.store.models import AskedQuestion, Nudge, Referral, ServiceCard
from tests import factories
from tests.conftest import RecordingMessenger, frozen_clock
from tests.test_cli import crossbot

MONDAY = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)  # London is on UTC in November
SAM = "sam.patel@hartwellfinch.example"  # Tax ambassador; owns Calder Valley Engineering
PRIYA = "priya.shah@hartwellfinch.example"  # Employment; main contact of the employment card
JAMES = "james.thornton@hartwellfinch.example"  # owns Northwind Foods
NIKHIL = "nikhil.bose@hartwellfinch.example"  # Disputes; owns Acme Logistics
CATHERINE = "catherine.ashby@hartwellfinch.example"  # the Disputes ambassador
NATALIE = "natalie.price@hartwellfinch.example"  # owns Pennine Dairies (dairy and food)
ELLIE = "ellie.hughes@hartwellfinch.example"  # Business Development: no card
CLIENTS = [
    "Blue Fin Hotels",
    "Acme Logistics plc",
    "Harbourside Estates Ltd",
    "Kestrel Retail Group plc",
    "Carrow Family Office",
    "Oakmere Schools Trust",
    "Marlowe Dental Partners",
]


# The buttons each nudge offers, as they read on every channel.
NO_RESPONSE_BUTTONS = ["Accept", "Decline", "Snooze a week", "Not relevant"]
NO_NEWS_BUTTONS = [
    "Meeting held",
    "Proposal sent",
    "Won",
    "Lost",
    "Still going",
    "Snooze a week",
    "Not relevant",
]
CONSENT_BUTTONS = ["Go ahead", "Let's talk first", "Snooze a week", "Not relevant"]

clock = frozen_clock(MONDAY, autouse=True)


def review_cards(session: Session, stale: str = "") -> None:
    """Every card reviewed recently, but `stale`'s (last reviewed in September 2025)."""
    for card in session.exec(select(ServiceCard)):
        card.updated = date(2025, 9, 1) if card.id == stale else date(2026, 10, 1)
        session.add(card)


@pytest.fixture
def fresh_cards(ctx: Context) -> Context:
    """Every card reviewed recently, so only the nudges a test sets up are due."""
    with ctx.store.write() as session:
        review_cards(session)
    return ctx


async def send(ctx: Context) -> list[tuple[str, Reply]]:
    """Run today's nudges (as the daily job does) and return the DMs sent."""
    messenger = RecordingMessenger()
    await jobs.send_nudges(ctx, messenger, ctx.now())
    return messenger.dms


def preview(ctx: Context) -> nudges.Plan:
    with ctx.store.read() as session:
        return nudges.plan(session, ctx.now(), nudges.Policy.from_settings(ctx.settings))


def refer(ctx: Context, *referral: Any, **options: Any) -> int:
    """A referral worth £12,000 (`factories.referral`'s arguments): its id."""
    return factories.referral_id(ctx, *referral, value=12_000, **options)


def labels(reply: Reply) -> list[str]:
    return [b.label for b in reply.buttons]


def kinds(dms: list[tuple[str, Reply]]) -> list[tuple[str, str]]:
    return [(email, reply.kind) for email, reply in dms]


# -- the rules --------------------------------------------------------------------------------


async def test_no_response_waits_three_working_days(fresh_cards: Context, clock) -> None:
    clock.move_to(datetime(2026, 11, 20, 10, 0, tzinfo=UTC))  # a Friday
    refer(fresh_cards, CLIENTS[0], SAM, PRIYA, fresh_cards.now())
    clock.move_to(datetime(2026, 11, 24, 10, 0, tzinfo=UTC))  # Tuesday: two working days
    assert await send(fresh_cards) == []
    clock.move_to(datetime(2026, 11, 25, 10, 0, tzinfo=UTC))  # Wednesday: three
    [(email, reply)] = await send(fresh_cards)
    assert (email, reply.kind) == (PRIYA, "nudge_no_response")
    assert "Sam Patel" in reply.text and CLIENTS[0] in reply.text
    assert labels(reply) == NO_RESPONSE_BUTTONS
    assert [b.action for b in reply.buttons[:2]] == ["referral.accept", "referral.decline"]


async def test_no_news_asks_the_receiver_and_tells_the_others_honestly(
    fresh_cards: Context, chat, clock
) -> None:
    rid = refer(
        fresh_cards, "Northwind Foods Ltd", SAM, PRIYA, MONDAY - timedelta(days=20), "accepted"
    )
    dms = dict(await send(fresh_cards))
    assert set(dms) == {PRIYA, SAM, JAMES}
    ask = dms[PRIYA]
    assert labels(ask) == NO_NEWS_BUTTONS
    assert "no news yet" in dms[SAM].text and "no news yet" in dms[JAMES].text
    # "Still going" restarts the clock: no nudge a week on, a new one 14 days after the tap.
    still = next(b for b in ask.buttons if b.label == "Still going")
    [noted] = chat(PRIYA).press(still.action, still.value)
    assert noted.kind == "nudge_still_going" and "Noted" in noted.text
    clock.move_to(MONDAY + timedelta(days=7))
    assert await send(fresh_cards) == []
    clock.move_to(MONDAY + timedelta(days=15))
    assert {email for email, _ in await send(fresh_cards)} == {PRIYA, SAM, JAMES}
    # Only the receiver can say it is still going.
    [refused] = chat(SAM).press(still.action, {"referral": rid})
    assert "couldn't" in refused.text


async def test_a_win_without_a_story_asks_the_ambassador_for_an_anonymous_one(
    fresh_cards: Context, chat
) -> None:
    refer(fresh_cards, "Acme Logistics plc", PRIYA, NIKHIL, MONDAY - timedelta(days=3), "won")
    dms = dict(await send(fresh_cards))
    ask = dms[CATHERINE]
    assert ask.kind == "nudge_close_loop" and "Acme" not in ask.text
    write = ask.buttons[0]
    assert (write.label, write.action) == ("Write the story", "story.from_referral")
    [opened] = chat(CATHERINE).press(write.action, write.value)
    assert opened.form is not None
    fields = {i.name: i.initial for i in opened.form.inputs}
    assert fields["name_client"] == "no" and fields["title"]
    assert "Acme" not in " ".join(str(v) for v in fields.values())


async def test_a_stale_card_says_how_many_questions_it_answered_this_quarter(ctx: Context) -> None:
    with ctx.store.write() as session:
        review_cards(session, stale="employment")
        for n, (at, feedback) in enumerate(
            [
                (date(2026, 10, 5), ""),
                (date(2026, 11, 2), ""),
                (date(2026, 11, 20), ""),
                (date(2026, 11, 21), "missed"),
                (date(2026, 9, 29), ""),
            ]
        ):
            asked = datetime.combine(at, datetime.min.time(), tzinfo=UTC)
            session.add(
                AskedQuestion(
                    question=f"q{n}", cards=["employment"], feedback=feedback, asked_at=asked
                )
            )
    [(email, reply)] = await send(ctx)
    assert (email, reply.kind) == (PRIYA, "nudge_stale_card")
    assert "September 2025" in reply.text and "3 questions this quarter" in reply.text
    assert reply.buttons[0].action == "card.show"


async def test_homework_goes_to_owners_of_clients_in_a_similar_sector(fresh_cards: Context) -> None:
    refer(
        fresh_cards,
        "Northwind Foods Ltd",
        NIKHIL,
        PRIYA,
        MONDAY - timedelta(days=2),
        "won",
        card="employment",
    )
    dms = {
        email: reply for email, reply in await send(fresh_cards) if reply.kind == "nudge_homework"
    }
    # Food (Pennine Dairies) and manufacturing (Calder Valley): not Northwind's own owner.
    assert set(dms) == {NATALIE, SAM}
    note = dms[NATALIE]
    assert "Pennine Dairies Ltd" in note.text and "Northwind" not in note.text
    assert "Situations to look out for" in note.text and "Questions to ask" in note.text
    assert "site closure" in note.text  # a bullet from the employment card


def test_the_first_turn_gets_a_welcome_once(ctx: Context, chat) -> None:
    ctx.settings.nudge_welcome = True
    ellie = chat(ELLIE)
    welcome, answer = ellie.send("hello")
    assert welcome.kind == "welcome" and answer.kind == "help"
    assert welcome.text.count("\n- ") == 3 and "no service card yet" in welcome.text
    assert [r.kind for r in ellie.send("hello")] == ["help"]
    assert [r.kind for r in chat(ELLIE, "elsewhere").send("hello")] == ["help"]
    [first, _] = chat(PRIYA).send("hello")
    assert first.kind == "welcome" and "no service card" not in first.text


# -- the attention budget ---------------------------------------------------------------------


async def test_weekends_and_quiet_hours_defer_without_dropping(fresh_cards: Context, clock) -> None:
    refer(fresh_cards, CLIENTS[0], SAM, PRIYA, MONDAY - timedelta(days=10))
    clock.move_to(datetime(2026, 11, 28, 10, 0, tzinfo=UTC))  # Saturday
    assert [reason for _, reason in preview(fresh_cards).held] == ["weekend"]
    assert await send(fresh_cards) == []
    clock.move_to(datetime(2026, 11, 30, 19, 30, tzinfo=UTC))  # Monday evening
    assert [reason for _, reason in preview(fresh_cards).held] == ["quiet hours"]
    assert await send(fresh_cards) == []
    clock.move_to(datetime(2026, 12, 1, 8, 30, tzinfo=UTC))  # Tuesday morning: it goes
    assert kinds(await send(fresh_cards)) == [(PRIYA, "nudge_no_response")]


async def test_at_most_two_a_day_and_five_a_week(fresh_cards: Context, clock) -> None:
    for n, client in enumerate(CLIENTS):
        refer(fresh_cards, client, SAM, PRIYA, MONDAY - timedelta(days=20 - n))
    sent = []
    for day in range(5):  # Monday to Friday
        clock.move_to(MONDAY + timedelta(days=day))
        sent.append(len(await send(fresh_cards)))
    assert sent == [2, 2, 1, 0, 0]
    assert [reason for _, reason in preview(fresh_cards).held] == ["weekly budget"] * 2
    clock.move_to(MONDAY + timedelta(days=7))
    assert len(await send(fresh_cards)) == 2  # a new week: the rest, oldest first


async def test_lower_priority_nudges_over_the_budget_go_into_the_digest(ctx: Context) -> None:
    with ctx.store.write() as session:
        review_cards(session, stale="employment")
        priya = factories.person(session, PRIYA)
        priya.digest_opt_in = True
        session.add(priya)
    for client in CLIENTS[:2]:
        refer(ctx, client, SAM, PRIYA, MONDAY - timedelta(days=10))
    assert [r.kind for _, r in await send(ctx)] == ["nudge_no_response"] * 2  # urgent first
    with ctx.store.read() as session:
        [(email, personal)] = digest.personal_digests(session, ctx.now())
    assert email == PRIYA and [n["kind"] for n in personal.nudges] == ["stale_card"]
    text = digest.personal_reply(email, personal).text
    assert "**Employment law** card is due a review" in text
    assert await send(ctx) == []  # batched is done: never sent on its own as well


async def test_over_the_budget_without_a_digest_it_waits(ctx: Context, clock) -> None:
    with ctx.store.write() as session:
        review_cards(session, stale="employment")
    for client in CLIENTS[:2]:
        refer(ctx, client, SAM, PRIYA, MONDAY - timedelta(days=10))
    await send(ctx)
    assert [(i.kind, why) for i, why in preview(ctx).held] == [("stale_card", "daily budget")]
    clock.move_to(MONDAY + timedelta(days=1))
    assert kinds(await send(ctx)) == [(PRIYA, "nudge_stale_card")]


# -- the owner-consent reminder ---------------------------------------------------------------


def waiting_on_owner(ctx: Context, at: datetime) -> int:
    """Sam introduces Nikhil's client Acme to Priya at `at`; Nikhil has not said go yet."""
    return refer(ctx, "Acme Logistics plc", SAM, PRIYA, at, consent="pending")


def consent_of(ctx: Context, rid: int) -> tuple[str, datetime | None]:
    row = factories.fetch(ctx, Referral, rid)
    return row.consent, row.consent_reminded_at


def lapse(ctx: Context) -> list[Reply]:
    with ctx.store.write() as session:
        return referrals.remind_silent_owners(session, ctx.now(), ctx.settings.zone)


async def test_the_consent_reminder_is_a_nudge_with_snooze_and_not_relevant(
    fresh_cards: Context, chat, clock
) -> None:
    rid = waiting_on_owner(fresh_cards, datetime(2026, 11, 19, 8, 0, tzinfo=UTC))  # Thursday
    dms = dict(await send(fresh_cards))  # Monday: two working days later
    reminder = dms[NIKHIL]
    assert reminder.kind == "nudge_consent" and f"#{rid}" in reminder.text
    assert "Wednesday 25 November" in reminder.text  # two working days after it was sent
    assert labels(reminder) == CONSENT_BUTTONS
    assert [dms[p].kind for p in (PRIYA, SAM)] == ["referral_consent_reminded_notice"] * 2
    assert all("Wednesday 25 November" in dms[p].text for p in (PRIYA, SAM))
    assert consent_of(fresh_cards, rid) == ("pending", MONDAY)
    with fresh_cards.store.read() as session:
        nikhil = factories.person(session, NIKHIL)
        assert nudges.spent(session, MONDAY, fresh_cards.settings.zone)[nikhil.id or 0] == (1, 1)
    snooze = next(b for b in reminder.buttons if b.label == "Snooze a week")
    assert chat(NIKHIL).press(snooze.action, snooze.value)[0].kind == "nudge_snoozed"
    clock.move_to(datetime(2026, 11, 25, 8, 30, tzinfo=UTC))  # Wednesday: it proceeds
    assert {r.to_person for r in lapse(fresh_cards)} == {NIKHIL, PRIYA, SAM}
    assert consent_of(fresh_cards, rid)[0] == "lapsed"
    clock.move_to(MONDAY + timedelta(days=7))  # the snooze is over, but so is the cause
    assert NIKHIL not in dict(await send(fresh_cards))


async def test_not_relevant_on_a_consent_reminder_is_counted_under_its_rule(
    fresh_cards: Context, chat
) -> None:
    waiting_on_owner(fresh_cards, MONDAY - timedelta(days=7))
    reminder = dict(await send(fresh_cards))[NIKHIL]
    not_relevant = next(b for b in reminder.buttons if b.label == "Not relevant")
    assert chat(NIKHIL).press(not_relevant.action, not_relevant.value)[0].kind == (
        "nudge_not_relevant"
    )
    assert preview(fresh_cards).not_relevant == {"consent": 1}


async def test_a_consent_reminder_over_the_budget_or_in_quiet_hours_waits(
    fresh_cards: Context, clock
) -> None:
    rid = waiting_on_owner(fresh_cards, datetime(2026, 11, 19, 20, 0, tzinfo=UTC))  # Thu night
    clock.move_to(datetime(2026, 11, 23, 20, 0, tzinfo=UTC))  # due Monday evening: quiet
    assert [(i.kind, why) for i, why in preview(fresh_cards).held] == [("consent", "quiet hours")]
    assert await send(fresh_cards) == []
    with fresh_cards.store.write() as session:  # Nikhil had two nudges already on Tuesday
        nikhil = factories.person(session, NIKHIL)
        for n in range(2):
            session.add(
                Nudge(
                    key=f"earlier:{n}",
                    person_id=nikhil.id or 0,
                    kind="no_news",
                    due_at=MONDAY,
                    sent_at=datetime(2026, 11, 24, 8, 0, tzinfo=UTC),
                )
            )
    clock.move_to(datetime(2026, 11, 24, 8, 30, tzinfo=UTC))
    assert [(i.kind, why) for i, why in preview(fresh_cards).held] == [("consent", "daily budget")]
    assert await send(fresh_cards) == []
    assert lapse(fresh_cards) == [] and consent_of(fresh_cards, rid) == ("pending", None)
    clock.move_to(datetime(2026, 11, 25, 8, 30, tzinfo=UTC))  # Wednesday: room again
    assert kinds(await send(fresh_cards))[0] == (NIKHIL, "nudge_consent")
    clock.move_to(datetime(2026, 11, 26, 8, 30, tzinfo=UTC))
    assert lapse(fresh_cards) == []  # two working days from the reminder, not from the due day
    clock.move_to(datetime(2026, 11, 27, 8, 30, tzinfo=UTC))
    assert len(lapse(fresh_cards)) == 3 and consent_of(fresh_cards, rid)[0] == "lapsed"


async def test_an_owner_with_nudges_off_does_not_hold_a_referral_up(
    fresh_cards: Context, chat, clock
) -> None:
    rid = waiting_on_owner(fresh_cards, datetime(2026, 11, 19, 8, 0, tzinfo=UTC))  # Thursday
    chat(NIKHIL).send("/crossbot nudges off")
    assert [(i.kind, why) for i, why in preview(fresh_cards).held] == [("consent", "nudges off")]
    assert NIKHIL not in dict(await send(fresh_cards))
    assert lapse(fresh_cards) == []
    clock.move_to(datetime(2026, 11, 25, 8, 30, tzinfo=UTC))  # when it would have proceeded
    assert {r.to_person for r in lapse(fresh_cards)} == {NIKHIL, PRIYA, SAM}
    assert consent_of(fresh_cards, rid)[0] == "lapsed"


def test_the_preview_gives_the_consent_reminder_its_reason(fresh_cards: Context) -> None:
    rid = waiting_on_owner(fresh_cards, MONDAY - timedelta(days=7))
    text = render("nudges_preview", plan=preview(fresh_cards))
    assert (
        f"- Nikhil Bose: consent — referral #{rid}: the client's relationship owner hasn't "
        "answered the consent question for 2 working days"
    ) in text
    assert "Acme" not in text


# -- what people say back ---------------------------------------------------------------------


async def test_the_same_cause_never_nudges_twice(fresh_cards: Context, clock) -> None:
    refer(fresh_cards, CLIENTS[0], SAM, PRIYA, MONDAY - timedelta(days=10))
    assert len(await send(fresh_cards)) == 1
    assert await send(fresh_cards) == []
    clock.move_to(MONDAY + timedelta(days=3))
    assert await send(fresh_cards) == []
    with fresh_cards.store.read() as session:
        assert len(session.exec(select(Nudge)).all()) == 1


async def test_snooze_brings_it_back_once_a_week_later(fresh_cards: Context, chat, clock) -> None:
    refer(fresh_cards, CLIENTS[0], SAM, PRIYA, MONDAY - timedelta(days=10))
    [(_, reply)] = await send(fresh_cards)
    snooze = next(b for b in reply.buttons if b.label == "Snooze a week")
    [done] = chat(PRIYA).press(snooze.action, snooze.value)
    assert done.kind == "nudge_snoozed"
    clock.move_to(MONDAY + timedelta(days=3))
    assert await send(fresh_cards) == []
    clock.move_to(MONDAY + timedelta(days=7))
    assert kinds(await send(fresh_cards)) == [(PRIYA, "nudge_no_response")]
    clock.move_to(MONDAY + timedelta(days=8))
    assert await send(fresh_cards) == []


async def test_not_relevant_never_repeats_and_is_counted_per_rule(
    fresh_cards: Context, chat, clock
) -> None:
    refer(fresh_cards, CLIENTS[0], SAM, PRIYA, MONDAY - timedelta(days=10))
    [(_, reply)] = await send(fresh_cards)
    not_relevant = next(b for b in reply.buttons if b.label == "Not relevant")
    # Someone else's nudge is left alone.
    [refused] = chat(SAM).press(not_relevant.action, not_relevant.value)
    assert refused.kind == "nudge_not_yours"
    [done] = chat(PRIYA).press(not_relevant.action, not_relevant.value)
    assert done.kind == "nudge_not_relevant"
    clock.move_to(MONDAY + timedelta(days=14))
    assert await send(fresh_cards) == []
    assert preview(fresh_cards).not_relevant == {"no_response": 1}


async def test_nudges_off_and_on_again(fresh_cards: Context, chat) -> None:
    refer(fresh_cards, CLIENTS[0], SAM, PRIYA, MONDAY - timedelta(days=10))
    priya = chat(PRIYA)
    [off] = priya.send("/crossbot nudges off")
    assert off.kind == "nudges_opt" and "no more nudges" in off.text
    assert await send(fresh_cards) == []
    assert [why for _, why in preview(fresh_cards).held] == ["nudges off"]
    [status] = priya.send("/crossbot nudges")
    assert "off" in status.text and labels(status) == ["Turn nudges on"]
    priya.send("/crossbot nudges on")
    assert kinds(await send(fresh_cards)) == [(PRIYA, "nudge_no_response")]


async def test_an_undelivered_nudge_is_kept_but_not_counted(fresh_cards: Context) -> None:
    refer(fresh_cards, CLIENTS[0], SAM, PRIYA, MONDAY - timedelta(days=10))
    refer(fresh_cards, CLIENTS[1], PRIYA, JAMES, MONDAY - timedelta(days=10))
    messenger = RecordingMessenger(unreachable={JAMES})
    result = await jobs.send_nudges(fresh_cards, messenger, fresh_cards.now())
    assert (result["sent"], result["unreachable"]) == (1, 1)
    assert (await jobs.send_nudges(fresh_cards, RecordingMessenger(), fresh_cards.now()))[
        "sent"
    ] == 0
    with fresh_cards.store.read() as session:
        james = factories.person(session, JAMES)
        assert (
            nudges.spent(session, fresh_cards.now(), fresh_cards.settings.zone).get(james.id or 0)
            is None
        )


def test_no_nudge_to_the_receiver_while_the_owner_has_not_said_go(fresh_cards: Context) -> None:
    refer(fresh_cards, CLIENTS[0], SAM, PRIYA, MONDAY - timedelta(days=10), consent="pending")
    # Only the owner hears, with the consent question (Blue Fin is Helen's client).
    assert [i.kind for i in preview(fresh_cards).items] == ["consent"]


# -- the preview ------------------------------------------------------------------------------


def test_preview_on_the_demo_database_shows_four_rules_and_sends_nothing(tmp_path: Path) -> None:
    database = tmp_path / "demo.db"
    assert crossbot("demo", "--database", str(database), cwd=tmp_path).returncode == 0
    env = {"CROSSBOT_DATABASE_URL": f"sqlite:///{database}"}
    result = crossbot("nudges", "--preview", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    rules = set(re.findall(r"^- [^:]+: ([a-z ]+?)(?:,| —)", result.stdout, re.M))
    assert len(rules) >= 4, result.stdout
    assert "not relevant" in result.stdout.lower()
    again = crossbot("nudges", "--preview", cwd=tmp_path, env=env)
    assert again.stdout == result.stdout  # nothing was recorded
    # The preview names people, never clients.
    assert "Ltd" not in result.stdout and "plc" not in result.stdout


async def test_the_daily_job_sends_once_across_replicas(fresh_cards: Context, store) -> None:
    from bot.scheduler import run_due

    refer(fresh_cards, CLIENTS[0], SAM, PRIYA, MONDAY - timedelta(days=10))
    first, second = RecordingMessenger(), RecordingMessenger()
    # Two replicas over one database wake for the same slot: one claims it, one skips.
    replica = Context(store, fresh_cards.settings)
    assert await run_due(fresh_cards, jobs.NUDGES, MONDAY, MONDAY, first) == "done"
    assert await run_due(replica, jobs.NUDGES, MONDAY, MONDAY, second) == "skipped"
    assert kinds(first.dms) == [(PRIYA, "nudge_no_response")] and second.dms == []
