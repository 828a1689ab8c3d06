"""The one server: Slack at `/slack/events`, Teams at `/api/messages`, `/dashboard`, `/healthz`,
the scheduler."""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

from aiohttp import web

from bot.context import Context

log = logging.getLogger(__name__)

CONTEXT_KEY: web.AppKey[Context] = web.AppKey("crossbot.context", Context)
SCHEDULER_KEY: web.AppKey[Any] = web.AppKey("crossbot.scheduler", object)


async def healthz(request: web.Request) -> web.Response:
    """200 when the database answers, else 503 with a plain reason (for load balancers)."""
    from bot import health

    result = await asyncio.to_thread(health.check, request.app[CONTEXT_KEY].store)
    return web.json_response(result.as_json(), status=200 if result.ok else 503)


def build_app(ctx: Context) -> web.Application:
    """The aiohttp application with every configured channel mounted."""
    app = web.Application(client_max_size=1024**2)
    app[CONTEXT_KEY] = ctx
    app.router.add_get("/healthz", healthz)
    from bot import dashboard

    dashboard.mount(app, ctx)
    settings = ctx.settings
    if settings.slack_signing_secret or settings.slack_app_token:
        from bot.channels import slack

        slack.mount(app, ctx)
    if settings.teams_enabled:  # no app id and no emulator mode: no endpoint at all (404)
        from bot.channels import teams

        teams.mount(app, ctx)
    _mount_scheduler(app, ctx)
    return app


def _mount_scheduler(app: web.Application, ctx: Context) -> None:
    """Run the scheduler with the server, when there is a platform to send through."""
    from bot.jobs import JOBS
    from bot.scheduler import Scheduler

    messenger = _mounted_messenger(app, ctx)
    if messenger is None:
        log.warning("no chat platform configured: the scheduler is not started")
        return
    scheduler = Scheduler(ctx, messenger, list(JOBS))
    app[SCHEDULER_KEY] = scheduler

    async def start(app: web.Application) -> None:
        # Catch up what was missed while the server was down, without delaying the start.
        scheduler.start().add_job(scheduler.sweep, id="crossbot.catch_up")

    async def stop(app: web.Application) -> None:
        scheduler.shutdown()

    app.on_startup.append(start)
    app.on_cleanup.append(stop)


def _mounted_messenger(app: web.Application, ctx: Context) -> Any:
    """The `Messenger` of a mounted platform (Slack first), reusing its channel's connection."""
    settings = ctx.settings
    if settings.slack_bot_token:
        from bot.channels import slack

        key = getattr(slack, "SLACK_CHANNEL", None)
        if key is not None and key in app:
            return app[key].messenger
    if settings.microsoft_app_id:
        from bot.channels import teams

        key = getattr(teams, "TEAMS_KEY", None)
        if key is not None and key in app:
            return app[key].messenger
    return None


def with_turn_processes(ctx: Context) -> Context:
    """`ctx` with `CROSSBOT_TURN_PROCESSES` decided for this host when it was left unset."""
    from bot import turn_processes

    if ctx.settings.turn_processes is not None:
        return ctx
    count = turn_processes.for_host(ctx.store.url, None)
    log.info("Slack turns run in %d worker process(es) beside the receiver", count)
    settings = ctx.settings.model_copy(update={"turn_processes": count})
    return Context(
        ctx.store, settings, now=ctx.now, content_check_seconds=ctx.content_check_seconds
    )


def serve(ctx: Context, port: int | None = None, host: str | None = None) -> None:
    """Run the server until interrupted."""
    from bot.dashboard import RedactingAccessLogger

    # Turns run in threads beside the event loop: a shorter slice means an acknowledgement
    # waits less for the GIL (docs/performance.md).
    sys.setswitchinterval(ctx.settings.switch_interval_ms / 1000)
    ctx = with_turn_processes(ctx)
    web.run_app(
        build_app(ctx),
        host=host or ctx.settings.host,
        port=port or ctx.settings.port,
        print=None,
        access_log_class=RedactingAccessLogger,  # sign-in links hold tokens
    )
