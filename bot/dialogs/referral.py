"""Referrals in chat: logging, slot filling, confirmation, lifecycle buttons, my referrals.

A referral starts from a sentence ("I've introduced Acme to Priya…"), `/refer …`, or the
form. What the text leaves out is asked one question at a time (the draft lives in the
dialogue state, flow "referral"); nothing is saved until the referrer confirms. Buttons
in DMs move a referral on; so does saying so ("Acme went well, we won it, £18k").
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import uuid4

from sqlmodel import Session

from bot import referrals
from bot.catalog import Card, Catalog
from bot.context import Context
from bot.dialogs import ActionHandler, CommandHandler, core, state
from bot.dialogs.referral_draft import Draft
from bot.messages import Button, Fact, Form, FormInput, Reply, Turn
from bot.money import Money
from bot.referrals import MoveTo, ReferralError
from bot.render import label, money, render
from bot.store.models import Client, DialogState, Person, Referral
from bot.understand import (
    Directory,
    Reading,
    ReferralDraft,
    looks_like_referral,
    parse_amount,
    parse_referral,
    parse_status_update,
    read_referral,
    resolve_client,
)

FLOW = "referral"
# "log a referral", "I want to log a referral": the start of one, details to follow.
_BARE_START = re.compile(
    r"^\s*(i'?d like to |i want to |can i |let'?s |please )?(log|record|add|make|new|start)"
    r"\s+(a\s+|new\s+|a\s+new\s+)?referr?al\b[\s.!:]*(please)?[\s.!]*$",
    re.I,
)
_MINE = re.compile(r"^\s*(show\s+)?(my|our)\s+referrals?\b[\s?!.]*$", re.I)
_YES = re.compile(r"^\s*(y|yes|yep|yeah|ok|okay|confirm|sure|go|do it|save|update( it)?)\b", re.I)
_NO = re.compile(r"^\s*(n|no|nope|cancel|stop)\b", re.I)
_EDIT = re.compile(r"^\s*(edit|change|fix)\b", re.I)
_NONE = re.compile(r"^\s*(none|no|nothing|general|skip|not sure|don'?t know|-)\b", re.I)
# Words that end a flow; the core handler says "cancelled".
_QUIT = re.compile(r"^(cancel|stop|never ?mind|forget it|quit)[\s!.]*$", re.I)
_QUESTION = re.compile(r"\?\s*$|^\s*(who|what|which|where|how|why|when|does|do|is|are)\b", re.I)
_NUMBER = re.compile(r"^\s*(show\s+(me\s+)?)?(referral\s+)?#(?P<id>\d{1,9})[\s?!.]*$", re.I)
_WITHDRAW = re.compile(
    r"^\s*(please\s+|can you\s+|i'?d like to\s+|i want to\s+)?(withdraw|retract)\s+"
    r"(?P<rest>.*?)[\s.!]*$",
    re.I,
)
_GO_AHEAD = re.compile(
    r"^\s*(ok(ay)?[,\s]+|yes[,\s]+|that'?s fine[,\s]+)?(please\s+)?"
    r"(go ahead|fine by me|(you|they|he|she) (can|may) (go ahead|proceed)|proceed|"
    r"(i'?m\s+)?happy for (you|them|him|her) to (go ahead|proceed|contact (them|the client))|"
    r"give the go-?ahead)"
    r"(?P<rest>.*?)[\s.!]*$",
    re.I,
)
_THE_REFERRAL = re.compile(r"\b(the|my|our|referrals?|of|for|with|to|on)\b", re.I)
_MAX_ITEMS_SHOWN = 6
# Received referrals still being worked on: listed with their buttons.
_IN_HAND = frozenset({"accepted", "meeting", "proposal", "parked"})


# -- entry points (the router's table points here) -----------------------------------------


def _command(turn: Turn, ctx: Context, me: Person, args: str) -> list[Reply]:
    """`/refer <client> to <person|team> [for <service>] [value] [note]`; bare: the form."""
    if not args.strip():
        return [_form_reply(ctx, me, Draft())]
    return _start(turn, ctx, me, f"/refer {args.strip()}")


def _list_command(turn: Turn, ctx: Context, me: Person, args: str) -> list[Reply]:
    """`/referrals`: what I sent, what I received, and what waits on me, with buttons."""
    with ctx.store.read() as session:
        mine = referrals.mine(session, me)
        waiting = {v.id for v in mine.waiting}
        in_hand = [v for v in mine.received if v.status in _IN_HAND and v.id not in waiting]
        shown = waiting | {v.id for v in in_hand}
        sent = [v for v in mine.sent if v.status in referrals.OPEN and v.id not in shown]
        items = (mine.waiting + in_hand + sent)[:_MAX_ITEMS_SHOWN]
        rows = {v.id: session.get(Referral, v.id) for v in items}
    replies = [
        Reply(
            render("referral_list", me=me, mine=mine),
            buttons=[Button(label("log_a_referral"), "referral.form")],
            kind="referral_list",
        )
    ]
    for item in items:
        row = rows[item.id]
        assert row is not None
        owner = item.owner.id if item.owner else None
        replies.append(
            Reply(
                render("referral_item", r=item, me=me, waiting=item.id in waiting),
                buttons=referrals.actions_for(me, row, owner),
                kind="referral_waiting_item" if item.id in waiting else "referral_open_item",
            )
        )
    return replies


def _continue_flow(
    turn: Turn, ctx: Context, me: Person, pending: DialogState
) -> list[Reply] | None:
    """An answer to the question the referral flow last asked."""
    text = turn.text
    if _QUIT.match(text):
        return None  # the core's cancel clears the flow and says so
    step = pending.step
    if step == "which":
        return _answer_which(turn, ctx, me, pending.data, text)
    draft = Draft.from_dict(pending.data)
    if step not in _YES_OR_NO_STEPS:
        restart = _restarts(text, ctx)
        if restart is not None:
            return _start(turn, ctx, me, text, restart)
        if text.rstrip().endswith("?"):
            return None  # a question of its own ("who does tax?"), not an answer
    answer = _ANSWERS.get(step)
    return answer(turn, ctx, me, draft, text) if answer else None


def _on_message(turn: Turn, ctx: Context, me: Person) -> list[Reply] | None:
    """My referrals, a referral in a sentence, or a status update in a sentence."""
    text = turn.text
    if _MINE.match(text):
        return _list_command(turn, ctx, me, "")
    number = _NUMBER.match(text)
    if number:
        return _on_show(turn, ctx, me, {"id": number["id"]})
    directory = _directory(ctx)
    withdraw = _WITHDRAW.match(text)
    if withdraw:
        return _withdraw_from_chat(turn, ctx, me, withdraw["rest"])
    go_ahead = _GO_AHEAD.match(text)
    if go_ahead:
        answer = _go_ahead_from_chat(turn, ctx, me, go_ahead["rest"])
        if answer is not None:
            return answer
    question = bool(_QUESTION.search(text))
    update = None if question else parse_status_update(text, directory)
    if update is not None and update.client and _in_hand(ctx, me, update.client, update.status):
        # "I've accepted the Acme referral" is news about one I hold, not a new referral.
        return _status_from_chat(turn, ctx, me, update.client, update.status, update)
    reading = read_referral(text, directory)  # read once, whatever this turn asks of it
    if _BARE_START.match(text) or reading.looks_like_referral():
        return _start(turn, ctx, me, text, reading)
    if update is None or not update.client:
        return None
    return _status_from_chat(turn, ctx, me, update.client, update.status, update)


def _in_hand(ctx: Context, me: Person, client_name: str, to_status: str) -> bool:
    """Whether `me` holds an open referral of this client that they may move to `to_status`."""
    with ctx.store.read() as session:
        client = referrals.client_named(session, client_name)
        if client is None or client.id is None:
            return False
        visible = referrals.visible_for_client(session, me, client.id)
        return any(referrals.can_act(me, r, to_status) for r in visible)


def _private(turn: Turn, replies: list[Reply] | None) -> list[Reply] | None:
    """In a channel, referral details go only to the speaker (ephemeral where possible)."""
    if turn.is_direct:
        return replies
    for reply in replies or []:
        if not (reply.to_person or reply.to_channel):
            reply.private = True
    return replies


def command(turn: Turn, ctx: Context, me: Person, args: str) -> list[Reply]:
    """`/refer <client> to <person|team> [for <service>] [value] [note]`; bare: the form."""
    return _private(turn, _command(turn, ctx, me, args)) or []


def list_command(turn: Turn, ctx: Context, me: Person, args: str) -> list[Reply]:
    """`/referrals`: what I sent, what I received, and what waits on me, with buttons."""
    return _private(turn, _list_command(turn, ctx, me, args)) or []


def continue_flow(turn: Turn, ctx: Context, me: Person, pending: DialogState) -> list[Reply] | None:
    """An answer to the question the referral flow last asked."""
    return _private(turn, _continue_flow(turn, ctx, me, pending))


def on_message(turn: Turn, ctx: Context, me: Person) -> list[Reply] | None:
    """My referrals, a referral in a sentence, or a status update in a sentence."""
    return _private(turn, _on_message(turn, ctx, me))


# -- starting and filling in -------------------------------------------------------------


def _directory(ctx: Context) -> Directory:
    def build(catalog: Catalog) -> Directory:
        return Directory.from_catalog(catalog, ctx.firm().currency)

    directory: Directory = ctx.cached("referral_directory", build)
    return directory


def _restarts(text: str, ctx: Context) -> Reading | None:
    """A whole new referral typed mid-flow starts over rather than answering the question:
    its reading, kept for the draft, or None."""
    if not looks_like_referral(text):
        return None
    reading = read_referral(text, _directory(ctx))
    return reading if reading.draft("").client else None


def _start(
    turn: Turn, ctx: Context, me: Person, text: str, reading: Reading | None = None
) -> list[Reply]:
    parsed = _parse(text, me, ctx, reading)
    note = parsed.note
    draft = Draft.parsed(parsed, note=note)
    return _next(turn, ctx, me, draft)


def _parse(text: str, me: Person, ctx: Context, reading: Reading | None = None) -> ReferralDraft:
    """Parse a referral; a receiver who is the speaker is kept, so `_infer` can say so."""
    reading = reading or read_referral(text, _directory(ctx))
    parsed = reading.draft(me.email)
    named = parsed.receiver or parsed.receiver_candidates or parsed.receiver_team
    # The parser passes over the speaker; asking again without a word would puzzle them.
    if not named and reading.draft("").receiver == me.email:
        parsed.receiver = me.email
    return parsed


def _next(turn: Turn, ctx: Context, me: Person, draft: Draft) -> list[Reply]:
    """Fill what can be inferred, then ask the first thing still missing, or confirm."""
    directory = _directory(ctx)
    _infer(draft, directory, me)
    if not draft.client:
        return _ask(turn, ctx, me, draft, "client", render("referral_ask_client"))
    if draft.candidates:
        people = [p for e in draft.candidates if (p := directory.person(e)) is not None]
        buttons = [
            Button(
                label("person_in_team", name=p.name, team=p.team),
                "referral.pick",
                {"email": p.email},
            )
            for p in people
        ]
        text = render("referral_choose_receiver", people=people, first=people[0].first_name)
        return _ask(turn, ctx, me, draft, "choose", text, buttons)
    options = _card_options(draft, directory)
    ask_card = not draft.card and not draft.card_asked and len(options) > 1
    if not draft.receiver and not (ask_card and draft.team):
        return _ask(turn, ctx, me, draft, "receiver", render("referral_ask_receiver", d=draft))
    if ask_card:
        buttons = [Button(c.title, "referral.card", {"card": c.id}) for c in options]
        buttons.append(Button(label("no_particular_service"), "referral.card", {"card": ""}))
        receiver = directory.person(draft.receiver) if draft.receiver else None
        text = render("referral_ask_card", cards=options, receiver=receiver, d=draft)
        return _ask(turn, ctx, me, draft, "card", text, buttons)
    return _confirm_or_duplicate(turn, ctx, me, draft)


def _infer(draft: Draft, directory: Directory, me: Person) -> None:
    """Defaults the text left open: the card's main contact, the receiver's only card."""
    draft.self_named = draft.receiver == me.email  # said so when asking again
    if draft.self_named:
        draft.receiver = None
    if draft.receiver or draft.candidates:
        options = directory.cards_owned_by(draft.receiver) if draft.receiver else []
        if not draft.card and len(options) == 1:
            draft.card = options[0].id
        return
    card = directory.card(draft.card) if draft.card else None
    if card is None and draft.team:
        team_cards = [c for c in directory.cards if c.team == draft.team and c.owners]
        card = team_cards[0] if len(team_cards) == 1 else None
        if card is not None:
            draft.card = card.id
    if card is not None and card.owners:
        contact = next((e for e in card.owners if e != me.email), None)
        draft.receiver = contact


def _card_options(draft: Draft, directory: Directory) -> list[Card]:
    if draft.receiver:
        return directory.cards_owned_by(draft.receiver)
    if draft.team:
        return [c for c in directory.cards if c.team == draft.team and c.owners]
    return []


def _ask(
    turn: Turn,
    ctx: Context,
    me: Person,
    draft: Draft,
    step: str,
    text: str,
    buttons: list[Button] | None = None,
) -> list[Reply]:
    assert me.id is not None
    with ctx.store.write() as session:
        state.save(session, me.id, turn.conversation, FLOW, step, draft.to_dict())
    return [Reply(text, buttons=buttons or [], kind=f"referral_ask_{step}")]


def _answer_client(turn: Turn, ctx: Context, me: Person, draft: Draft, text: str) -> list[Reply]:
    name, _known = resolve_client(text, _directory(ctx))
    if not name:
        return _ask(turn, ctx, me, draft, "client", render("referral_ask_client"))
    draft.client = name
    return _next(turn, ctx, me, draft)


def _answer_receiver(turn: Turn, ctx: Context, me: Person, draft: Draft, text: str) -> list[Reply]:
    found = _receiver_from(text, draft, ctx, me)
    if not found:
        again = render("referral_receiver_unknown", text=text)
        return _ask(turn, ctx, me, draft, "receiver", again)
    return _next(turn, ctx, me, draft)


def _receiver_from(
    text: str, draft: Draft, ctx: Context, me: Person, take_card: bool = True
) -> bool:
    """Read a person or team from an answer into the draft; False when none is named."""
    parsed = _parse(f"/refer {draft.client or 'them'} to {text}", me, ctx)
    if not (parsed.receiver or parsed.receiver_candidates or parsed.receiver_team):
        if not (take_card and parsed.card and not draft.card):
            return False
        draft.card = parsed.card  # a service was named: its main contact receives it
        return True
    draft.receiver, draft.candidates = parsed.receiver, list(parsed.receiver_candidates)
    draft.team = parsed.receiver_team
    if take_card and parsed.card and not draft.card:
        draft.card = parsed.card
    return True


def _answer_choice(turn: Turn, ctx: Context, me: Person, draft: Draft, text: str) -> list[Reply]:
    directory = _directory(ctx)
    people = [p for e in draft.candidates if (p := directory.person(e)) is not None]
    wanted = text.strip().casefold()
    chosen = [
        p
        for n, p in enumerate(people, 1)
        if wanted in (str(n), p.email, p.name.casefold(), p.team.casefold())
        or wanted in p.name.casefold().split()[1:]
    ]
    if len(chosen) == 1:
        return _pick(turn, ctx, me, draft, chosen[0].email)
    return _next(turn, ctx, me, draft)


def _pick(turn: Turn, ctx: Context, me: Person, draft: Draft, email: str) -> list[Reply]:
    if email not in draft.candidates:
        return _next(turn, ctx, me, draft)
    draft.receiver, draft.candidates = email, []
    return _next(turn, ctx, me, draft)


def _answer_card(turn: Turn, ctx: Context, me: Person, draft: Draft, text: str) -> list[Reply]:
    options = _card_options(draft, _directory(ctx))
    wanted = text.strip().casefold()
    if _NONE.match(text):
        return _choose_card(turn, ctx, me, draft, "")
    chosen = [
        c
        for n, c in enumerate(options, 1)
        if wanted in (str(n), c.id) or wanted in c.title.casefold()
    ]
    if len(chosen) == 1:
        return _choose_card(turn, ctx, me, draft, chosen[0].id)
    return _next(turn, ctx, me, draft)


def _choose_card(turn: Turn, ctx: Context, me: Person, draft: Draft, card_id: str) -> list[Reply]:
    directory = _directory(ctx)
    card = directory.card(card_id) if card_id else None
    draft.card, draft.card_asked = (card.id if card else None), True
    if card is not None and not draft.receiver:
        draft.receiver = next((e for e in card.owners if e != me.email), None)
    return _next(turn, ctx, me, draft)


# -- confirming --------------------------------------------------------------------------


def _confirm_or_duplicate(turn: Turn, ctx: Context, me: Person, draft: Draft) -> list[Reply]:
    """Ask to confirm the draft, or whether to update the duplicate found. The draft's rows
    are read and the question worded first; the write then looks for a duplicate (which
    decides the step) and keeps the draft for the answer."""
    assert me.id is not None
    with ctx.store.read() as session:
        rows = _look_up(ctx, me, draft, session, duplicates=False)
    question = _confirm_question(ctx, me, draft, rows)
    with ctx.store.write() as session:
        duplicate = _duplicate(ctx, me, draft, rows, session)
        if duplicate is not None:
            draft.duplicate, step = duplicate.id, "duplicate"
        else:
            draft.confirmation = uuid4().hex  # pressed twice (on any replica): saved once
            step = "confirm"
        state.save(session, me.id, turn.conversation, FLOW, step, draft.to_dict())
    if duplicate is None:
        return [question]
    text = render("referral_duplicate", r=duplicate, me=me)
    buttons = [
        Button(label("update_the_existing_one"), "referral.update", {}, "primary"),
        Button(label("cancel"), "referral.cancel", {}),
    ]
    return [Reply(text, buttons=buttons, kind="referral_ask_duplicate")]


def _confirm_question(ctx: Context, me: Person, draft: Draft, rows: _Rows) -> Reply:
    buttons = [
        Button(label("confirm"), "referral.confirm", {}, "primary"),
        Button(label("edit"), "referral.edit", {}),
        Button(label("cancel"), "referral.cancel", {}, "danger"),
    ]
    summary = _summary(ctx, me, draft, rows)
    text = render("referral_confirm", d=summary, me=me)
    return Reply(text, buttons=buttons, kind="referral_ask_confirm", facts=_facts(summary))


@dataclass
class _Rows:
    """What the database says about a draft, read together before confirming it."""

    client: Client | None = None
    owner: Person | None = None  # the client's relationship owner
    receiver: Person | None = None
    duplicate: referrals.View | None = None  # one the referrer may see, within 30 days


def _look_up(
    ctx: Context, me: Person, draft: Draft, session: Session, duplicates: bool = True
) -> _Rows:
    """The draft's client, its owner, the receiver and (with `duplicates`) any duplicate."""
    rows = _Rows()
    # One statement, not the cache of people: it rarely holds a receiver (it keeps the
    # speakers), and the receiver read with the client costs no more than the client alone.
    found = referrals.receiver_and_client(session, draft.receiver or "", draft.client or "")
    rows.receiver, rows.client, rows.owner, _title = found
    if duplicates:
        rows.duplicate = _duplicate(ctx, me, draft, rows, session)
    return rows


