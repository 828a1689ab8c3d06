"""Campaigns and ideas in chat: the admin form, extend/end/reverse, ideas, upvotes, referrals."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.store.models import Campaign, Idea, IdeaVote, PointEvent
from tests.campaign_support import (
    ALEX,
    JAMES,
    OWEN,
    PRIYA,
    SAM,
    later,
    make_campaign,
    refer,
    step,
)
from tests.factories import person

pytestmark = pytest.mark.postgres  # also on PostgreSQL under -m slow

FORM = {
    "name": "Winter week",
    "start": "2026-11-30",
    "end": "4 Dec",
    "teams": "",
    "offices": "",
    "preset": "standard",
}


def test_an_admin_starts_a_campaign_with_the_form(ctx, chat, clock) -> None:
    admin = chat(ALEX)
    [intro] = admin.send("/crossbot campaign start")
    assert intro.form is not None and intro.form.submit_action == "campaign.create"
    assert [i.name for i in intro.form.inputs] == [
        "name",
        "start",
        "end",
        "teams",
        "offices",
        "preset",
    ]
    created, announcement = admin.submit(FORM)
    assert created.kind == "campaign_created" and "running now" in created.text
    assert announcement.kind == "campaign_start"  # no channel configured: shown to the admin
    with ctx.store.read() as s:
        [campaign] = s.exec(select(Campaign)).all()
    assert campaign.status == "running" and campaign.rules["points"]["accepted"] == 5


def test_scheduling_ahead_and_a_kind_error(ctx, chat, clock) -> None:
    admin = chat(ALEX)
    admin.send("/crossbot campaign start")
    error, form = admin.submit(FORM | {"start": "7 Dec", "end": "1 Dec"})
    assert error.kind == "campaign_error" and "swap" in error.text
    assert form.form is not None and form.form.inputs[1].initial == "7 Dec"  # kept what was typed
    error, _ = admin.submit(FORM | {"start": "someday"})
    assert "someday" in error.text
    error, _ = admin.submit(FORM | {"teams": "Tax, Wizards"})
    assert "Wizards" in error.text
    [created] = admin.submit(FORM | {"start": "7 Dec", "end": "11 Dec", "teams": "Tax, Leeds"})
    assert "scheduled" in created.text
    with ctx.store.read() as s:
        [campaign] = s.exec(select(Campaign)).all()
    assert campaign.status == "scheduled"
    assert (campaign.teams, campaign.offices) == (["Tax"], ["Leeds"])
    [status] = chat(PRIYA).send("/crossbot campaign status")
    assert "starts on" in status.text


def test_only_admins_run_campaigns(chat, clock) -> None:
    for command in ("start", "end", "extend 9 Dec", "reverse 1"):
        [reply] = chat(PRIYA).send(f"/crossbot campaign {command}")
        assert reply.kind == "campaign_admin_only"
    [reply] = chat(PRIYA).press("campaign.create", FORM)
    assert reply.kind == "campaign_admin_only"


def test_extend_end_and_history(ctx, chat, clock) -> None:
    make_campaign(ctx)
    admin = chat(ALEX)
    [extended] = admin.send("/crossbot campaign extend 8 Dec")
    assert extended.kind == "campaign_extended" and "8 December" in extended.text
    [refused] = admin.send("/crossbot campaign extend 1 Dec")
    assert refused.kind == "campaign_error"
    replies = admin.send("/crossbot campaign end")
    assert replies[0].kind == "campaign_ended"
    assert "campaign_summary" in [r.kind for r in replies]
    [none] = chat(PRIYA).send("/crossbot campaign")
    assert none.kind == "campaign_none" and "Winter week" in none.text
    [history] = admin.send("/crossbot campaign history")
    assert "Winter week" in history.text and "ended" in history.text


def test_reverse_in_chat_tells_the_person(ctx, chat, clock) -> None:
    make_campaign(ctx)
    with ctx.store.write() as s:
        referral, _ = refer(s, person(s, PRIYA), person(s, SAM), "Northwind Foods Ltd", later())
        _, awards = step(s, referral, "accepted", person(s, SAM), later(hours=1))
        award_id = next(a.id for a in awards if a.points == 5)
    [listing] = chat(ALEX).send(f"/crossbot campaign awards {PRIYA}")
    assert f"#{award_id} accepted +5" in listing.text and "Northwind" not in listing.text
    lines = [line for line in listing.text.splitlines() if line.startswith("- #")]
    assert len(lines) == 2  # logged and accepted, one per line
    done, notice = chat(ALEX).send(f"/crossbot campaign reverse {award_id} not a real intro")
    assert done.kind == "campaign_reversed"
    assert notice.to_person == PRIYA and "not a real intro" in notice.text
    with ctx.store.read() as s:
        rows = s.exec(select(PointEvent).where(PointEvent.reverses_id == award_id)).all()
    assert [r.points for r in rows] == [-5]
    [again] = chat(ALEX).send(f"/crossbot campaign reverse {award_id}")
    assert "already been reversed" in again.text


def test_status_shows_the_rules_and_my_points(ctx, chat, clock) -> None:
    make_campaign(ctx)
    chat(PRIYA).send("/idea Acme might need VAT advice because of new imports")
    [status] = chat(PRIYA).send("/crossbot campaign status")
    assert "Winter week" in status.text and "2 points" in status.text
    assert "Own-team and self referrals don't score" in status.text


# -- ideas -------------------------------------------------------------------------------


def test_an_idea_is_recorded_and_read_lightly(ctx, chat, clock) -> None:
    make_campaign(ctx)
    [reply] = chat(PRIYA).send(
        "idea: Northwind might need R&D tax relief because they're building a new plant"
    )
    assert reply.kind == "idea_recorded" and "+2 points" in reply.text
    with ctx.store.read() as s:
        [idea] = s.exec(select(Idea)).all()
    assert idea.client_name == "Northwind Foods Ltd"
    assert idea.card_id == "rd-tax-relief"
    assert idea.why_now == "they're building a new plant"
    assert idea.campaign_id is not None
    [usage] = chat(PRIYA).send("/idea")
    assert usage.kind == "idea_usage"
    [short] = chat(PRIYA).send("/idea tax?")
    assert short.kind == "idea_error"


def test_ideas_are_listed_and_upvoted_once_per_person(ctx, chat, clock) -> None:
    make_campaign(ctx)
    chat(PRIYA).send("/idea Northwind might need R&D tax relief")
    chat(SAM).send("/idea Blue Fin Hotels may need a business rates review")
    owen = chat(OWEN)
    [listing] = owen.send("/ideas")
    assert "Northwind" in listing.text and "Blue Fin" in listing.text
    [first, second] = [line for line in listing.text.splitlines() if line.startswith("#")]
    assert "Northwind" in first and "Blue Fin" in second  # one idea per line
    assert len(listing.buttons) == 2
    [voted] = owen.send(listing.buttons[0].label)
    assert voted.kind == "idea_upvoted" and "1 vote" in voted.text
    [twice] = owen.press("idea.upvote", listing.buttons[0].value)
    assert "already" in twice.text
    [own] = chat(PRIYA).press("idea.upvote", {"idea": 1})
    assert "your own" in own.text
    with ctx.store.read() as s:
        assert len(s.exec(select(IdeaVote)).all()) == 1
    [relisted] = owen.send("/ideas")
    assert len(relisted.buttons) == 1  # the one Owen already upvoted has no button


def test_an_idea_becomes_a_referral_by_its_author_or_an_ambassador(ctx, chat, clock) -> None:
    make_campaign(ctx)
    james = chat(JAMES)
    [recorded] = james.send("/idea Northwind might need R&D tax relief")
    to_referral = recorded.buttons[0]
    assert to_referral.action == "idea.to_referral"
    intro, form = james.press(to_referral.action, to_referral.value)
    assert intro.kind == "idea_to_referral"
    assert form.form is not None and form.form.submit_action == "referral.submit"
    initial = {i.name: i.initial for i in form.form.inputs}
    assert initial["service"] == "rd-tax-relief"
    assert initial["note"] == "Northwind might need R&D tax relief"
    [refused] = chat(OWEN).press(to_referral.action, to_referral.value)
    assert refused.kind == "idea_error" and "author or an ambassador" in refused.text
    by_ambassador = chat(SAM).press(to_referral.action, to_referral.value)
    assert [r.kind for r in by_ambassador][0] == "idea_to_referral"
    # James logs it: the referral is saved by the referral flow and the idea links to it.
    saved = james.submit(initial | {"client": "Northwind Foods Ltd", "receiver": SAM})
    assert "referral_saved" in [r.kind for r in saved]
    with ctx.store.read() as s:
        [idea] = s.exec(select(Idea)).all()
    assert idea.referral_id is not None
    [again] = james.press(to_referral.action, to_referral.value)
    assert "already become a referral" in again.text


def test_an_idea_outside_a_campaign_is_kept_for_the_next(ctx, chat, clock) -> None:
    [reply] = chat(PRIYA).send("/idea Acme might need VAT advice on imports")
    assert "next one" in reply.text
    with ctx.store.read() as s:
        [idea] = s.exec(select(Idea)).all()
    assert idea.campaign_id is None


def test_plain_words_reach_the_leaderboard(ctx, chat, clock) -> None:
    make_campaign(ctx)
    assert chat(PRIYA).send("show me the leaderboard")[0].kind == "leaderboard_people"
    assert chat(PRIYA).send("how am I doing?")[0].kind == "leaderboard_me"
    assert chat(PRIYA).send("/leaderboard sideways")[0].kind == "leaderboard_usage"


def test_admin_commands_missing_their_argument_say_what_to_type(ctx, chat, clock) -> None:
    make_campaign(ctx)
    admin = chat(ALEX)
    [extend] = admin.send("/crossbot campaign extend")
    assert extend.kind == "campaign_error" and '""' not in extend.text
    assert "campaign extend 12 Dec" in extend.text
    [usage] = admin.send("/crossbot campaign what")
    assert "campaign awards" in usage.text and "campaign history" in usage.text
    [missing] = admin.send("/crossbot campaign reverse 99999")
    assert "campaign awards" in missing.text


def test_a_second_campaign_form_starts_after_the_running_one(ctx, chat, clock) -> None:
    make_campaign(ctx)  # Monday to Friday
    admin = chat(ALEX)
    [intro] = admin.send("/crossbot campaign start")
    assert intro.form is not None
    defaults = {i.name: i.initial for i in intro.form.inputs}
    assert defaults["start"] == "2026-12-05"  # the Saturday after
    [created] = admin.submit(defaults)  # the defaults as they stand make a valid campaign
    assert created.kind == "campaign_created" and "scheduled" in created.text
