"""The one server: Slack at `/slack/events`, Teams at `/api/messages`, `/healthz`, the scheduler."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.context import Context

log = logging.getLogger(__name__)

CONTEXT_KEY: web.AppKey[Context] = web.AppKey("crossbot.context", Context)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def build_app(ctx: Context) -> web.Application:
    """The aiohttp application with every configured channel mounted."""
    app = web.Application(client_max_size=1024**2)
    app[CONTEXT_KEY] = ctx
    app.router.add_get("/healthz", healthz)
    settings = ctx.settings
    if settings.slack_signing_secret or settings.slack_app_token:
        from bot.channels import slack

        slack.mount(app, ctx)
    from bot.channels import teams

    teams.mount(app, ctx)
    return app


def serve(ctx: Context, port: int | None = None) -> None:
    """Run the server until interrupted."""
    web.run_app(build_app(ctx), port=port or ctx.settings.port, print=None)