def _duplicate(
    ctx: Context, me: Person, draft: Draft, rows: _Rows, session: Session
) -> referrals.View | None:
    """A referral the draft repeats, that the referrer may see, within 30 days."""
    client, receiver = rows.client, rows.receiver
    if client is None or client.id is None or receiver is None or receiver.id is None:
        return None
    found = referrals.find_duplicate(
        session, client.id, receiver.id, draft.card, ctx.now(), seen_by=me
    )
    return referrals.view(session, found) if found else None


def _summary(ctx: Context, me: Person, draft: Draft, rows: _Rows) -> dict[str, Any]:
    """The draft with names resolved, for the confirmation."""
    directory = _directory(ctx)
    client, owner = rows.client, rows.owner
    receiver = directory.person(draft.receiver) if draft.receiver else None
    card = directory.card(draft.card) if draft.card else None
    receiver_id = rows.receiver.id if rows.receiver else None
    needs_consent = ctx.settings.owner_consent and referrals.needs_consent(
        owner.id if owner else None, me.id, receiver_id
    )
    return {
        "client": client.name if client else draft.client,
        "known": client is not None and not client.provisional,
        "new_client": client is None,
        "receiver": receiver,
        "card": card,
        "value": draft.value,
        "currency": draft.currency,
        "note": draft.note or "",
        "owner": owner,
        "consent": needs_consent,
    }


