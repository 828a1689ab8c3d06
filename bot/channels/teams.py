"""Microsoft Teams through the Bot Framework (mounted at `/api/messages`)."""

from __future__ import annotations

from aiohttp import web

from bot.context import Context


def mount(app: web.Application, ctx: Context) -> None:
    """Add the Bot Framework endpoint to the server."""
