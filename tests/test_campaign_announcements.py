"""Start, daily and end announcements driven by a controlled clock, as the scheduler runs them."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from sqlmodel import select

from bot import campaigns
from bot.campaigns import daily_standings, end_due_campaigns, record_idea, start_due_campaigns
from bot.channels import deliver_elsewhere
from bot.nudges import Policy
from bot.settings import Settings
from bot.store.models import Campaign, Nudge
from tests.campaign_support import (
    ALEX,
    JAMES,
    MONDAY,
    NADIA,
    PNG,
    PRIYA,
    SAM,
    later,
    make_campaign,
    refer,
    step,
)
from tests.conftest import frozen_clock
from tests.factories import person

pytestmark = pytest.mark.postgres  # also on PostgreSQL under -m slow

CHANNEL = "C0CROSSSELL"
SUNDAY = MONDAY - timedelta(days=1)


@pytest.fixture
def announced(ctx) -> Settings:
    """Settings with an announcement channel, shared with the context the chat uses."""
    ctx.settings = ctx.settings.model_copy(update={"digest_channel": CHANNEL})
    return ctx.settings


clock = frozen_clock(SUNDAY)


def _run(ctx, job, now: datetime, settings: Settings):
    with ctx.store.write() as session:
        return job(session, now, settings)


def _schedule(ctx) -> Campaign:
    return make_campaign(ctx, now=SUNDAY, start=date(2026, 11, 30), end=date(2026, 12, 4))


def test_a_scheduled_campaign_is_announced_on_its_first_morning(ctx, announced, clock) -> None:
    campaign = _schedule(ctx)
    assert _run(ctx, start_due_campaigns, SUNDAY + timedelta(hours=9), announced) == []
    clock.move_to(MONDAY)
    [post] = _run(ctx, start_due_campaigns, MONDAY, announced)
    assert post.to_channel == CHANNEL and post.kind == "campaign_start"
    assert "Winter week starts today" in post.text and "Friday 4 December" in post.text
    rules = [line for line in post.text.splitlines() if line[:2] in ("1.", "2.", "3.")]
    assert len(rules) == 3  # the rules in three lines
    assert _run(ctx, start_due_campaigns, MONDAY + timedelta(hours=1), announced) == []
    with ctx.store.read() as s:
        assert s.get(Campaign, campaign.id).status == "running"  # type: ignore[union-attr]


def test_daily_standings_post_a_chart_and_encourage_within_the_budget(
    ctx, announced, clock
) -> None:
    _schedule(ctx)
    clock.move_to(MONDAY)
    _run(ctx, start_due_campaigns, MONDAY, announced)
    with ctx.store.write() as s:
        for author, count in ((NADIA, 3), (PRIYA, 2), (SAM, 1)):
            for n in range(count):
                record_idea(s, person(s, author), f"Idea {n}: Acme needs VAT help", later(hours=1))
        sam = person(s, SAM)
        sam.leaderboard_opt_in = True
        s.add(sam)
    evening = later(hours=8)
    clock.move_to(evening)
    replies = _run(ctx, daily_standings, evening, announced)
    [post] = [r for r in replies if r.to_channel]
    assert post.kind == "campaign_standings" and post.image and post.image.startswith(PNG)
    assert "Operations" in post.text and "Sam Patel" in post.text
    assert "Priya Shah" not in post.text  # not opted in
    nudges = {r.to_person: r.text for r in replies if r.kind == "campaign_encourage"}
    # Operations leads on total points (6); Employment (4) and Tax (2) are behind.
    assert set(nudges) == {PRIYA, SAM}
    assert "Employment is 2 points behind Operations" in nudges[PRIYA]
    assert "Tax is 2 points behind Employment" in nudges[SAM]
    # At most one nudge per person per day: a second run the same day sends no more.
    again = _run(ctx, daily_standings, evening + timedelta(hours=1), announced)
    assert [r for r in again if r.kind == "campaign_encourage"] == []
    # The budget is shared: someone who had their two nudges today is left alone.
    tomorrow = later(days=1, hours=8)
    with ctx.store.write() as s:
        for n in (1, 2):
            s.add(
                Nudge(
                    key=f"follow-up:{n}",
                    person_id=person(s, PRIYA).id or 0,
                    kind="follow_up",
                    due_at=tomorrow,
                    sent_at=tomorrow - timedelta(hours=n),
                )
            )
    clock.move_to(tomorrow)
    next_day = _run(ctx, daily_standings, tomorrow, announced)
    assert {r.to_person for r in next_day if r.kind == "campaign_encourage"} == {SAM}


def test_daily_standings_carry_flags_to_admins(ctx, announced, clock) -> None:
    clock.move_to(MONDAY)
    make_campaign(ctx)
    with ctx.store.write() as s:
        priya, sam = person(s, PRIYA), person(s, SAM)
        for n, client in enumerate(
            ["Northwind Foods Ltd", "Acme Logistics plc", "Blue Fin Hotels", "Pennine Dairies Ltd"]
        ):
            a, b = (priya, sam) if n % 2 == 0 else (sam, priya)
            refer(s, a, b, client, later(hours=n))
    replies = _run(ctx, daily_standings, later(hours=8), announced)
    assert {r.to_person for r in replies if r.kind == "campaign_flag"} == {
        ALEX,
        "nadia.brooks@hartwellfinch.example",
    }


def test_the_end_of_campaign_summary_and_winners(ctx, announced, clock) -> None:
    _schedule(ctx)
    clock.move_to(MONDAY)
    _run(ctx, start_due_campaigns, MONDAY, announced)
    with ctx.store.write() as s:
        priya, sam, james = person(s, PRIYA), person(s, SAM), person(s, JAMES)
        won, _ = refer(s, priya, sam, "Northwind Foods Ltd", later(hours=1), value=20_000)
        step(s, won, "accepted", sam, later(hours=2))
        step(s, won, "meeting", sam, later(days=1))
        step(s, won, "won", sam, later(days=2), won_value=60_000)
        accepted, _ = refer(s, james, sam, "Acme Logistics plc", later(hours=3))
        step(s, accepted, "accepted", sam, later(hours=4))
        refer(s, james, priya, "Blue Fin Hotels", later(hours=5))
        record_idea(s, james, "Pennine Dairies may need an audit", later(hours=6))
        priya.leaderboard_opt_in = True
        s.add(priya)
    friday_evening = later(days=4, hours=12)
    assert _run(ctx, end_due_campaigns, friday_evening, announced) == []  # Friday still counts
    saturday = datetime(2026, 12, 5, 0, 5, tzinfo=MONDAY.tzinfo)
    clock.move_to(saturday)
    replies = _run(ctx, end_due_campaigns, saturday, announced)
    [summary] = [r for r in replies if r.to_channel == CHANNEL]
    assert summary.kind == "campaign_summary"
    assert "3 people took part" in summary.text
    assert "1 idea shared" in summary.text
    assert "3 referrals made, 2 accepted, 1 won worth £60k" in summary.text
    assert "Priya Shah" in summary.text and "Sam Patel" not in summary.text  # opt-in only
    assert "Northwind" not in summary.text and "Acme" not in summary.text
    winners = {r.to_person for r in replies if r.kind == "campaign_winner"}
    assert winners == {PRIYA, SAM, JAMES}
    assert _run(ctx, end_due_campaigns, saturday + timedelta(hours=1), announced) == []
    with ctx.store.read() as s:
        assert campaigns.running_campaign(s, saturday) is None


def test_announcements_go_through_the_messenger(ctx, announced, clock, messenger) -> None:
    _schedule(ctx)
    clock.move_to(MONDAY)
    replies = _run(ctx, start_due_campaigns, MONDAY, announced)
    here = asyncio.run(deliver_elsewhere(replies, messenger))
    assert here == [] and [channel for channel, _ in messenger.posts] == [CHANNEL]


def test_without_a_channel_the_jobs_post_nothing_but_still_run(ctx, clock) -> None:
    _schedule(ctx)
    clock.move_to(MONDAY)
    assert _run(ctx, start_due_campaigns, MONDAY, ctx.settings) == []
    with ctx.store.read() as s:
        assert s.exec(select(Campaign)).one().status == "running"


def test_an_admin_ending_early_posts_the_summary(ctx, announced, chat, clock) -> None:
    clock.move_to(MONDAY)
    make_campaign(ctx)
    replies = chat(ALEX).send("/crossbot campaign end")
    assert [r.kind for r in replies if r.to_channel] == ["campaign_summary"]
    assert "announcement channel" in replies[0].text


def test_encouragement_respects_a_weekly_nudge_budget(ctx, clock) -> None:
    clock.move_to(MONDAY)
    campaign = make_campaign(ctx)
    with ctx.store.write() as s:
        record_idea(s, person(s, NADIA), "Acme may need VAT help", later(hours=1))
        record_idea(s, person(s, NADIA), "Blue Fin may need a rates review", later(hours=1))
        record_idea(s, person(s, PRIYA), "Northwind may need R&D relief", later(hours=1))
        s.add(
            Nudge(
                key="card-review:1",
                person_id=person(s, PRIYA).id or 0,
                kind="card_review",
                sent_at=later(days=-3),
            )
        )
        boards = campaigns.compute_boards(s, campaign, later(hours=8), ctx.settings.zone)
        zone, policy = ctx.settings.zone, Policy.from_settings(ctx.settings)
        one_a_week = replace(policy, weekly_budget=1)
        assert campaigns.encouragements(s, campaign, boards, later(hours=8), zone, one_a_week) == []
        two_a_week = replace(policy, weekly_budget=2)
        [nudge] = campaigns.encouragements(s, campaign, boards, later(hours=8), zone, two_a_week)
        assert nudge.to_person == PRIYA


async def test_the_scheduler_runs_a_whole_week(ctx, announced, clock, messenger) -> None:
    """The digest scheduler's `campaigns.daily` job: end, start, then standings, exactly once."""
    from bot import jobs
    from bot.scheduler import run_due

    job = jobs.CAMPAIGNS_DAILY
    assert job is not None
    _schedule(ctx)

    async def at(moment: datetime) -> str:
        clock.move_to(moment)
        return await run_due(ctx, job, moment, moment, messenger)

    monday = MONDAY.replace(hour=8, minute=30)
    assert await at(monday) == "done"
    assert [r.kind for _, r in messenger.posts] == ["campaign_start"]  # no scores, no standings
    with ctx.store.write() as s:
        priya, sam = person(s, PRIYA), person(s, SAM)
        referral, _ = refer(s, priya, sam, "Northwind Foods Ltd", later(hours=2), value=20_000)
        step(s, referral, "accepted", sam, later(hours=3))
        record_idea(s, person(s, NADIA), "Blue Fin may need a rates review", later(hours=4))
    tuesday = monday + timedelta(days=1)
    assert await at(tuesday) == "done"
    assert await at(tuesday) == "skipped"  # a slot runs once, however often it is offered
    [(channel, standings)] = [(c, r) for c, r in messenger.posts if r.kind == "campaign_standings"]
    assert channel == CHANNEL and standings.image and standings.image.startswith(PNG)
    assert "day 2" in standings.text
    encouraged = [email for email, r in messenger.dms if r.kind == "campaign_encourage"]
    assert encouraged and len(encouraged) == len(set(encouraged))
    next_monday = monday + timedelta(days=7)
    assert await at(next_monday) == "done"
    [summary] = [r for _, r in messenger.posts if r.kind == "campaign_summary"]
    assert "1 referral made, 1 accepted, 0 won" in summary.text
    assert {email for email, r in messenger.dms if r.kind == "campaign_winner"} == {
        PRIYA,
        SAM,
        NADIA,
    }
    with ctx.store.read() as s:
        assert s.exec(select(Campaign)).one().status == "ended"