def _facts(summary: dict[str, Any]) -> list[Fact]:
    receiver = summary["receiver"]
    facts = [
        Fact(label("client"), summary["client"]),
        Fact(label("to"), f"{receiver.name} ({receiver.team})" if receiver else "?"),
    ]
    if summary["card"]:
        facts.append(Fact(label("service"), summary["card"].title))
    if summary["value"]:
        facts.append(Fact(label("value"), money(summary["value"], summary["currency"])))
    return facts


def _answer_confirm(
    turn: Turn, ctx: Context, me: Person, draft: Draft, text: str
) -> list[Reply] | None:
    if _EDIT.match(text):
        return _edit(turn, ctx, me, {})
    return _yes_or_no(turn, ctx, me, text, lambda: _save(turn, ctx, me, draft))


def _answer_duplicate(
    turn: Turn, ctx: Context, me: Person, draft: Draft, text: str
) -> list[Reply] | None:
    return _yes_or_no(turn, ctx, me, text, lambda: _update(turn, ctx, me, {}))


def _yes_or_no(
    turn: Turn, ctx: Context, me: Person, text: str, yes: Callable[[], list[Reply]]
) -> list[Reply] | None:
    """A typed answer to a yes/no question: no cancels the draft, yes runs `yes`."""
    if _NO.match(text):
        return _cancel(turn, ctx, me, {})
    if _YES.match(text):
        return yes()
    return None  # something else entirely: let the other handlers answer it


