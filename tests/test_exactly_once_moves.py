"""Double presses of story and campaign buttons change state once, on any number of replicas.

Each press runs in its own thread and its own transaction, as on two or three replicas: on
SQLite the writes take turns; on PostgreSQL (the slow twins) they truly race, and only the
row lock in front of every status move keeps the second press from repeating the first.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlmodel import select

from bot import campaigns
from bot.campaigns import local_day
from bot.context import Context
from bot.messages import Reply
from bot.store.models import Campaign, Idea, IdeaVote, PointEvent, Story
from tests import factories, story_support
from tests.campaign_support import ALEX, JAMES, MONDAY, OWEN, PRIYA, SAM

pytestmark = pytest.mark.postgres  # also on PostgreSQL under -m slow

STORY = {**story_support.STORY, "teams": "Employment"}  # the story form, for Employment only


def _at_once(times: int, press: Callable[[], list[Reply]]) -> list[list[Reply]]:
    """The same press `times` times at once, each on its own thread (its own replica)."""
    with ThreadPoolExecutor(times) as pool:
        return list(pool.map(lambda _: press(), range(times)))


def _kinds(answers: list[list[Reply]]) -> Counter[str]:
    return Counter(reply.kind for replies in answers for reply in replies)


def _story(ctx: Context) -> Story:
    with ctx.store.read() as session:
        return session.exec(select(Story)).one()


def _story_points(ctx: Context, story: Story) -> int:
    with ctx.store.read() as session:
        awards = session.exec(select(PointEvent).where(PointEvent.source == f"story:{story.id}"))
        return len(list(awards))


@pytest.fixture
def channel_ctx(ctx: Context, week: Campaign) -> Context:
    """The sample firm during Winter week (stories score), with a channel for posts."""
    ctx.settings.digest_channel = "C-DIGEST"
    return ctx


def test_a_story_posted_twice_at_once_is_saved_once(chat, channel_ctx) -> None:
    sam = chat(SAM)  # an ambassador: posting publishes at once

    answers = _at_once(2, lambda: sam.press("story.submit", STORY))

    kinds = _kinds(answers)
    assert kinds["story_saved"] == 1 and kinds["story_post"] == 1
    [refused] = [r for r in answers if r[0].kind == "story_problem"]
    assert "Already done" in refused[0].text and not any(r.form for r in refused)
    assert _story(channel_ctx).status == "published"


def test_approve_pressed_three_times_publishes_once(chat, channel_ctx) -> None:
    chat(OWEN).press("story.submit", STORY)
    story = _story(channel_ctx)
    sam = chat(SAM)

    answers = _at_once(3, lambda: sam.press("story.approve", {"story": story.id}))

    kinds = _kinds(answers)
    assert kinds["story_reviewed"] == 1 and kinds["story_problem"] == 2
    assert kinds["story_news"] == 1 and kinds["story_post"] == 1  # one set of notices
    assert all("Already done" in r[0].text for r in answers if r[0].kind == "story_problem")
    assert _story(channel_ctx).status == "published"
    assert _story_points(channel_ctx, story) == 1


def test_approve_and_decline_at_once_review_once(chat, channel_ctx) -> None:
    chat(OWEN).press("story.submit", STORY)
    story = _story(channel_ctx)
    presses = [(SAM, "story.approve"), (ALEX, "story.decline")]

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda p: chat(p[0]).press(p[1], {"story": story.id}), presses))

    assert _kinds(answers)["story_reviewed"] == 1
    assert _kinds(answers)["story_news"] == 1  # the author hears one verdict
    assert _story(channel_ctx).status in ("published", "declined")


def test_owner_consent_pressed_three_times_publishes_once(chat, channel_ctx) -> None:
    won = factories.referral_id(
        channel_ctx, "Northwind Foods Ltd", SAM, PRIYA, MONDAY, "won", 30_000
    )
    chat(SAM).press("story.submit", {**STORY, "referral": str(won), "name_client": "yes"})
    story = _story(channel_ctx)
    assert story.client_approval == "pending"
    james = chat(JAMES)  # the client's relationship owner

    answers = _at_once(3, lambda: james.press("story.owner_approve", {"story": story.id}))

    kinds = _kinds(answers)
    assert kinds["story_owner_answered"] == 1 and kinds["story_problem"] == 2
    assert kinds["story_news"] == 1 and kinds["story_post"] == 1
    assert _story(channel_ctx).status == "published"
    assert _story_points(channel_ctx, story) == 1


def test_withdraw_pressed_twice_withdraws_once(chat, ctx) -> None:
    owen = chat(OWEN)
    owen.press("story.submit", STORY)
    story = _story(ctx)

    answers = _at_once(2, lambda: owen.press("story.withdraw", {"story": story.id}))

    assert _kinds(answers) == Counter({"story_withdrawn": 1, "story_problem": 1})
    assert _story(ctx).status == "withdrawn"


def test_end_pressed_three_times_ends_once(chat, ctx, week) -> None:
    alex = chat(ALEX)

    answers = _at_once(3, lambda: alex.press("campaign.end"))

    kinds = _kinds(answers)
    assert kinds["campaign_ended"] == 1 and kinds["campaign_error"] == 2
    assert kinds["campaign_summary"] == 1  # one summary, one set of winner notices
    # A press that waited on the first is told it is done; one that came after finds none.
    refused = [r[0].text for r in answers if r[0].kind == "campaign_error"]
    assert all("Already done" in text or "no campaign running" in text for text in refused)
    with ctx.store.read() as session:
        assert session.exec(select(Campaign)).one().status == "ended"


def test_the_start_form_submitted_twice_creates_one_campaign(chat, ctx, clock) -> None:
    alex = chat(ALEX)
    today = local_day(ctx.now(), ctx.settings.zone)
    form = {"name": "Winter week", "start": today.isoformat(), "end": "4 Dec", "preset": ""}

    answers = _at_once(2, lambda: alex.press("campaign.create", form))

    kinds = _kinds(answers)
    assert kinds["campaign_created"] == 1 and kinds["campaign_start"] == 1  # one announcement
    [refused] = [r for r in answers if r[0].kind == "campaign_error"]
    assert "Already done" in refused[0].text and not any(r.form for r in refused)
    with ctx.store.read() as session:
        assert len(session.exec(select(Campaign)).all()) == 1


def test_a_due_campaign_started_by_two_replicas_is_announced_once(ctx, clock) -> None:
    with ctx.store.write() as session:
        campaigns.create_campaign(
            session,
            name="Winter week",
            start=local_day(MONDAY, ctx.settings.zone),
            end=local_day(MONDAY, ctx.settings.zone),
            now=MONDAY,
            zone=ctx.settings.zone,
        )
    ctx.settings.digest_channel = "C-DIGEST"

    def start() -> list[Reply]:
        with ctx.store.write() as session:
            return campaigns.start_due_campaigns(session, MONDAY, ctx.settings)

    answers = _at_once(3, start)

    assert _kinds(answers) == Counter({"campaign_start": 1})


def test_upvote_pressed_three_times_counts_once(chat, ctx, week) -> None:
    chat(OWEN).send("/idea Northwind might need R&D tax relief because they're building a plant")
    with ctx.store.read() as session:
        idea = session.exec(select(Idea)).one()
    sam = chat(SAM)

    answers = _at_once(3, lambda: sam.press("idea.upvote", {"idea": idea.id}))

    assert _kinds(answers) == Counter({"idea_upvoted": 1, "idea_error": 2})
    with ctx.store.read() as session:
        assert len(session.exec(select(IdeaVote)).all()) == 1
