"""The brain: a `Turn` in, `Reply`s out. The one router.

Every way of talking to Crossbot lands here: slash commands (`/whodoes tax`), the same
commands typed as text (`whodoes tax`, for Teams and the terminal), button presses and form
submissions (`turn.action`), a flow in progress (dialogue state in the database), and plain
sentences. The tables below decide which handler in `bot.dialogs` answers.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from sqlmodel import Session

from bot.context import Context
from bot.dialogs import (
    ActionHandler,
    CommandHandler,
    campaign,
    choices,
    core,
    dashboard,
    digest,
    home,
    learning,
    merge,
    nudges,
    referral,
    state,
    story,
    whodoes,
)
from bot.inbound import clean, forged_id
from bot.logs import log_failure
from bot.messages import Reply, Turn
from bot.render import render
from bot.store.models import DialogState, Person

__all__ = ["Context", "choices_for", "handle", "MAX_MESSAGE_CHARS"]

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 4000

FlowHandler = Callable[[Turn, Context, Person, DialogState], list[Reply] | None]
MessageHandler = Callable[[Turn, Context, Person], list[Reply] | None]
ChoiceSource = Callable[[Context, str], list[tuple[str, str]]]

# Every feature's commands and buttons, keyed by the full id (`"referral.consent_go"`);
# an id claimed twice stops the import.
COMMANDS: dict[str, CommandHandler] = merge(
    core.COMMANDS,
    whodoes.COMMANDS,
    referral.COMMANDS,
    story.COMMANDS,
    campaign.COMMANDS,
    digest.COMMANDS,
    dashboard.COMMANDS,
    nudges.COMMANDS,
)
ACTIONS: dict[str, ActionHandler] = merge(
    core.ACTIONS,
    whodoes.ACTIONS,
    referral.ACTIONS,
    story.ACTIONS,
    campaign.ACTIONS,
    digest.ACTIONS,
    home.ACTIONS,
    learning.ACTIONS,
    nudges.ACTIONS,
)
# `/crossbot <word> ...` reaches the same table; these words are its own.
CROSSBOT_COMMAND = "crossbot"
UNKNOWN = "?"

# A flow in progress (dialogue state, by its `flow`) gets the next plain sentence first.
FLOWS: dict[str, FlowHandler] = {
    "referral": referral.continue_flow,
    "whodoes": whodoes.continue_flow,
}

# Plain sentences are offered to these in order; the first that answers wins.
MESSAGE_HANDLERS: list[MessageHandler] = [
    core.on_message,
    referral.on_message,
    campaign.on_message,
    learning.on_message,
    whodoes.on_message,
]

# Search-backed options of form fields (`FormInput.choices`), loaded as the person types.
CHOICES: dict[str, ChoiceSource] = {"cards": choices.cards}

_COMMAND = re.compile(r"^/?(?P<name>[a-z][a-z-]*)\b[:\s]*(?P<args>.*)$", re.IGNORECASE | re.DOTALL)
_PREFIXED = re.compile(r"^(?P<name>story|idea|refer|referral)\s*:\s*(?P<args>.+)$", re.I | re.S)


def handle(turn: Turn, ctx: Context) -> list[Reply]:
    """Answer one turn. Never raises: a failure becomes a kind apology."""
    try:
        turn = clean(turn)
        # The first time someone talks to Crossbot, a short tour comes before the answer.
        with state.turn():  # the dialogue state is read once a turn
            return nudges.welcome_first_contact(turn, ctx, lambda: _handle(turn, ctx))
    except Exception as exc:
        log_failure(log, "turn failed", exc, platform=turn.platform, action=turn.action)
        return [Reply(render("error"), kind="error")]


def choices_for(source: str, query: str, ctx: Context) -> list[tuple[str, str]]:
    """(value, label) options of a search-backed form field matching what was typed so far."""
    found = CHOICES.get(source)
    return found(ctx, query) if found else []


def _handle(turn: Turn, ctx: Context) -> list[Reply]:
    text = (turn.text or "").strip()
    if len(text) > MAX_MESSAGE_CHARS:
        return [Reply(render("too_long", size=len(text), limit=MAX_MESSAGE_CHARS), kind="too_long")]
    command = _command(text) if text and not turn.action else None
    # Only a plain sentence can continue a flow, so only then is the state read: in the
    # same read as the speaker (when they are not cached), one transaction instead of two.
    plain = bool(text) and not turn.action and command is None
    with ctx.store.read() as session:  # no connection is taken unless a query runs
        me = ctx.person(turn.person, session) if turn.person else None
        if me is None or not me.active:
            return [Reply(render("unknown_person", email=turn.person), kind="unknown_person")]
        pending = _pending(session, me, turn.conversation) if plain else None
    turn.text = text
    if turn.action:
        return _route_action(turn, ctx, me)
    if not text:
        return [Reply(render("empty_message"), kind="empty_message")]
    if command is not None:
        name, args = command
        if name not in COMMANDS:
            return core.unknown_command(turn, ctx, me, args)
        return COMMANDS[name](turn, ctx, me, args)
    if pending is not None and pending.flow in FLOWS:
        replies = FLOWS[pending.flow](turn, ctx, me, pending)
        if replies is not None:
            return replies
    for handler in MESSAGE_HANDLERS:
        answer = handler(turn, ctx, me)
        if answer is not None:
            return answer
    return core.fallback(turn, ctx, me)


def _pending(session: Session, me: Person, conversation: str) -> DialogState | None:
    return None if me.id is None else state.load_turn(session, me.id, conversation)


def _route_action(turn: Turn, ctx: Context, me: Person) -> list[Reply]:
    if forged_id(turn.payload):
        return [Reply(render("not_found"), kind="not_found")]
    handler = ACTIONS.get(turn.action or "")
    if handler is None:
        return [Reply(render("unknown_action"), kind="unknown_action")]
    return handler(turn, ctx, me)


def _command(text: str) -> tuple[str, str] | None:
    """`/whodoes tax`, `whodoes tax`, `/crossbot help`, `story: ...` → (command, arguments)."""
    prefixed = _PREFIXED.match(text)
    if prefixed:
        name = prefixed["name"].lower()
        return ("refer" if name == "referral" else name), prefixed["args"].strip()
    match = _COMMAND.match(text)
    if not match:
        return None
    name, args = match["name"].lower(), match["args"].strip()
    slash = text.startswith("/")
    if name == CROSSBOT_COMMAND:
        if not args:
            return "help", ""
        sub = _COMMAND.match(args)
        sub_name = sub["name"].lower() if sub else ""
        return (sub_name, sub["args"].strip()) if sub and sub_name in COMMANDS else (UNKNOWN, args)
    if name not in COMMANDS:
        return (UNKNOWN, text) if slash else None
    # A bare word such as "ideas" or "referrals" is a command; "help me find tax" is a sentence.
    if not slash and args and name in core.WORDS_THAT_START_SENTENCES:
        return None
    return name, args
