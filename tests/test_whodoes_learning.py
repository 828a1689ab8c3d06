"""Learning from the firm: "Not what I needed", the weekly review, and learned aliases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot import jobs, learning, scheduler
from bot.context import Context
from bot.messages import Reply
from bot.privacy import export_person, forget_person
from bot.store.models import AskedQuestion, LearnedAlias
from tests.conftest import ADMIN, PRIYA, RecordingMessenger, frozen_clock, load_sample

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # the weekly slot: Monday 09:00 London
ASKED = MONDAY - timedelta(days=2)
NADIA = "nadia.brooks@hartwellfinch.example"  # the other admin
HELEN = "helen.carmichael@hartwellfinch.example"  # owns Commercial property
SAM = "sam.patel@hartwellfinch.example"  # owns Business tax, nothing to do with employment
NONSENSE = "who can help with a zqxv vrrk?"  # words no card has: an honest no-match

clock = frozen_clock(ASKED, autouse=True)


async def _weekly(ctx: Context, messenger: RecordingMessenger, when: datetime = MONDAY) -> str:
    return await scheduler.run_due(ctx, jobs.LEARNING_REVIEW, when, when, messenger)


def _to(messenger: RecordingMessenger, email: str) -> list[Reply]:
    return [reply for person, reply in messenger.dms if person == email]


def _questions(ctx: Context) -> list[AskedQuestion]:
    with ctx.store.read() as session:
        return list(session.exec(select(AskedQuestion).order_by(AskedQuestion.id)))  # type: ignore[arg-type]


def test_every_answer_offers_not_what_i_needed_and_records_it(chat, ctx: Context) -> None:
    channel = chat(PRIYA)
    [answer] = channel.send("who does TUPE?")
    assert answer.buttons[-1].label == "Not what I needed"
    [thanks] = channel.send("Not what I needed")
    assert thanks.kind == "learn_thanks"
    [form] = channel.send("Say what I needed")
    assert form.form is not None
    [noted] = channel.submit({"note": "someone for a pension scheme"})
    assert noted.kind == "learn_noted"
    [row] = _questions(ctx)
    assert (row.question, row.cards[0], row.feedback) == ("who does TUPE?", "employment", "missed")
    assert row.note == "someone for a pension scheme"


def test_only_the_asker_can_say_it_missed(chat, ctx: Context) -> None:
    [answer] = chat(PRIYA).send("who does TUPE?")
    feedback = answer.buttons[-1]
    [reply] = chat(SAM).press(feedback.action, feedback.value)
    assert reply.kind == "learn_not_yours"
    assert _questions(ctx)[0].feedback == ""


def test_a_no_match_is_recorded_without_a_feedback_button(chat, ctx: Context) -> None:
    [reply] = chat(PRIYA).send(NONSENSE)
    assert reply.kind == "whodoes_no_match" and not reply.buttons
    [row] = _questions(ctx)
    assert row.cards == [] and row.reason


async def test_the_weekly_review_goes_to_admins_and_the_closest_cards_owners(
    chat, ctx: Context, clock
) -> None:
    channel = chat(PRIYA)
    channel.send(NONSENSE)
    channel.send("client's landlord wants the building back")
    channel.send("Not what I needed")
    clock.move_to(MONDAY)
    messenger = RecordingMessenger()

    assert await _weekly(ctx, messenger) == "done"

    admin = _to(messenger, ADMIN)
    assert [r.kind for r in admin] == ["learn_weekly_intro"] + ["learn_weekly_item"] * 2
    assert NONSENSE in admin[1].text
    assert "client's landlord wants the building back" in admin[2].text
    assert "Add as an alias of Commercial property" in [b.label for b in admin[2].buttons]
    assert [r.kind for r in _to(messenger, NADIA)] == [r.kind for r in admin]
    helen = _to(messenger, HELEN)
    assert len(helen) == 2 and "building back" in helen[1].text  # her card was offered
    assert NONSENSE not in " ".join(r.text for r in helen)  # it came close to nothing of hers
    assert _to(messenger, SAM) == []  # privacy: nothing near his cards, so nothing to him

    # Next week's review doesn't repeat them.
    again = RecordingMessenger()
    assert await _weekly(ctx, again, MONDAY + timedelta(days=7)) == "done"
    assert again.dms == []


async def test_an_accepted_alias_answers_the_next_identical_question(
    chat, ctx: Context, clock
) -> None:
    [before] = chat(PRIYA).send(NONSENSE)
    assert before.kind == "whodoes_no_match"
    clock.move_to(MONDAY)
    messenger = RecordingMessenger()
    await _weekly(ctx, messenger)
    item = _to(messenger, ADMIN)[1]
    admin = chat(ADMIN)
    admin.buttons = item.buttons  # the admin reads the review in their DMs
    [pick] = admin.send("Another card")
    assert pick.form is not None
    [added] = admin.submit({"card": "Commercial property"})
    assert added.kind == "learn_alias_added"
    assert "zqxv vrrk" in added.text

    [after] = chat(PRIYA).send(NONSENSE)
    assert after.kind == "whodoes_answer"
    assert after.text.startswith("**Commercial property**")

    # A reload of the same folder keeps the learned alias, and so does the answer.
    load_sample(ctx.store)
    ctx.refresh()
    card = ctx.catalog().card("commercial-property")
    assert card is not None and "zqxv vrrk" in card.aliases
    [reloaded] = chat(PRIYA).send(NONSENSE)
    assert reloaded.text.startswith("**Commercial property**")


async def test_only_admins_and_owners_it_came_to_may_add_an_alias(chat, ctx: Context) -> None:
    channel = chat(PRIYA)
    [answer] = channel.send("client's landlord wants the building back")
    channel.send("Not what I needed")
    question = answer.buttons[-1].value["question"]
    [refused] = chat(SAM).press("learn.alias", {"question": question, "card": "business-tax"})
    assert refused.kind == "learn_not_allowed"
    [accepted] = chat(HELEN).press(
        "learn.alias", {"question": question, "card": "commercial-property"}
    )
    assert accepted.kind == "learn_alias_added"
    [twice] = chat(HELEN).press(
        "learn.alias", {"question": question, "card": "commercial-property"}
    )
    assert twice.kind == "learn_alias_added"
    with ctx.store.read() as session:
        [alias] = session.exec(select(LearnedAlias)).all()
    assert alias.alias == "client's landlord wants the building back"


def test_old_answered_questions_are_forgotten(chat, ctx: Context, clock) -> None:
    chat(PRIYA).send("who does TUPE?")
    clock.move_to(ASKED + timedelta(days=40))
    with ctx.store.write() as session:
        assert learning.weekly_review(session, ASKED + timedelta(days=40), ctx.catalog()) == []
    assert _questions(ctx) == []


def test_a_persons_questions_are_exported_and_forgotten_with_them(chat, ctx: Context) -> None:
    chat(PRIYA).send("who does TUPE?")
    with ctx.store.read() as session:
        exported = export_person(session, PRIYA)
    assert exported is not None and exported["questions"][0]["question"] == "who does TUPE?"
    with ctx.store.write() as session:
        assert forget_person(session, PRIYA)
    assert _questions(ctx) == []


def test_not_what_i_needed_typed_marks_the_last_question(chat, ctx: Context) -> None:
    channel = chat(PRIYA)
    channel.send("founder wants to sell up")
    [reply] = channel.send("that's not what I needed")
    assert reply.kind == "learn_thanks"
    [row] = _questions(ctx)
    assert (row.question, row.feedback) == ("founder wants to sell up", "missed")
    # After an answer that wasn't a search (or in another conversation) there is nothing
    # to mark, and the words are not searched as a situation either.
    channel.send("who looks after Zebra Widgets?")
    [after_unknown] = channel.send("not what I needed")
    assert after_unknown.kind == "learn_missed_nothing"
    [elsewhere] = chat(PRIYA, "another-conversation").send("wrong answer")
    assert elsewhere.kind == "learn_missed_nothing"


async def test_what_the_asker_needed_brings_in_the_card_it_points_to(
    chat, ctx: Context, clock
) -> None:
    channel = chat(PRIYA)
    channel.send("who does TUPE?")
    channel.send("Not what I needed")
    channel.send("Say what I needed")
    channel.submit({"note": "a rent review and business rates expert"})
    clock.move_to(MONDAY)
    messenger = RecordingMessenger()
    await _weekly(ctx, messenger)

    [_, item] = _to(messenger, "richard.pryce@hartwellfinch.example")  # owns Valuation
    assert "who does TUPE?" in item.text and "rent review" in item.text
    labels = [b.label for b in item.buttons]
    assert labels[0] == "Add as an alias of Valuation, rent reviews and business rates"
