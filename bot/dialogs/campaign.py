"""Cross-selling weeks in chat: campaigns, ideas, leaderboards."""

from __future__ import annotations

from bot.context import Context
from bot.messages import Reply, Turn
from bot.render import render
from bot.store.models import DialogState, Person


def command(turn: Turn, ctx: Context, me: Person, args: str) -> list[Reply]:
    return [Reply(render("not_ready", feature="campaigns"), kind="not_ready")]


def ideas_command(turn: Turn, ctx: Context, me: Person, args: str) -> list[Reply]:
    return command(turn, ctx, me, args)


def on_action(turn: Turn, ctx: Context, me: Person) -> list[Reply]:
    return command(turn, ctx, me, "")


def continue_flow(turn: Turn, ctx: Context, me: Person, state: DialogState) -> list[Reply] | None:
    return None


def on_message(turn: Turn, ctx: Context, me: Person) -> list[Reply] | None:
    return None


def idea_command(turn: Turn, ctx: Context, me: Person, args: str) -> list[Reply]:
    return command(turn, ctx, me, args)


def leaderboard_command(turn: Turn, ctx: Context, me: Person, args: str) -> list[Reply]:
    return command(turn, ctx, me, args)


def campaign_command(turn: Turn, ctx: Context, me: Person, args: str) -> list[Reply]:
    return command(turn, ctx, me, args)