def _save(turn: Turn, ctx: Context, me: Person, draft: Draft | None) -> list[Reply]:
    """Save the draft; with none given (the Confirm button), the draft waiting for it.

    Worked out from a read first; the write then ends the flow and saves the referral.
    On a button the flow ends only as it was read (else it is read again inside the
    write), so of two presses, on any replica, one saves and the other finds it ended."""
    assert me.id is not None
    pressed = draft is None
    with ctx.store.read() as session:
        pending, draft, planned = _plan_save(session, ctx, me, turn, draft)
    if draft is None:  # nothing waits for Confirm (pressed twice, say): nothing to write
        return [Reply(render("referral_nothing_pending"), kind="referral_nothing_pending")]
    try:
        with ctx.store.write() as session:
            if pressed and (pending is None or not state.end_as_read(session, pending)):
                pending, draft, planned = _plan_save(session, ctx, me, turn, None)
                if pending is not None:
                    state.clear(session, me.id, turn.conversation)
            elif not pressed:
                state.clear(session, me.id, turn.conversation)
            if draft is None:
                return [Reply(render("referral_nothing_pending"), kind="referral_nothing_pending")]
            if isinstance(planned, ReferralError):
                raise planned
            outcome = referrals.apply_create(session, planned, ctx.now())
            replies = _saved(outcome)
    except ReferralError as error:
        if error.code == "duplicate" and draft is not None:
            return _confirm_or_duplicate(turn, ctx, me, draft)
        return [_error_reply(error)]
    return replies


def _plan_save(
    session: Session, ctx: Context, me: Person, turn: Turn, draft: Draft | None
) -> tuple[DialogState | None, Draft | None, referrals.Creation | ReferralError]:
    """The flow waiting for Confirm (when no draft is given), the draft, and its referral
    worked out (or why it cannot be saved)."""
    pending = None
    if draft is None:
        pending = _flow_in(session, me, turn)
        pending = pending if pending is not None and pending.step == "confirm" else None
        draft = Draft.from_dict(pending.data) if pending is not None else None
    if draft is None:
        return pending, None, ReferralError("nothing_pending")
    new, consent = draft.to_new(), ctx.settings.owner_consent
    try:
        return pending, draft, referrals.plan_create(session, me, new, ctx.now(), consent)
    except ReferralError as error:
        return pending, draft, error


def _saved(outcome: referrals.Outcome) -> list[Reply]:
    saved = outcome.current
    assert saved is not None
    mine = Reply(
        render("referral_saved", r=saved, provisional=outcome.provisional_client),
        buttons=[Button(label("my_referrals"), "referral.mine")],
        kind="referral_saved",
    )
    return [mine, *outcome.notices]


# -- buttons of the flow -----------------------------------------------------------------


def _pending(ctx: Context, me: Person, turn: Turn) -> DialogState | None:
    with ctx.store.read() as session:
        return _flow_in(session, me, turn)


