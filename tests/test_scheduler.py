"""The scheduler: firm-time-zone crons across DST, exactly once across replicas, catch-up."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlmodel import select

from bot import jobs
from bot.context import Context
from bot.scheduler import (
    Job,
    JobRunContext,
    Scheduler,
    catch_up,
    latest_fire_time,
    next_fire_times,
    run_due,
)
from bot.settings import Settings
from bot.store import Store
from bot.store.models import DigestIssue, JobRun
from tests.conftest import RecordingMessenger, frozen_clock, load_sample

pytestmark = pytest.mark.postgres  # also on PostgreSQL under -m slow

LONDON = ZoneInfo("Europe/London")
UTC_ZONE = ZoneInfo("UTC")


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC_ZONE)  # type: ignore[misc]


# -- cron in the firm's time zone -------------------------------------------------------------


def test_weekly_digest_keeps_9am_london_across_the_spring_change():
    # Clocks go forward on Sunday 29 March 2026: 09:00 London is 09:00 UTC, then 08:00 UTC.
    times = next_fire_times("0 9 * * mon", LONDON, _utc(2026, 3, 20), 3)
    assert times == [_utc(2026, 3, 23, 9), _utc(2026, 3, 30, 8), _utc(2026, 4, 6, 8)]
    assert all(t.astimezone(LONDON).hour == 9 for t in times)


def test_weekly_digest_keeps_9am_london_across_the_autumn_change():
    # Clocks go back on Sunday 25 October 2026.
    times = next_fire_times("0 9 * * mon", LONDON, _utc(2026, 10, 17), 3)
    assert times == [_utc(2026, 10, 19, 8), _utc(2026, 10, 26, 9), _utc(2026, 11, 2, 9)]


def test_a_job_in_the_repeated_hour_runs_once_that_night():
    # 01:30 happens twice on 25 October (BST then GMT): one slot, the first.
    times = next_fire_times("30 1 * * *", LONDON, _utc(2026, 10, 24), 3)
    assert times == [
        _utc(2026, 10, 24, 0, 30),
        _utc(2026, 10, 25, 0, 30),
        _utc(2026, 10, 26, 1, 30),
    ]
    # Seen from the second 01:30, the latest slot is still the first one.
    assert latest_fire_time(
        "30 1 * * *", LONDON, _utc(2026, 10, 25, 1, 45), timedelta(hours=6)
    ) == (_utc(2026, 10, 25, 0, 30))


def test_a_job_in_the_skipped_hour_still_runs_that_night():
    # 01:30 does not exist on 29 March; the job runs once, an hour later in wall-clock terms.
    times = next_fire_times("30 1 * * *", LONDON, _utc(2026, 3, 28), 3)
    assert len({t.astimezone(LONDON).date() for t in times}) == 3


def test_the_jobs_list_holds_the_built_in_jobs(settings: Settings):
    names = [job.name for job in jobs.JOBS]
    assert {"digest.weekly", "digest.personal", "nudges.daily"} <= set(names)
    assert len(names) == len(set(names))  # a name keys the exactly-once claim
    assert jobs.WEEKLY_DIGEST.crontab(settings) == settings.digest_cron


async def test_apscheduler_is_configured_deliberately(ctx: Context):
    scheduler = Scheduler(ctx, RecordingMessenger(), jobs.JOBS)
    aps = scheduler.start()
    try:
        digest_job = aps.get_job("digest.weekly")
        assert digest_job.misfire_grace_time == int(ctx.settings.job_grace_hours * 3600)
        assert digest_job.coalesce is True
        assert str(digest_job.trigger.timezone) == ctx.settings.timezone
        assert aps.get_job("crossbot.sweep") is not None
    finally:
        scheduler.shutdown()


# -- exactly once -----------------------------------------------------------------------------


def _counting_job(calls: list[datetime], fail_times: int = 0, attempts: int = 3) -> Job:
    async def run(context: JobRunContext) -> dict[str, int]:
        calls.append(context.scheduled_for)
        if len(calls) <= fail_times:
            raise RuntimeError("platform down")
        return {"calls": len(calls)}

    return Job("test.job", "0 9 * * mon", run, attempts=attempts, needs_messenger=False)


SLOT = _utc(2026, 11, 23, 9)  # Monday 23 November 2026, 09:00 London (GMT)


async def test_a_slot_runs_once(ctx: Context):
    calls: list[datetime] = []
    job = _counting_job(calls)
    assert await run_due(ctx, job, SLOT, SLOT) == "done"
    assert await run_due(ctx, job, SLOT, SLOT + timedelta(minutes=1)) == "skipped"
    assert calls == [SLOT]
    with ctx.store.read() as session:
        [run] = session.exec(select(JobRun)).all()
    assert run.status == "done" and run.result == {"calls": 1} and run.scheduled_for == SLOT


clock = frozen_clock(SLOT)


async def _at(clock, ctx: Context, job: Job, minutes: int) -> str:
    clock.move_to(SLOT + timedelta(minutes=minutes))
    return await run_due(ctx, job, SLOT, ctx.now())


async def test_a_failed_run_is_recorded_and_retried_per_policy(ctx: Context, clock):
    calls: list[datetime] = []
    job = _counting_job(calls, fail_times=2, attempts=2)
    assert await _at(clock, ctx, job, 0) == "failed"
    with ctx.store.read() as session:
        run = session.exec(select(JobRun)).one()
    assert run.status == "failed" and "RuntimeError: platform down" in run.error
    # Not before the retry delay...
    assert await _at(clock, ctx, job, 5) == "skipped"
    # ...then once more, which fails again and uses up the attempts.
    assert await _at(clock, ctx, job, 20) == "failed"
    assert await _at(clock, ctx, job, 120) == "skipped"
    assert len(calls) == 2
    with ctx.store.read() as session:
        run = session.exec(select(JobRun)).one()
    assert run.attempts == 2 and run.status == "failed"


async def test_a_retry_succeeds(ctx: Context, clock):
    calls: list[datetime] = []
    job = _counting_job(calls, fail_times=1)
    assert await _at(clock, ctx, job, 0) == "failed"
    assert await _at(clock, ctx, job, 30) == "done"
    with ctx.store.read() as session:
        run = session.exec(select(JobRun)).one()
    assert run.status == "done" and run.attempts == 2 and run.error == ""


async def test_catch_up_after_downtime_runs_the_missed_slot_once_within_grace(ctx: Context):
    calls: list[datetime] = []
    job = _counting_job(calls)
    # The server was down at 09:00 and comes back at 11:00 (grace 6 hours).
    back = SLOT + timedelta(hours=2)
    assert await catch_up(ctx, back, jobs=[job]) == {"test.job": "done"}
    # A second replica starting, or a restart, does not run it again.
    assert await catch_up(ctx, back + timedelta(minutes=5), jobs=[job]) == {"test.job": "skipped"}
    assert calls == [SLOT]


async def test_catch_up_leaves_a_slot_older_than_the_grace_period(ctx: Context):
    calls: list[datetime] = []
    job = _counting_job(calls)
    assert await catch_up(ctx, SLOT + timedelta(hours=7), jobs=[job]) == {}
    assert calls == []
    with ctx.store.read() as session:
        assert session.exec(select(JobRun)).all() == []


async def test_catch_up_after_long_downtime_runs_only_the_latest_slot(ctx: Context):
    ctx.settings.job_grace_hours = 24 * 30
    calls: list[datetime] = []
    job = _counting_job(calls)
    await catch_up(ctx, SLOT + timedelta(days=15), jobs=[job])
    assert calls == [SLOT + timedelta(days=14)]


async def test_jobs_that_need_a_messenger_wait_for_one(ctx: Context):
    with time_machine.travel(SLOT, tick=False):
        assert await run_due(ctx, jobs.WEEKLY_DIGEST, SLOT, SLOT, None) == "no-messenger"
    with ctx.store.read() as session:
        assert session.exec(select(JobRun)).all() == []


# -- two replicas, one database -------------------------------------------------------------


@pytest.fixture
def two_replicas(database_url: str):
    first, second = load_sample(Store(database_url)), Store(database_url)
    settings = Settings(_env_file=None, CROSSBOT_DIGEST_CHANNEL="C-DIGEST")  # type: ignore[call-arg]
    yield Context(first, settings), Context(second, settings)
    first.dispose()
    second.dispose()


async def test_two_scheduler_instances_post_exactly_one_digest(two_replicas):
    one, two = two_replicas
    messengers = RecordingMessenger(), RecordingMessenger()
    with time_machine.travel(SLOT, tick=False):
        outcomes = await asyncio.gather(
            run_due(one, jobs.WEEKLY_DIGEST, SLOT, SLOT, messengers[0]),
            run_due(two, jobs.WEEKLY_DIGEST, SLOT, SLOT, messengers[1]),
        )
        # Each replica's start-up catch-up offers the slot again: nothing more is posted.
        await Scheduler(one, messengers[0], [jobs.WEEKLY_DIGEST]).sweep()
        await Scheduler(two, messengers[1], [jobs.WEEKLY_DIGEST]).sweep()
    assert sorted(outcomes) == ["done", "skipped"]
    posts = messengers[0].posts + messengers[1].posts
    # One digest in all; no referral in the weeks it charts, so no chart.
    assert [reply.kind for _, reply in posts] == ["digest"]
    assert {channel for channel, _ in posts} == {"C-DIGEST"}
    with two.store.read() as session:
        assert len(session.exec(select(DigestIssue)).all()) == 1
        [run] = session.exec(select(JobRun)).all()
    assert run.status == "done" and run.job == "digest.weekly"


async def test_two_replicas_catching_up_at_once_run_once(two_replicas):
    one, two = two_replicas
    calls: list[datetime] = []
    job = _counting_job(calls)
    back = SLOT + timedelta(hours=1)
    results = await asyncio.gather(catch_up(one, back, jobs=[job]), catch_up(two, back, jobs=[job]))
    assert sorted(r["test.job"] for r in results) == ["done", "skipped"]
    assert calls == [SLOT]


def test_grace_period_is_a_setting(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CROSSBOT_JOB_GRACE_HOURS", "2.5")
    assert Settings(_env_file=None).job_grace_hours == 2.5  # type: ignore[call-arg]


def test_two_replicas_in_threads_race_for_one_slot(two_replicas):
    """Real concurrency: two threads, two engines, one file; exactly one run."""
    import threading

    one, two = two_replicas
    calls: list[datetime] = []
    job = _counting_job(calls)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def replica(ctx: Context) -> None:
        barrier.wait()
        outcomes.append(asyncio.run(run_due(ctx, job, SLOT, SLOT)))

    threads = [threading.Thread(target=replica, args=(c,)) for c in (one, two)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["done", "skipped"]
    assert calls == [SLOT]


async def test_a_bad_cron_setting_switches_off_that_job_only(ctx: Context, caplog):
    ctx.settings.digest_cron = "every monday"
    scheduler = Scheduler(ctx, RecordingMessenger(), jobs.JOBS)
    aps = scheduler.start()
    try:
        assert aps.get_job("digest.weekly") is None and aps.get_job("nudges.daily") is not None
        assert "digest.weekly not scheduled" in caplog.text
    finally:
        scheduler.shutdown()
