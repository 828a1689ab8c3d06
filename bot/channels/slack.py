"""Slack through Bolt (mounted at `/slack/events`, or Socket Mode)."""

from __future__ import annotations

from aiohttp import web

from bot.context import Context


def mount(app: web.Application, ctx: Context) -> None:
    """Add the Slack endpoint to the server."""
