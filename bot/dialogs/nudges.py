"""Nudges in conversation: their buttons, `/crossbot nudges off|on`, and the first welcome."""

from __future__ import annotations

from collections.abc import Callable
from weakref import WeakKeyDictionary

from sqlmodel import Session

from bot import nudges
from bot.context import Context
from bot.dialogs import ActionHandler, CommandHandler
from bot.messages import Button, Reply, Turn
from bot.people import admins
from bot.render import label, render
from bot.store import Store
from bot.store.models import Person

Answer = Callable[[], list[Reply]]
_ON = frozenset({"on", "yes", "start", "resume"})
_OFF = frozenset({"off", "no", "stop", "mute", "pause"})
# People welcomed already, per store in this process: saves a write on every later turn.
_WELCOMED: WeakKeyDictionary[Store, set[str]] = WeakKeyDictionary()


def command(turn: Turn, ctx: Context, me: Person, args: str) -> list[Reply]:
    """`/crossbot nudges`, `... on`, `... off`."""
    word = args.strip().lower()
    if word in _ON or word in _OFF:
        return [_set(ctx, me, off=word in _OFF)]
    assert me.id is not None
    with ctx.store.read() as session:
        off = nudges.is_off(session, me.id)
    return [_status(off, unknown=word)]


def on_off(turn: Turn, ctx: Context, me: Person) -> list[Reply]:
    return [_set(ctx, me, off=turn.action == "nudge.off")]


def on_still_going(turn: Turn, ctx: Context, me: Person) -> list[Reply]:
    return [_still_going(turn, ctx, me)]


def on_snooze(turn: Turn, ctx: Context, me: Person) -> list[Reply]:
    return [_feedback(turn, ctx, me, "snoozed")]


def on_not_relevant(turn: Turn, ctx: Context, me: Person) -> list[Reply]:
    return [_feedback(turn, ctx, me, "not_relevant")]


def welcome_first_contact(turn: Turn, ctx: Context, answer: Answer) -> list[Reply]:
    """The hook around routing: the first time someone talks to Crossbot, a tour before
    `answer`'s replies. Its reads and words come first and its one insert last, so the
    turn's write transaction never waits on the answer being worked out."""
    welcomed = _WELCOMED.setdefault(ctx.store, set())
    if not ctx.settings.nudge_welcome or not turn.person or turn.person in welcomed:
        return answer()
    welcome = None
    with ctx.store.read() as session:  # the speaker (for the answer too) and the check in one
        me = ctx.person(turn.person, session)
        if me is None or not me.active or me.id is None:
            me = None  # not theirs to welcome: the answer says so
        else:
            already, has_card = nudges.welcome_check(session, me.id, me.team)
            welcome = None if already else _welcome(session, me, has_card)
    if me is None:
        return answer()
    replies = answer()
    if welcome is not None:
        with ctx.store.write(savepoint=False) as session:  # one insert, conflict settled
            if not nudges.welcome_once(session, me, ctx.now()):
                welcome = None  # another replica welcomed them a moment ago
    welcomed.add(turn.person)
    return ([welcome] if welcome is not None else []) + replies


def _welcome(session: Session, me: Person, has_card: bool) -> Reply:
    helpers = [a.name for a in admins(session)] if not has_card else []
    text = render("welcome", name=me.first_name, team=me.team, invite=not has_card, admins=helpers)
    return Reply(text, kind="welcome")


def _set(ctx: Context, me: Person, off: bool) -> Reply:
    assert me.id is not None
    with ctx.store.write() as session:
        nudges.set_off(session, me.id, off)
    return Reply(render("nudges_opt", off=off, changed=True), kind="nudges_opt")


def _status(off: bool, unknown: str = "") -> Reply:
    button = (
        Button(label("turn_nudges_on"), "nudge.on", style="primary")
        if off
        else Button(label("stop_nudges"), "nudge.off")
    )
    return Reply(
        render("nudges_opt", off=off, changed=False, unknown=unknown),
        buttons=[button],
        kind="nudges_opt",
    )


def _feedback(turn: Turn, ctx: Context, me: Person, what: str) -> Reply:
    nudge_id = _int(turn.payload.get("nudge"))
    with ctx.store.write() as session:
        ok = nudge_id is not None and nudges.feedback(session, nudge_id, me, what, ctx.now())
    if not ok:
        return Reply(render("nudge_not_yours"), kind="nudge_not_yours")
    template = "nudge_snoozed" if what == "snoozed" else "nudge_not_relevant"
    return Reply(render(template), kind=template)


def _still_going(turn: Turn, ctx: Context, me: Person) -> Reply:
    referral_id = _int(turn.payload.get("referral"))
    with ctx.store.write() as session:
        ok = referral_id is not None and nudges.still_going(session, referral_id, me, ctx.now())
    return Reply(render("nudge_still_going", ok=ok), kind="nudge_still_going")


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


COMMANDS: dict[str, CommandHandler] = {"nudges": command}
ACTIONS: dict[str, ActionHandler] = {
    "nudge.on": on_off,
    "nudge.off": on_off,
    "nudge.still_going": on_still_going,
    "nudge.snooze": on_snooze,
    "nudge.not_relevant": on_not_relevant,
}