def _flow_in(session: Session, me: Person, turn: Turn) -> DialogState | None:
    """This flow's state in the turn's conversation, if this flow is the one in progress."""
    assert me.id is not None
    pending = state.load(session, me.id, turn.conversation)
    return pending if pending is not None and pending.flow == FLOW else None


def _on_confirm(turn: Turn, ctx: Context, me: Person, payload: dict[str, Any]) -> list[Reply]:
    return _save(turn, ctx, me, None)


def _edit(turn: Turn, ctx: Context, me: Person, payload: dict[str, Any]) -> list[Reply]:
    pending = _pending(ctx, me, turn)
    draft = Draft.from_dict(pending.data) if pending else Draft()
    return [_form_reply(ctx, me, draft)]


def _cancel(turn: Turn, ctx: Context, me: Person, payload: dict[str, Any]) -> list[Reply]:
    return core.cancel_command(turn, ctx, me, "")  # the same as typing "cancel"


def _on_pick(turn: Turn, ctx: Context, me: Person, payload: dict[str, Any]) -> list[Reply]:
    pending = _pending(ctx, me, turn)
    if pending is None:
        return [Reply(render("referral_nothing_pending"), kind="referral_nothing_pending")]
    return _pick(turn, ctx, me, Draft.from_dict(pending.data), str(payload.get("email", "")))


def _on_card(turn: Turn, ctx: Context, me: Person, payload: dict[str, Any]) -> list[Reply]:
    pending = _pending(ctx, me, turn)
    if pending is None:
        return [Reply(render("referral_nothing_pending"), kind="referral_nothing_pending")]
    return _choose_card(
        turn, ctx, me, Draft.from_dict(pending.data), str(payload.get("card") or "")
    )


def _update(turn: Turn, ctx: Context, me: Person, payload: dict[str, Any]) -> list[Reply]:
    """ "Update the existing one": a repeat folds its value and note into the first."""
    pending = _pending(ctx, me, turn)
    draft = Draft.from_dict(pending.data) if pending else Draft()
    if draft.duplicate is None:
        return [Reply(render("referral_nothing_pending"), kind="referral_nothing_pending")]
    assert me.id is not None
    try:
        with ctx.store.write() as session:
            outcome = referrals.update_existing(
                session,
                draft.duplicate,
                me,
                ctx.now(),
                estimate=draft.estimate,
                note=draft.note or "",
            )
            state.clear(session, me.id, turn.conversation)
            updated = referrals.current_view(session, outcome)
    except ReferralError as error:
        return [_error_reply(error)]
    mine = Reply(render("referral_updated", r=updated), kind="referral_updated")
    return [mine, *outcome.notices]


# -- the form ----------------------------------------------------------------------------


def _on_form(turn: Turn, ctx: Context, me: Person, payload: dict[str, Any]) -> list[Reply]:
    """The referral form, pre-filled from a card ("Refer a client to them") or a message."""
    draft = Draft()
    if payload.get("text"):
        parsed = parse_referral(str(payload["text"]), me.email, _directory(ctx))
        draft = Draft.parsed(parsed, note=str(payload["text"]))
    if payload.get("card"):
        draft.card = str(payload["card"])
    if not draft.receiver:
        _infer(draft, _directory(ctx), me)
    return [_form_reply(ctx, me, draft)]


def _form_reply(ctx: Context, me: Person, draft: Draft) -> Reply:
    directory = _directory(ctx)
    cards = sorted(directory.cards, key=lambda c: c.title)
    value = draft.value
    inputs = [
        FormInput("client", label("client"), initial=draft.client or ""),
        FormInput(
            "receiver",
            label("refer_to_name_email_or_team"),
            initial=draft.receiver or draft.team or "",
        ),
        FormInput(
            "service",
            label("service"),
            kind="select",
            required=False,
            initial=draft.card or "",
            options=[(c.id, c.title) for c in cards],
            choices="cards",
        ),
        FormInput(
            "value",
            label("estimated_value"),
            required=False,
            initial=money(value, draft.currency) if value else "",
            placeholder=money(20_000),
        ),
        FormInput("note", label("note"), kind="textarea", required=False, initial=draft.note or ""),
    ]
    form = Form(
        label("log_a_referral"), "referral.submit", inputs, submit_label=label("log_referral")
    )
    return Reply(render("referral_form_intro"), form=form, kind="referral_form")


def _on_submit(turn: Turn, ctx: Context, me: Person, payload: dict[str, Any]) -> list[Reply]:
    """The form came back: read each field, ask what is still unclear, then save."""
    directory = _directory(ctx)
    client_text = str(payload.get("client") or "").strip()
    client, _known = resolve_client(client_text, directory) if client_text else ("", False)
    draft = Draft(
        client=client or None,
        card=_card_from(str(payload.get("service") or ""), directory),
        note=str(payload.get("note") or "").strip(),
    )
    receiver_text = str(payload.get("receiver") or "").strip()
    if receiver_text:
        # The form has its own service field: a service left empty is asked, not guessed.
        _receiver_from(receiver_text, draft, ctx, me, take_card=False)
    amount = parse_amount(str(payload.get("value") or ""), directory.currency)
    if amount is not None:
        draft.value, draft.currency = amount.value, amount.currency or directory.currency
    _infer(draft, directory, me)
    options = _card_options(draft, directory)
    complete = (
        draft.client
        and draft.receiver
        and not draft.candidates
        and (draft.card or len(options) <= 1)
    )
    if complete:
        with ctx.store.read() as session:
            duplicate = _look_up(ctx, me, draft, session).duplicate
        if duplicate is None:
            return _save(turn, ctx, me, draft)
    return _next(turn, ctx, me, draft)


def _card_from(text: str, directory: Directory) -> str | None:
    wanted = text.strip().casefold()
    if not wanted:
        return None
    for card in directory.cards:
        if wanted in (card.id, card.title.casefold()) or wanted in map(str.casefold, card.aliases):
            return card.id
    return None


# -- the lifecycle -----------------------------------------------------------------------


