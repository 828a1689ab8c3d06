"""Greetings, help, cancelling a flow, and the friendly fallback."""

from __future__ import annotations

import re

from bot.context import Context
from bot.dialogs import ActionHandler, CommandHandler, state
from bot.messages import Button, Reply, Turn
from bot.people import admins
from bot.render import label, render
from bot.store.models import Person

# Typed without a slash, these words begin ordinary sentences more often than commands.
WORDS_THAT_START_SENTENCES = frozenset({"help", "cancel"})

_GREETING = re.compile(
    r"^(hi|hello|hey|hiya|morning|good (morning|afternoon|evening)|yo|howdy)\b[\s!.,]*\w*[\s!.]*$",
    re.I,
)
_HELP = re.compile(
    r"^(help|\?|what can you do|how does this work|what do you do|commands|menu)\b", re.I
)
_THANKS = re.compile(r"^(thanks|thank you|cheers|ta|great|perfect|brilliant)\b[\s!.]*$", re.I)
_CANCEL = re.compile(r"^(cancel|stop|never ?mind|forget it|quit)[\s!.]*$", re.I)


def help_command(turn: Turn, ctx: Context, me: Person, args: str) -> list[Reply]:
    return [_help(me)]


def unknown_command(turn: Turn, ctx: Context, me: Person, args: str) -> list[Reply]:
    word = args.split()[0] if args.split() else ""
    return [Reply(render("unknown_command", command=word), kind="unknown_command"), _help(me)]


def cancel_command(turn: Turn, ctx: Context, me: Person, args: str) -> list[Reply]:
    assert me.id is not None
    with ctx.store.write() as session:
        had_flow = state.load(session, me.id, turn.conversation) is not None
        state.clear(session, me.id, turn.conversation)
    return [Reply(render("cancelled", had_flow=had_flow), kind="cancelled")]


def on_help(turn: Turn, ctx: Context, me: Person) -> list[Reply]:
    return [_help(me)]


def on_message(turn: Turn, ctx: Context, me: Person) -> list[Reply] | None:
    """Small talk: greetings, help, thanks, cancel."""
    text = turn.text
    if _CANCEL.match(text):
        return cancel_command(turn, ctx, me, "")
    if _GREETING.match(text) or _HELP.match(text):
        return [_help(me, greeting=bool(_GREETING.match(text)))]
    if _THANKS.match(text):
        return [Reply(render("thanks", name=me.first_name), kind="thanks")]
    return None


def fallback(turn: Turn, ctx: Context, me: Person) -> list[Reply]:
    with ctx.store.read() as session:
        helpers = [a.name for a in admins(session)]
    return [Reply(render("fallback", admins=helpers), kind="fallback")]


def _help(me: Person, greeting: bool = False) -> Reply:
    return Reply(
        render("help", name=me.first_name, greeting=greeting, role=me.role),
        buttons=[
            Button(label("log_a_referral"), "referral.form"),
            Button(label("my_referrals"), "referral.mine"),
            Button(label("leaderboard"), "leaderboard.show"),
        ],
        kind="help",
    )


COMMANDS: dict[str, CommandHandler] = {"help": help_command, "cancel": cancel_command}
ACTIONS: dict[str, ActionHandler] = {"help.show": on_help}
