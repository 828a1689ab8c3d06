"""The personal weekly digest: opting in and out."""

from __future__ import annotations

from bot.context import Context
from bot.messages import Reply, Turn
from bot.render import render
from bot.store.models import Person


def command(turn: Turn, ctx: Context, me: Person, args: str) -> list[Reply]:
    return [Reply(render("not_ready", feature="the digest"), kind="not_ready")]


def on_action(turn: Turn, ctx: Context, me: Person) -> list[Reply]:
    return command(turn, ctx, me, "")
