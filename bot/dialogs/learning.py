"""Learning from the firm: "Not what I needed" on an answer, and "Add as an alias of ‹card›"
in the weekly review (`bot.learning` keeps the questions and the aliases)."""

from __future__ import annotations

import re
from collections.abc import Callable

from bot import learning
from bot.context import Context
from bot.dialogs import ActionHandler, state, whodoes
from bot.messages import Button, Form, FormInput, Reply, Turn
from bot.people import admins
from bot.render import label, render
from bot.store.models import Person


def _asker_only(handler: _QuestionHandler) -> ActionHandler:
    """Feedback is the asker's own: nobody else can mark or annotate their question."""

    def guarded(turn: Turn, ctx: Context, me: Person, question: int) -> Reply:
        with ctx.store.read() as session:
            asker = learning.asked_by(session, question)
        if asker is False:
            return Reply(render("learn_gone"), kind="learn_gone", private=True)
        if asker != me.id:
            return Reply(render("learn_not_yours"), kind="learn_not_yours", private=True)
        return handler(turn, ctx, me, question)

    return _about_question(guarded)


def _about_question(handler: _QuestionHandler) -> ActionHandler:
    """A `learn.*` action names its question; a missing or stale one is "gone"."""

    def action(turn: Turn, ctx: Context, me: Person) -> list[Reply]:
        question = _question_id(turn)
        if question is None:
            return [Reply(render("learn_gone"), kind="learn_gone", private=True)]
        return [handler(turn, ctx, me, question)]

    return action


def on_message(turn: Turn, ctx: Context, me: Person) -> list[Reply] | None:
    """ "Not what I needed" typed rather than tapped, about the last who-does answer here."""
    if me.id is None or not _MISSED.match(turn.text):
        return None
    with ctx.store.read() as session:
        last = state.recall(session, me.id, turn.conversation, whodoes.FLOW).get("question")
    if not isinstance(last, int):
        return [Reply(render("learn_missed_nothing"), kind="learn_missed_nothing")]
    return [_missed(ctx, last)]


_MISSED = re.compile(
    r"^\s*(?:that(?:'|’)?s\s+|that\s+was\s+|it'?s\s+)?(?:not\s+what\s+i\s+"
    r"(?:needed|wanted|meant|was\s+looking\s+for|asked(?:\s+for)?)|wrong(?:\s+(?:answer|card))?|"
    r"not\s+(?:it|helpful|right|that\s+one))[\s!.]*$",
    re.I,
)


def _question_id(turn: Turn) -> int | None:
    try:
        return int(turn.payload.get("question"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _missed(ctx: Context, question: int) -> Reply:
    with ctx.store.write() as session:
        found = learning.mark_missed(session, question, ctx.now())
        helpers = [a.name for a in admins(session)]
    if not found:
        return Reply(render("learn_gone"), kind="learn_gone", private=True)
    return Reply(
        render("learn_thanks", helpers=helpers),
        buttons=[Button(label("say_what_i_needed"), "learn.explain", {"question": question})],
        kind="learn_thanks",
        private=True,
    )


def _explain_form(question: int) -> Reply:
    form = Form(
        label("what_did_you_need"),
        "learn.note",
        [FormInput("note", label("what_you_were_looking_for"), "textarea", required=False)],
        submit_label=label("send"),
        context={"question": question},
    )
    return Reply(render("learn_explain"), form=form, kind="learn_explain", private=True)


def _note(ctx: Context, question: int, note: str) -> Reply:
    with ctx.store.write() as session:
        found = learning.add_note(session, question, note) if note.strip() else True
    if not found:
        return Reply(render("learn_gone"), kind="learn_gone", private=True)
    return Reply(render("learn_noted", note=note.strip()), kind="learn_noted", private=True)


def _pick_form(question: int) -> Reply:
    form = Form(
        label("add_as_an_alias"),
        "learn.alias",
        [FormInput("card", label("card_its_id_title_or_an_alias"))],
        submit_label=label("add"),
        context={"question": question},
    )
    return Reply(render("learn_pick"), form=form, kind="learn_pick", private=True)


def _alias(ctx: Context, me: Person, question: int, card_id: str) -> Reply:
    catalog = ctx.catalog()
    card = whodoes.find_card(catalog, card_id)
    if card is None:
        return Reply(render("card_unknown", card_id=card_id), kind="card_unknown", private=True)
    with ctx.store.write() as session:
        if not learning.may_add_alias(session, question, catalog, me.email, me.is_admin, card):
            return Reply(
                render("learn_not_allowed", card=card.title), kind="learn_not_allowed", private=True
            )
        alias = learning.accept_alias(session, question, card.id, me.id)
    if alias is None:
        return Reply(render("learn_gone"), kind="learn_gone", private=True)
    ctx.refresh()  # the next question, in this process, searches with the new alias
    text = render("learn_alias_added", alias=alias, card=card.title, card_id=card.id)
    return Reply(text, kind="learn_alias_added")


_QuestionHandler = Callable[[Turn, Context, Person, int], Reply]

ACTIONS: dict[str, ActionHandler] = {
    "learn.missed": _asker_only(lambda turn, ctx, me, q: _missed(ctx, q)),
    "learn.explain": _asker_only(lambda turn, ctx, me, q: _explain_form(q)),
    "learn.note": _asker_only(
        lambda turn, ctx, me, q: _note(ctx, q, str(turn.payload.get("note") or ""))
    ),
    "learn.pick": _about_question(lambda turn, ctx, me, q: _pick_form(q)),
    "learn.alias": _about_question(
        lambda turn, ctx, me, q: _alias(ctx, me, q, str(turn.payload.get("card") or ""))
    ),
}
