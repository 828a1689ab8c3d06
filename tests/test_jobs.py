"""Daily jobs of other features sit in the `JOBS` list and deliver their addressed replies."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlmodel import Session

from bot import jobs, scheduler
from bot.context import Context
from bot.messages import Reply
from bot.server import build_app
from tests.conftest import RecordingMessenger

pytestmark = pytest.mark.postgres  # also on PostgreSQL under -m slow

SLOT = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)
seen: list[dict[str, Any]] = []


def first_step(session: Session, now: datetime, settings: Any = None) -> list[Reply]:
    seen.append({"step": "first", "settings": settings is not None})
    return [Reply("to the channel", to_channel="C-X"), Reply("to a person", to_person="a@b.c")]


def second_step(session: Session, now: datetime, timezone: ZoneInfo | None = None) -> list[Reply]:
    seen.append({"step": "second", "timezone": str(timezone)})
    return []


@pytest.fixture
def domain_job():
    job = jobs._domain_job(
        "test.daily",
        [(first_step, {"settings": jobs._settings}), (second_step, {"timezone": jobs._zone})],
    )
    seen.clear()
    return job


async def test_a_domain_job_runs_its_steps_in_order_and_delivers(ctx: Context, domain_job):
    assert domain_job.name == "test.daily" and domain_job not in jobs.JOBS
    messenger = RecordingMessenger()
    assert await scheduler.run_due(ctx, domain_job, SLOT, SLOT, messenger) == "done"
    assert seen == [
        {"step": "first", "settings": True},
        {"step": "second", "timezone": "Europe/London"},
    ]
    assert [c for c, _ in messenger.posts] == ["C-X"] and [p for p, _ in messenger.dms] == ["a@b.c"]
    assert await scheduler.run_due(ctx, domain_job, SLOT, SLOT, messenger) == "skipped"


def test_the_daily_jobs_of_every_feature_are_in_the_jobs_list():
    names = {job.name for job in jobs.JOBS}
    assert {"referrals.remind_silent_owners", "campaigns.daily", "nudges.daily"} <= names
    assert "housekeeping.processed_events" in names


async def test_housekeeping_forgets_old_delivery_ids(ctx: Context):
    from bot.store.models import InboxItem

    with ctx.store.write() as session:
        old = datetime(2026, 11, 1, tzinfo=UTC)
        session.add(InboxItem(platform="slack", key="old", received_at=old, done_at=old))
        session.add(InboxItem(platform="slack", key="new", received_at=SLOT))
    assert (
        await scheduler.run_due(ctx, jobs.HOUSEKEEPING, SLOT, SLOT, RecordingMessenger()) == "done"
    )
    with ctx.store.read() as session:
        from sqlmodel import select

        assert [e.key for e in session.exec(select(InboxItem))] == ["new"]


def test_no_platform_means_no_scheduler(ctx: Context):
    from bot.server import SCHEDULER_KEY

    assert SCHEDULER_KEY not in build_app(ctx)


def test_messenger_factory_says_what_to_configure(ctx: Context):
    from bot.channels import NoMessenger, messenger_from_settings

    with pytest.raises(NoMessenger, match="SLACK_BOT_TOKEN"):
        messenger_from_settings(ctx)


async def test_serve_runs_the_scheduler_with_a_platform(ctx: Context):
    from aiohttp.test_utils import TestServer

    from bot.context import Context as Ctx
    from bot.server import SCHEDULER_KEY
    from bot.settings import Settings

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        MicrosoftAppId="00000000-0000-0000-0000-000000000001",
        MicrosoftAppPassword="s3cret",
        MicrosoftAppTenantId="00000000-0000-0000-0000-0000000000aa",
    )
    app = build_app(Ctx(ctx.store, settings))
    sched = app[SCHEDULER_KEY]
    server = TestServer(app)
    # A Sunday evening: no slot within the grace period, so the start-up catch-up is a no-op.
    with time_machine.travel(datetime(2026, 11, 22, 20, tzinfo=UTC)):
        await server.start_server()
        try:
            assert sched.apscheduler is not None and sched.apscheduler.running
            assert sched.apscheduler.get_job("digest.weekly") is not None
        finally:
            await server.close()
    assert sched.apscheduler is None


def test_messenger_factory_builds_the_configured_platform(ctx: Context):
    from bot.channels import NoMessenger, messenger_from_settings
    from bot.channels.slack import SlackMessenger
    from bot.channels.teams import TeamsMessenger
    from bot.context import Context as Ctx
    from bot.settings import Settings

    slack = Settings(_env_file=None, SLACK_BOT_TOKEN="xoxb-test")  # type: ignore[call-arg]
    app_id = "00000000-0000-0000-0000-000000000001"
    teams = Settings(  # type: ignore[call-arg]
        _env_file=None,
        MicrosoftAppId=app_id,
        MicrosoftAppPassword="s3cret",
        MicrosoftAppTenantId="00000000-0000-0000-0000-0000000000aa",
    )
    assert isinstance(messenger_from_settings(Ctx(ctx.store, slack)), SlackMessenger)
    assert isinstance(messenger_from_settings(Ctx(ctx.store, teams)), TeamsMessenger)
    # Settings that cannot work are reported as such, not as a traceback.
    broken = Settings(  # type: ignore[call-arg]
        _env_file=None,
        MicrosoftAppId=app_id,
        MicrosoftAppTenantId="00000000-0000-0000-0000-0000000000aa",
    )
    with pytest.raises(NoMessenger, match="MicrosoftAppPassword"):
        messenger_from_settings(Ctx(ctx.store, broken))


def test_the_scheduler_sends_through_the_mounted_slack_channel(ctx: Context):
    from bot.channels.slack import SLACK_CHANNEL
    from bot.context import Context as Ctx
    from bot.server import SCHEDULER_KEY
    from bot.settings import Settings

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, SLACK_BOT_TOKEN="xoxb-test", SLACK_SIGNING_SECRET="secret"
    )
    app = build_app(Ctx(ctx.store, settings))
    assert app[SCHEDULER_KEY].messenger is app[SLACK_CHANNEL].messenger