def _move_by_button(
    ctx: Context, me: Person, to_status: str, payload: dict[str, Any]
) -> list[Reply]:
    referral_id = _id(payload)
    if referral_id is None:
        return [_not_visible()]
    if to_status in ("won", "lost") and not payload.get("submitted"):
        # Only someone who may record the outcome gets its form: no form, then a refusal.
        refusal = _refusal(ctx, me, referral_id, to_status)
        return [refusal or _outcome_form(ctx, me, referral_id, to_status)]
    won = _amount(payload, _directory(ctx).currency) if to_status == "won" else None
    return _move(ctx, me, referral_id, MoveTo(to_status, won, str(payload.get("reason") or "")))


def _amount(payload: dict[str, Any], home: str) -> Money | None:
    """The value in a payload: exact data (`amount`, a decimal string, and `currency`) from
    a button, or what was typed in the form's `value` field."""
    if payload.get("amount") is not None:
        try:
            exact = Decimal(str(payload["amount"]))
        except InvalidOperation:
            exact = None
        if exact is not None and exact.is_finite() and exact >= 0:
            return Money(float(exact), str(payload.get("currency") or home))
    typed = parse_amount(str(payload.get("value") or ""), home)
    if typed is None:
        return None
    return Money(typed.value, typed.currency or home)


def _as_data(amount: Money | None) -> dict[str, Any]:
    """A value for a button's payload: a decimal string and a currency code, never "£12k"."""
    if amount is None:
        return {}
    return {"amount": str(Decimal(str(amount.value)).normalize()), "currency": amount.currency}


def _refusal(ctx: Context, me: Person, referral_id: int, to_status: str) -> Reply | None:
    """Why `me` can't move the referral to `to_status` now (None when they can)."""
    refused: ReferralError | None = None
    with ctx.store.read() as session:
        referral = session.get(Referral, referral_id)
        try:
            if referral is None:
                raise ReferralError("not_visible")
            referrals.check_move(session, referral, me, to_status)
        except ReferralError as error:
            refused = error
    return _error_reply(refused, ctx, me) if refused is not None else None


def _outcome_form(ctx: Context, me: Person, referral_id: int, to_status: str) -> Reply:
    """Won asks for the value; lost asks why (both optional)."""
    with ctx.store.read() as session:
        seen = _seen(session, me, referral_id)
    if seen is None:
        return _not_visible()
    current = seen[1]
    context = {"id": referral_id, "submitted": True}
    if to_status == "won":
        initial = _exact(current.value, current.currency)
        inputs = [FormInput("value", label("value_won"), required=False, initial=initial)]
        form = Form(
            label("won"),
            "referral.won",
            inputs,
            submit_label=label("record_the_win"),
            context=context,
        )
    else:
        inputs = [FormInput("reason", label("what_happened"), kind="textarea", required=False)]
        form = Form(
            label("lost"), "referral.lost", inputs, submit_label=label("record_it"), context=context
        )
    text = render("referral_outcome_form", r=current, status=to_status)
    return Reply(text, form=form, kind="referral_outcome_form")


def _move(ctx: Context, me: Person, referral_id: int, to: MoveTo) -> list[Reply]:
    """Move a referral on: worked out and worded from a read first, then made in a write
    that only compares and sets (worked out again inside it when the referral changed)."""
    now, planned = ctx.now(), None
    # A refusal is said from inside the write, where the referral is read afresh.
    with ctx.store.read() as session, contextlib.suppress(ReferralError):
        planned = referrals.plan_move(session, referral_id, me, to, now)
    replies = _moved(me, planned.outcome) if planned is not None else []
    try:
        with ctx.store.write() as session:
            if planned is None or not referrals.apply_move(session, planned):
                outcome = referrals.move(session, referral_id, me, to, now)
                replies = _moved(me, outcome)
    except ReferralError as error:
        return [_error_reply(error, ctx, me)]
    return replies


def _moved(me: Person, outcome: referrals.Outcome) -> list[Reply]:
    current = outcome.current
    assert current is not None
    owner = current.owner.id if current.owner else None
    buttons = referrals.actions_for(me, outcome.referral, owner)
    mine = Reply(render("referral_moved", r=current), buttons=buttons, kind="referral_moved")
    return [mine, *outcome.notices]


def _consent(ctx: Context, me: Person, payload: dict[str, Any], go_ahead: bool) -> list[Reply]:
    referral_id = _id(payload)
    if referral_id is None:
        return [_not_visible()]
    try:
        with ctx.store.write() as session:
            outcome = referrals.consent(session, referral_id, me, go_ahead, ctx.now())
            current = referrals.current_view(session, outcome)
            buttons = referrals.actions_for(me, outcome.referral, me.id)
    except ReferralError as error:
        return [_error_reply(error, ctx, me)]
    mine = Reply(
        render("referral_consent_recorded", r=current, go_ahead=go_ahead),
        buttons=buttons if not go_ahead else [],
        kind="referral_consent_recorded",
    )
    return [mine, *outcome.notices]


def _on_consent_go(turn: Turn, ctx: Context, me: Person, payload: dict[str, Any]) -> list[Reply]:
    return _consent(ctx, me, payload, True)


def _on_consent_talk(turn: Turn, ctx: Context, me: Person, payload: dict[str, Any]) -> list[Reply]:
    return _consent(ctx, me, payload, False)


def _on_show(turn: Turn, ctx: Context, me: Person, payload: dict[str, Any]) -> list[Reply]:
    with ctx.store.read() as session:
        seen = _seen(session, me, _id(payload))
        if seen is None:
            return [_not_visible()]
        referral, current = seen
        buttons = referrals.actions_for(me, referral, current.owner.id if current.owner else None)
    facts = [
        Fact(label("client"), current.client),
        Fact(label("from"), f"{current.referrer.name} ({current.referrer.team})"),
        Fact(label("to"), f"{current.receiver.name} ({current.receiver.team})"),
    ]
    if current.owner:
        facts.append(Fact(label("relationship_owner"), current.owner.name))
    if current.card_title:
        facts.append(Fact(label("service"), current.card_title))
    text = render("referral_detail", r=current)
    return [Reply(text, facts=facts, buttons=buttons, kind="referral_detail")]


def _on_mine(turn: Turn, ctx: Context, me: Person, payload: dict[str, Any]) -> list[Reply]:
    return _list_command(turn, ctx, me, "")


