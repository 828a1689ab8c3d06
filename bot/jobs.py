"""The scheduled jobs (`JOBS`), and the delivery steps the CLI shares with them.

`JOBS` is the list the server hands to `bot.scheduler.Scheduler`; nothing registers itself
at import. Another feature adds a job by appending one line to it:

    Job("campaigns.daily", daily, my_async_function),

where `daily` reads `CROSSBOT_DAILY_CRON` (weekdays 08:30 in the firm's time zone by default)
and `weekly` reads `CROSSBOT_DIGEST_CRON`. Names are unique: they key the exactly-once claim.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from bot import campaigns, chart_cache, digest, inbox, learning, nudges, referrals
from bot.charts import weekly_by_team_chart
from bot.context import Context
from bot.messages import Messenger, Reply, Unreachable
from bot.render import render
from bot.scheduler import Job, JobRunContext

log = logging.getLogger(__name__)


def weekly(settings: Any) -> str:
    return str(settings.digest_cron)


def daily(settings: Any) -> str:
    return str(settings.daily_cron)


# -- the weekly digest ------------------------------------------------------------------------


def build(ctx: Context, now: Any) -> tuple[digest.Digest, bytes | None]:
    """The digest for the week before `now`, and its chart as PNG bytes (from the chart
    cache; None when no referral was made in the weeks it covers)."""
    with ctx.store.read() as session:
        built = digest.build_digest(session, now, ctx.settings.zone)
    weeks, series = built.chart.weeks, built.chart.series
    if not any(any(counts) for counts in series.values()):
        return built, None  # nothing to draw: no blank chart with a 0-1 axis
    title, ylabel = render("digest_chart_title"), render("digest_chart_ylabel")
    shown = {"weeks": weeks, "series": series, "title": title, "ylabel": ylabel}
    draw = partial(weekly_by_team_chart, weeks, series, title=title, ylabel=ylabel)
    key = chart_cache.chart_key("digest", built.week_start, shown)
    return built, chart_cache.cached_chart(ctx.store, chart_cache.ChartSpec(key, draw))


async def post_digest(
    ctx: Context, messenger: Messenger, now: Any, again: bool = True
) -> dict[str, Any]:
    """Post the weekly digest to the digest channel and remember its spotlight.

    With `again=False` (the scheduled job) a week whose digest already went out, say by
    `crossbot digest` earlier that morning, is not posted a second time.
    """
    channel = ctx.settings.digest_channel
    if not channel:
        raise RuntimeError(render("cli_digest_no_channel"))
    # The domain is synchronous: build off the event loop so the server keeps answering.
    built, chart = await asyncio.to_thread(build, ctx, now)
    if not again and await asyncio.to_thread(_already_posted, ctx, built):
        return {"week_start": built.week_start.isoformat(), "skipped": "already posted"}
    for reply in digest.digest_replies(built, chart, channel):
        await messenger.post(channel, reply)
    with ctx.store.write() as session:
        digest.record_issue(session, built, now)
    return {
        "week_start": built.week_start.isoformat(),
        "stories": len(built.stories),
        "spotlight": built.spotlight.card_id if built.spotlight else None,
    }


async def send_personal_digests(ctx: Context, messenger: Messenger, now: Any) -> dict[str, Any]:
    """DM everyone who opted in and has something waiting on them."""
    found = await asyncio.to_thread(_read_personal_digests, ctx, now)
    sent = unreachable = 0
    for email, personal in found:
        try:
            await messenger.dm(email, digest.personal_reply(email, personal))
            sent += 1
        except Unreachable:
            unreachable += 1
    return {"sent": sent, "unreachable": unreachable}


def _already_posted(ctx: Context, built: digest.Digest) -> bool:
    with ctx.store.read() as session:
        return digest.issue_for(session, built.week_start) is not None


def _read_personal_digests(ctx: Context, now: Any) -> list[tuple[str, digest.PersonalDigest]]:
    with ctx.store.read() as session:
        return digest.personal_digests(session, now)


async def send_nudges(ctx: Context, messenger: Messenger, now: Any) -> dict[str, Any]:
    """Send today's nudges; each is recorded first, so it can never go twice."""
    from bot.channels import deliver_elsewhere

    policy = nudges.Policy.from_settings(ctx.settings)
    planned, ids, notices = await asyncio.to_thread(_plan_nudges, ctx, now, policy)
    failed: list[str] = []
    for item in planned.send:
        try:
            await messenger.dm(item.email, nudges.reply(item, ids[item.key]))
        except Unreachable:
            failed.append(item.key)
    await deliver_elsewhere(notices, messenger)
    if failed:
        with ctx.store.write() as session:
            nudges.unsent(session, failed)
    return {
        "sent": len(planned.send) - len(failed),
        "unreachable": len(failed),
        "batched": len(planned.batch),
        "held": len(planned.held),
    }


