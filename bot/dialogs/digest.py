"""The personal weekly digest: opting in and out (`/crossbot digest on|off`)."""

from __future__ import annotations

from bot.context import Context
from bot.dialogs import ActionHandler, CommandHandler
from bot.messages import Button, Reply, Turn
from bot.render import label, render
from bot.store.models import Person

_ON = frozenset({"on", "yes", "subscribe", "start", "opt-in", "in"})
_OFF = frozenset({"off", "no", "unsubscribe", "stop", "opt-out", "out"})


def command(turn: Turn, ctx: Context, me: Person, args: str) -> list[Reply]:
    word = args.strip().lower()
    if word in _ON:
        return [_set(ctx, me, True)]
    if word in _OFF:
        return [_set(ctx, me, False)]
    return [_status(me, unknown=word)]


def on_digest_on(turn: Turn, ctx: Context, me: Person) -> list[Reply]:
    return [_set(ctx, me, True)]


def on_digest_off(turn: Turn, ctx: Context, me: Person) -> list[Reply]:
    return [_set(ctx, me, False)]


def _set(ctx: Context, me: Person, opted_in: bool) -> Reply:
    with ctx.store.write() as session:
        person = session.get(Person, me.id)
        if person is not None:
            person.digest_opt_in = opted_in
            session.add(person)
    me.digest_opt_in = opted_in
    return Reply(render("digest_opt", opted_in=opted_in, changed=True), kind="digest_opt")


def _status(me: Person, unknown: str = "") -> Reply:
    button = (
        Button(label("stop_my_digest"), "digest.off")
        if me.digest_opt_in
        else Button(label("send_me_my_digest"), "digest.on", style="primary")
    )
    return Reply(
        render("digest_opt", opted_in=me.digest_opt_in, changed=False, unknown=unknown),
        buttons=[button],
        kind="digest_opt",
    )


COMMANDS: dict[str, CommandHandler] = {"digest": command}
ACTIONS: dict[str, ActionHandler] = {"digest.on": on_digest_on, "digest.off": on_digest_off}