def _on_client_ok(turn: Turn, ctx: Context, me: Person, payload: dict[str, Any]) -> list[Reply]:
    referral_id = _id(payload)
    try:
        with ctx.store.write() as session:
            if referral_id is None:
                raise ReferralError("not_visible")
            client = referrals.confirm_client(session, referral_id, me)
            name = client.name
    except ReferralError as error:
        return [_error_reply(error, ctx)]
    return [Reply(render("referral_client_confirmed", client=name), kind="referral_client_ok")]


def _status_from_chat(
    turn: Turn, ctx: Context, me: Person, client_name: str, to_status: str, update: Any
) -> list[Reply]:
    """ "Acme went well, we won it, £18k": find my referral of Acme and ask before moving it."""
    reason = update.reason or "" if to_status == "lost" else ""
    said = Money(update.value, update.currency) if update.value is not None else None
    payload = {"submitted": True, "reason": reason, **_as_data(said)}
    with ctx.store.read() as session:
        client = referrals.client_named(session, client_name)
        visible = (
            referrals.visible_for_client(session, me, client.id) if client and client.id else []
        )
        mine = [r for r in visible if referrals.can_act(me, r, to_status)]
        views = {r.id: referrals.view(session, r) for r in visible}
    if not visible:
        text = render("referral_update_not_found", client=client_name)
        return [Reply(text, kind="referral_update_not_found")]
    if not mine:
        first = views[visible[0].id]
        text = render("referral_update_not_yours", r=first, me=me)
        return [Reply(text, kind="referral_update_refused")]
    if len(mine) > 1:
        text = render(
            "referral_update_which", status=to_status, client=client_name, first=mine[0].id
        )
        choices = [views[r.id] for r in mine]
        asked = {**payload, "status": to_status}
        return _which(turn, ctx, me, "referral.status_ask", asked, choices, text)
    return _status_confirm(ctx, me, views[mine[0].id], to_status, payload)


def _on_status_ask(turn: Turn, ctx: Context, me: Person, payload: dict[str, Any]) -> list[Reply]:
    """The referral picked for a status sentence: now ask to confirm the change on it."""
    referral_id, to_status = _id(payload), str(payload.get("status") or "")
    with ctx.store.read() as session:
        seen = _seen(session, me, referral_id)
    if seen is None or to_status not in referrals.ACTION_STATUSES.values():
        return [_not_visible()]
    data = {k: v for k, v in payload.items() if k not in ("status", "id")}
    return _status_confirm(ctx, me, seen[1], to_status, data)


def _status_confirm(
    ctx: Context, me: Person, referral: referrals.View, to_status: str, payload: dict[str, Any]
) -> list[Reply]:
    """ "Shall I record that…?": Yes, record it / No, or what is still needed first."""
    refusal = _refusal(ctx, me, referral.id, to_status)
    if refusal is not None:
        return [refusal]  # what is still needed: the receiver's acceptance, the owner's go-ahead
    said = _amount(payload, _directory(ctx).currency)
    text = render(
        "referral_status_confirm",
        r=referral,
        status=to_status,
        value=said.value if said and to_status == "won" else None,
        currency=said.currency if said else None,
        reason=payload.get("reason") or "",
    )
    buttons = [
        Button(label("yes_record_it"), _verb(to_status), {**payload, "id": referral.id}, "primary"),
        Button(label("no"), "referral.keep", {"id": referral.id}),
    ]
    return [Reply(text, buttons=buttons, kind="referral_status_confirm")]


def _which(
    turn: Turn,
    ctx: Context,
    me: Person,
    action: str,
    payload: dict[str, Any],
    choices: list[referrals.View],
    text: str,
) -> list[Reply]:
    """ "Which referral?": a button per referral (`#12 · 3 Dec · Employment law → Priya`),
    and typing `#12` picks it too (the choice waits in the dialogue state)."""
    assert me.id is not None
    ids = [v.id for v in choices]
    with ctx.store.write() as session:
        data = {"action": action, "payload": payload, "ids": ids}
        state.save(session, me.id, turn.conversation, FLOW, "which", data)
    buttons = [
        Button(render("referral_choice_label", r=v), action, {**payload, "id": v.id})
        for v in choices
    ]
    return [Reply(text, buttons=buttons, kind="referral_update_which")]


def _answer_which(
    turn: Turn, ctx: Context, me: Person, data: dict[str, Any], text: str
) -> list[Reply] | None:
    """`#12` (or `12`) typed to a "which referral?" question presses that referral's button."""
    match = re.match(r"^\s*#?(\d{1,9})[\s.!]*$", text)
    ids = [int(i) for i in data.get("ids", [])]
    if match is None or int(match[1]) not in ids:
        return None  # something else: the referral waits, other handlers answer
    assert me.id is not None
    with ctx.store.write() as session:
        state.clear(session, me.id, turn.conversation)
    pressed = Turn(
        person=turn.person,
        conversation=turn.conversation,
        action=str(data.get("action")),
        payload={**dict(data.get("payload") or {}), "id": int(match[1])},
        platform=turn.platform,
        is_direct=turn.is_direct,
    )
    handler = ACTIONS.get(pressed.action or "")
    return handler(pressed, ctx, me) if handler else None


def _withdraw_from_chat(turn: Turn, ctx: Context, me: Person, rest: str) -> list[Reply]:
    """ "Withdraw the Kestrel referral": the referrer's open referrals of that client, to
    confirm (never a new referral)."""
    words = _THE_REFERRAL.sub(" ", rest).strip()
    name, _known = resolve_client(words, _directory(ctx)) if words else ("", False)
    with ctx.store.read() as session:
        client = referrals.client_named(session, name) if name else None
        visible = (
            referrals.visible_for_client(session, me, client.id) if client and client.id else []
        )
        mine = [
            referrals.view(session, r) for r in visible if referrals.can_act(me, r, "withdrawn")
        ]
    if not mine:
        text = render("referral_update_not_found", client=name or words)
        return [Reply(text, kind="referral_update_not_found")]
    if len(mine) > 1:
        text = render(
            "referral_update_which", status="withdrawn", client=mine[0].client, first=mine[0].id
        )
        return _which(turn, ctx, me, "referral.withdraw", {}, mine, text)
    [referral] = mine
    buttons = [
        Button(label("withdraw_it"), "referral.withdraw", {"id": referral.id}, "danger"),
        Button(label("keep_it"), "referral.keep", {"id": referral.id}),
    ]
    text = render("referral_withdraw_confirm", r=referral)
    return [Reply(text, buttons=buttons, kind="referral_withdraw_confirm")]