def _plan_nudges(
    ctx: Context, now: Any, policy: nudges.Policy
) -> tuple[nudges.Plan, dict[str, int], list[Reply]]:
    with ctx.store.write() as session:
        planned = nudges.plan(session, now, policy)
        ids = nudges.record(session, planned, now)
        return planned, ids, nudges.follow_through(session, planned, now, policy)


# -- job functions --------------------------------------------------------------------------


async def _weekly_digest(run: JobRunContext) -> dict[str, Any]:
    assert run.messenger is not None
    return await post_digest(run.ctx, run.messenger, run.now, again=False)


async def _personal_digests(run: JobRunContext) -> dict[str, Any]:
    assert run.messenger is not None
    return await send_personal_digests(run.ctx, run.messenger, run.now)


async def _nudges(run: JobRunContext) -> dict[str, Any]:
    assert run.messenger is not None
    return await send_nudges(run.ctx, run.messenger, run.now)


async def _learning_review(run: JobRunContext) -> dict[str, Any]:
    """The weekly list of questions who-does couldn't answer or got wrong (bot.learning)."""
    from bot.channels import deliver_elsewhere

    assert run.messenger is not None
    catalog = await asyncio.to_thread(run.ctx.catalog)
    with run.ctx.store.write() as session:
        replies = learning.weekly_review(session, run.now, catalog)
    undelivered = await deliver_elsewhere(replies, run.messenger)
    return {"sent": len(replies) - len(undelivered), "unreachable": len(undelivered)}


WEEKLY_DIGEST = Job("digest.weekly", weekly, _weekly_digest)
LEARNING_REVIEW = Job("whodoes.weekly_review", weekly, _learning_review)
PERSONAL_DIGESTS = Job("digest.personal", weekly, _personal_digests)
NUDGES = Job("nudges.daily", daily, _nudges)


DomainStep = Callable[..., list[Reply]]


def _domain_job(name: str, steps: list[tuple[DomainStep, dict[str, Any]]]) -> Job:
    """A daily job over domain functions that return addressed `Reply`s.

    Each step runs in its own transaction as `function(session, now, **extras)`, where
    extras are built from the settings, and the job delivers its replies. Steps run in
    order: a campaign ends before the next one starts, which starts before the standings.
    """

    async def run(context: JobRunContext) -> dict[str, Any]:
        from bot.channels import deliver_elsewhere

        assert context.messenger is not None
        sent = 0
        for function, extras in steps:
            values = {key: build(context.ctx.settings) for key, build in extras.items()}
            with context.ctx.store.write() as session:
                replies = list(function(session, context.now, **values) or [])
            undelivered = await deliver_elsewhere(replies, context.messenger)
            sent += len(replies) - len(undelivered)
        return {"sent": sent, "steps": [function.__name__ for function, _ in steps]}

    return Job(name, daily, run)


def _settings(settings: Any) -> Any:
    return settings


def _zone(settings: Any) -> Any:
    return settings.zone


def _prune(session: Any, now: Any) -> list[Reply]:
    """Forget deliveries old enough that no platform will retry them, and old stash rows."""
    inbox.prune(session, now)
    return []


CONSENT_REMINDERS = _domain_job(
    "referrals.remind_silent_owners", [(referrals.remind_silent_owners, {"timezone": _zone})]
)
CAMPAIGNS_DAILY = _domain_job(
    "campaigns.daily",
    [
        (campaigns.end_due_campaigns, {"settings": _settings}),
        (campaigns.start_due_campaigns, {"settings": _settings}),
        (campaigns.daily_standings, {"settings": _settings}),
    ],
)
HOUSEKEEPING = _domain_job("housekeeping.processed_events", [(_prune, {}), (chart_cache.prune, {})])


# Every scheduled job, in no particular order (each runs on its own cron).
JOBS: list[Job] = [
    WEEKLY_DIGEST,
    LEARNING_REVIEW,
    PERSONAL_DIGESTS,
    NUDGES,
    CONSENT_REMINDERS,
    CAMPAIGNS_DAILY,
    HOUSEKEEPING,
]
