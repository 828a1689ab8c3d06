"""Scheduled work that runs exactly once, across replicas and restarts.

Every job is a cron expression in the firm's time zone and an async function. APScheduler
(3.x, `AsyncIOScheduler`) only says *when*; whether a run happens is decided here, in the
database: a run first claims its slot (job name + scheduled time, unique in `JobRun`) in a
transaction, and a replica that loses the race does nothing. The same claim makes catch-up
after downtime safe: on start every job's latest slot within the grace period is offered
again, and only a slot nobody has claimed (or one that failed and has attempts left) runs.

The jobs themselves are the `JOBS` list in `bot.jobs`, which the server hands to `Scheduler`:
this module never imports the features it runs. The functions below (`claim`, `run_due`,
`catch_up`, `next_fire_times`) take the time and the jobs as arguments, so tests drive them
without APScheduler's clock.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot.logs import log_failure
from bot.messages import Messenger
from bot.store.models import JobRun

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from bot.context import Context

log = logging.getLogger(__name__)

# How often failed runs are looked at again (and missed slots, should a tick be lost).
SWEEP_MINUTES = 10
# A run still "running" after this long died with its process; it may be retried.
STALE_RUN = timedelta(hours=2)
ERROR_CHARS = 500


@dataclass(frozen=True)
class JobRunContext:
    """What a job is given: the process context, the outbound port and its slot."""

    ctx: Context
    messenger: Messenger | None
    scheduled_for: datetime
    now: datetime


JobFunction = Callable[[JobRunContext], Awaitable[dict[str, Any] | None]]


@dataclass(frozen=True)
class Job:
    """A scheduled job and its retry policy.

    `cron` is a crontab expression read in the firm's time zone, or a callable of the
    settings returning one (so the digest follows `CROSSBOT_DIGEST_CRON`). A failed run is
    retried up to `attempts` times in all, no sooner than `retry_after` after the failure.
    `needs_messenger` jobs are skipped (not claimed) when no platform is configured.
    """

    name: str
    cron: str | Callable[[Any], str]
    run: JobFunction
    attempts: int = 3
    retry_after: timedelta = timedelta(minutes=15)
    needs_messenger: bool = True

    def crontab(self, settings: Any) -> str:
        return self.cron(settings) if callable(self.cron) else self.cron


def trigger(job: Job, settings: Any) -> CronTrigger:
    return cron_trigger(job.crontab(settings), settings.zone)


def cron_trigger(cron: str, zone: ZoneInfo) -> CronTrigger:
    return CronTrigger.from_crontab(cron, timezone=zone)


# -- time ---------------------------------------------------------------------------------


def next_fire_times(cron: str, zone: ZoneInfo, after: datetime, count: int) -> list[datetime]:
    """The next `count` fire times strictly after `after`, as aware UTC datetimes."""
    times: list[datetime] = []
    for fire in _fire_times(cron_trigger(cron, zone), zone, after - _LOOKBEHIND):
        if fire > after:
            times.append(fire)
            if len(times) == count:
                break
    return times


def fire_times_between(cron: str, zone: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    """Fire times in (start, end], aware UTC."""
    times = []
    for fire in _fire_times(cron_trigger(cron, zone), zone, start - _LOOKBEHIND):
        if fire > end:
            break
        if fire > start:
            times.append(fire)
    return times


def latest_fire_time(
    cron: str, zone: ZoneInfo, now: datetime, within: timedelta
) -> datetime | None:
    """The last fire time at or before `now`, if it is no older than `within`."""
    times = fire_times_between(cron, zone, now - within, now)
    return times[-1] if times else None


# Looking a little before a window lets a wall-clock time repeated when the clocks go back
# be recognised as the same slot as its first occurrence.
_LOOKBEHIND = timedelta(hours=3)


def _fire_times(cron: CronTrigger, zone: ZoneInfo, after: datetime) -> Iterator[datetime]:
    """Fire times after `after`, once per local wall-clock time.

    When the clocks go back, 01:30 happens twice; APScheduler's trigger yields both. A job
    scheduled for 01:30 means once that night, so the repeat is dropped.
    """
    cursor = after + timedelta(microseconds=1)
    last_fire: datetime | None = None
    last_wall: datetime | None = None
    while True:
        fire = cron.get_next_fire_time(None, cursor)
        if fire is None:
            return
        if last_fire is not None and fire <= last_fire:
            # APScheduler 3 can return the repeated hour's time again and again: step past it.
            cursor += timedelta(hours=1)
            continue
        wall = fire.astimezone(zone).replace(tzinfo=None)
        if wall != last_wall:
            yield _utc(fire)
        last_fire, last_wall = fire, wall
        cursor = fire + timedelta(microseconds=1)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo("UTC")).replace(microsecond=0)


# -- exactly once -------------------------------------------------------------------------


def claim(ctx: Context, job: Job, scheduled_for: datetime, now: datetime) -> JobRun | None:
    """Claim the slot (job, scheduled_for) for this process, or return None.

    A new slot is claimed by inserting its row (the unique constraint decides between
    replicas). A failed slot with attempts left, past its retry delay, or one stuck in
    "running" since before `STALE_RUN`, is re-claimed by a conditional UPDATE on the
    attempts it had, so two replicas retrying at once cannot both win.
    """
    scheduled_for = _utc(scheduled_for)
    try:
        with ctx.store.write() as session:
            run = session.exec(
                select(JobRun).where(JobRun.job == job.name, JobRun.scheduled_for == scheduled_for)
            ).first()
            if run is None:
                run = JobRun(job=job.name, scheduled_for=scheduled_for, started_at=now)
                session.add(run)
                session.flush()
                return run
            if not _retryable(job, run, now):
                return None
            changed = session.execute(
                update(JobRun)
                .where(col(JobRun.id) == run.id, col(JobRun.attempts) == run.attempts)
                .where(col(JobRun.status) == run.status)
                .values(
                    status="running", attempts=run.attempts + 1, started_at=now, finished_at=None
                )
            )
            if changed.rowcount != 1:  # type: ignore[attr-defined]
                return None
            session.expire(run)
            session.refresh(run)
            return run
    except IntegrityError:  # another replica inserted the slot first
        return None


def _retryable(job: Job, run: JobRun, now: datetime) -> bool:
    if run.attempts >= job.attempts:
        return False
    if run.status == "failed":
        return run.finished_at is None or now >= run.finished_at + job.retry_after
    return run.status == "running" and now >= run.started_at + STALE_RUN


def finish(ctx: Context, run_id: int, now: datetime, result: dict[str, Any] | None) -> None:
    with ctx.store.write() as session:
        run = session.get(JobRun, run_id)
        if run is not None:
            run.status, run.finished_at, run.error = "done", now, ""
            run.result = dict(result or {})
            session.add(run)


def fail(ctx: Context, run_id: int, now: datetime, exc: BaseException) -> None:
    # The error stays in the database, for admins; the log line names only its type.
    with ctx.store.write() as session:
        run = session.get(JobRun, run_id)
        if run is not None:
            run.status, run.finished_at = "failed", now
            run.error = f"{type(exc).__name__}: {exc}"[:ERROR_CHARS]
            session.add(run)


async def run_due(
    ctx: Context,
    job: Job,
    scheduled_for: datetime,
    now: datetime,
    messenger: Messenger | None = None,
) -> str:
    """Run `job` for its slot if this process wins the claim.

    Returns "done", "failed", "skipped" (claimed elsewhere, finished, or out of attempts)
    or "no-messenger" (nothing to send through; the slot is left for a replica that can).
    """
    if job.needs_messenger and messenger is None:
        return "no-messenger"
    run = claim(ctx, job, scheduled_for, now)
    if run is None or run.id is None:
        return "skipped"
    context = JobRunContext(ctx, messenger, _utc(scheduled_for), now)
    try:
        result = await job.run(context)
    except Exception as exc:
        log_failure(log, "scheduled job failed", exc, job=job.name, attempt=run.attempts)
        fail(ctx, run.id, ctx.now(), exc)
        return "failed"
    finish(ctx, run.id, ctx.now(), result)
    return "done"


async def catch_up(
    ctx: Context,
    now: datetime,
    messenger: Messenger | None = None,
    *,
    jobs: list[Job],
) -> dict[str, str]:
    """Offer every job's latest slot within the grace period; return what each did.

    Only the latest slot counts: a server down for three days sends one digest, not three.
    A slot older than the grace period is left alone (news that late is noise).
    """
    grace = grace_period(ctx)
    outcomes: dict[str, str] = {}
    for job in jobs:
        slot = latest_fire_time(job.crontab(ctx.settings), ctx.settings.zone, now, grace)
        if slot is not None:
            outcomes[job.name] = await run_due(ctx, job, slot, now, messenger)
    return outcomes


def grace_period(ctx: Context) -> timedelta:
    return timedelta(hours=float(ctx.settings.job_grace_hours))


def recent_runs(ctx: Context, limit: int = 20) -> list[JobRun]:
    with ctx.store.read() as session:
        return list(
            session.exec(select(JobRun).order_by(col(JobRun.scheduled_for).desc()).limit(limit))
        )


# -- APScheduler --------------------------------------------------------------------------


@dataclass
class Scheduler:
    """APScheduler wired to the exactly-once functions above, running `jobs` (`bot.jobs.JOBS`)."""

    ctx: Context
    messenger: Messenger | None
    jobs: list[Job]
    apscheduler: AsyncIOScheduler | None = None

    def start(self) -> AsyncIOScheduler:
        """Add one cron job per job plus the retry sweep, and start."""
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        settings = self.ctx.settings
        self.jobs = list(self.jobs)
        grace = int(grace_period(self.ctx).total_seconds())
        # misfire_grace_time: APScheduler's default of 1 s would drop a run delayed by a busy
        # event loop; ours matches the catch-up grace. coalesce: several missed fire times
        # make one run. The slot claim in the database is what makes it exactly once.
        scheduler = AsyncIOScheduler(
            timezone=settings.zone,
            job_defaults={"misfire_grace_time": grace, "coalesce": True, "max_instances": 1},
        )
        for job in list(self.jobs):
            try:
                cron = trigger(job, settings)
            except ValueError as exc:  # a bad cron setting: that job is off, the rest run
                log.error(
                    "job %s not scheduled: bad cron %r (%s)", job.name, job.crontab(settings), exc
                )
                self.jobs.remove(job)
                continue
            scheduler.add_job(self._fire, cron, args=[job], id=job.name, name=job.name)
        scheduler.add_job(self.sweep, "interval", minutes=SWEEP_MINUTES, id="crossbot.sweep")
        scheduler.start()
        self.apscheduler = scheduler
        return scheduler

    async def _fire(self, job: Job) -> None:
        now = self.ctx.now()
        slot = latest_fire_time(
            job.crontab(self.ctx.settings), self.ctx.settings.zone, now, grace_period(self.ctx)
        )
        if slot is not None:
            await run_due(self.ctx, job, slot, now, self.messenger)

    async def sweep(self) -> dict[str, str]:
        """Catch up missed slots and retry failed ones (run at start and every few minutes)."""
        try:
            return await catch_up(self.ctx, self.ctx.now(), self.messenger, jobs=self.jobs)
        except Exception as exc:  # a database hiccup must not kill the scheduler
            log_failure(log, "scheduler sweep failed", exc)
            return {}

    def shutdown(self) -> None:
        if self.apscheduler is not None and self.apscheduler.running:
            self.apscheduler.shutdown(wait=False)
        self.apscheduler = None