def _go_ahead_from_chat(turn: Turn, ctx: Context, me: Person, rest: str) -> list[Reply] | None:
    """ "Go ahead" from a relationship owner with a referral waiting on their answer."""
    words = _THE_REFERRAL.sub(" ", rest).strip()
    with ctx.store.read() as session:
        waiting = [
            v
            for v in referrals.mine(session, me).waiting
            if v.owner is not None and v.owner.id == me.id and v.consent != "given"
        ]
    if words:
        name, _known = resolve_client(words, _directory(ctx))
        waiting = [v for v in waiting if name and v.client.casefold() == name.casefold()]
    if not waiting:
        return None  # not an owner's answer: the other handlers may know what it means
    if len(waiting) > 1:
        text = render("referral_consent_which", first=waiting[0].id)
        return _which(turn, ctx, me, "referral.consent_ask", {}, waiting, text)
    return _on_consent_ask(turn, ctx, me, {"id": waiting[0].id})


def _on_consent_ask(turn: Turn, ctx: Context, me: Person, payload: dict[str, Any]) -> list[Reply]:
    """A typed go-ahead changes what the receiver may do: it is recorded only on Confirm."""
    with ctx.store.read() as session:
        seen = _seen(session, me, _id(payload))
    if seen is None:
        return [_not_visible()]
    current = seen[1]
    buttons = [
        Button(label("confirm"), "referral.consent_go", {"id": current.id}, "primary"),
        Button(label("not_now"), "referral.keep", {"id": current.id}),
    ]
    text = render("referral_consent_confirm", r=current)
    return [Reply(text, buttons=buttons, kind="referral_consent_confirm")]


def _on_keep(turn: Turn, ctx: Context, me: Person, payload: dict[str, Any]) -> list[Reply]:
    """ "No" / "Keep it" to a change asked about: nothing moves."""
    return [Reply(render("referral_kept"), kind="referral_kept")]


def _exact(value: float | None, currency: str | None) -> str:
    """A value as a form field's starting text that reads back exactly ("12,345 GBP")."""
    if not value:
        return ""
    amount = Decimal(str(value)).normalize()
    digits = f"{amount:,f}" if amount == amount.to_integral() else f"{amount:,.2f}"
    return f"{digits} {currency}" if currency else digits


def _verb(status: str) -> str:
    """The action id of the button that moves a referral to `status`."""
    return next(a for a, s in referrals.ACTION_STATUSES.items() if s == status)


def _id(payload: dict[str, Any]) -> int | None:
    try:
        return int(payload["id"])
    except (KeyError, TypeError, ValueError):
        return None


def _seen(
    session: Session, me: Person, referral_id: int | None
) -> tuple[Referral, referrals.View] | None:
    """The referral and its view, if `me` may see it (None alike for missing and hidden)."""
    referral = session.get(Referral, referral_id) if referral_id else None
    if referral is None or not referrals.can_see(me, referral, session):
        return None
    return referral, referrals.view(session, referral)


def _not_visible() -> Reply:
    return Reply(render("referral_not_visible"), kind="referral_not_visible")


def _error_reply(
    error: ReferralError, ctx: Context | None = None, me: Person | None = None
) -> Reply:
    """Kind words for a change that could not be made (never revealing others' referrals)."""
    if error.code == "not_visible":
        return _not_visible()
    current = None
    if error.referral_id is not None and ctx is not None:
        with ctx.store.read() as session:
            row = session.get(Referral, error.referral_id)
            current = referrals.view(session, row) if row else None
    text = render("referral_refused", code=error.code, r=current, data=error.data, me=me)
    return Reply(text, kind=f"referral_refused_{error.code}")


_PayloadHandler = Callable[[Turn, Context, Person, dict[str, Any]], list[Reply]]


def _action(handler: _PayloadHandler) -> ActionHandler:
    """A `referral.*` button or form: its payload in, replies kept private in a channel."""

    def action(turn: Turn, ctx: Context, me: Person) -> list[Reply]:
        return _private(turn, handler(turn, ctx, me, turn.payload or {})) or []

    return action


def _mover(to_status: str) -> ActionHandler:
    """A lifecycle button: move the referral in the payload to `to_status`."""
    return _action(lambda turn, ctx, me, payload: _move_by_button(ctx, me, to_status, payload))


_DraftAnswer = Callable[[Turn, Context, Person, Draft, str], list[Reply] | None]
# The step the draft waits at -> what reads the answer to its question ("which" is not here:
# it waits with a list of referrals, not a draft).
_ANSWERS: dict[str, _DraftAnswer] = {
    "client": _answer_client,
    "receiver": _answer_receiver,
    "choose": _answer_choice,
    "card": _answer_card,
    "confirm": _answer_confirm,
    "duplicate": _answer_duplicate,
}
# Steps that ask yes or no: the answer is read as yes or no, not as a new referral or a question.
_YES_OR_NO_STEPS = frozenset({"confirm", "duplicate"})

COMMANDS: dict[str, CommandHandler] = {"refer": command, "referrals": list_command}
ACTIONS: dict[str, ActionHandler] = {
    "referral.form": _action(_on_form),
    "referral.submit": _action(_on_submit),
    "referral.confirm": _action(_on_confirm),
    "referral.edit": _action(_edit),
    "referral.cancel": _action(_cancel),
    "referral.pick": _action(_on_pick),
    "referral.card": _action(_on_card),
    "referral.update": _action(_update),
    "referral.consent_go": _action(_on_consent_go),
    "referral.consent_talk": _action(_on_consent_talk),
    "referral.consent_ask": _action(_on_consent_ask),
    "referral.status_ask": _action(_on_status_ask),
    "referral.show": _action(_on_show),
    "referral.mine": _action(_on_mine),
    "referral.client_ok": _action(_on_client_ok),
    "referral.keep": _action(_on_keep),
    "referral.accept": _mover("accepted"),
    "referral.decline": _mover("declined"),
    "referral.meeting": _mover("meeting"),
    "referral.proposal": _mover("proposal"),
    "referral.won": _mover("won"),
    "referral.lost": _mover("lost"),
    "referral.park": _mover("parked"),
    "referral.withdraw": _mover("withdrawn"),
}


def warm(ctx: Context) -> None:
    """Build the parser's directory now (a process about to serve turns), not on the first
    referral."""
    _directory(ctx)
