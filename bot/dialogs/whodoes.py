"""Who does X? Answers from the service cards, and shows a whole card on request."""

from __future__ import annotations

import re

from bot.catalog import Card, Catalog
from bot.context import Context
from bot.messages import Button, Fact, Reply, Turn
from bot.render import render
from bot.store.models import DialogState, Person

_WORD = re.compile(r"[a-z0-9]+")
_QUESTION = re.compile(r"\b(who|anyone|anybody|someone|somebody|which team|what team)\b|\?$", re.I)
_STOP = frozenset(
    "a an and are at be can client do does for from has have help i in is it me my of on or "
    "our the their them they this to us we what who with you your anyone someone".split()
)


def command(turn: Turn, ctx: Context, me: Person, args: str) -> list[Reply]:
    if not args.strip():
        return [Reply(render("whodoes_usage"), kind="whodoes_usage")]
    return answer(ctx, args)


def card_command(turn: Turn, ctx: Context, me: Person, args: str) -> list[Reply]:
    card = ctx.catalog().card(args.strip().lower())
    if card is None:
        return [Reply(render("card_unknown", card_id=args.strip()), kind="card_unknown")]
    return [card_reply(ctx.catalog(), card)]


def on_action(turn: Turn, ctx: Context, me: Person) -> list[Reply]:
    return card_command(turn, ctx, me, str(turn.payload.get("card", "")))


def continue_flow(turn: Turn, ctx: Context, me: Person, state: DialogState) -> list[Reply] | None:
    return None


def on_message(turn: Turn, ctx: Context, me: Person) -> list[Reply] | None:
    if not _QUESTION.search(turn.text):
        return None
    return answer(ctx, turn.text)


def answer(ctx: Context, question: str) -> list[Reply]:
    catalog = ctx.catalog()
    ranked = _rank(catalog.cards, question)
    if not ranked:
        return [Reply(render("whodoes_no_match", question=question), kind="whodoes_no_match")]
    best, others = ranked[0], ranked[1:3]
    people = {p.email: p for p in catalog.people}
    contact = people.get(best.main_contact or "")
    text = render(
        "whodoes_answer",
        card=best,
        contact=contact,
        positioning=_first_sentence(best.section("positioning")),
        questions=best.bullets("questions")[:2],
        others=[(c, people.get(c.main_contact or "")) for c in others],
    )
    return [
        Reply(
            text,
            buttons=[
                Button("Refer a client to them", "referral.form", {"card": best.id}, "primary"),
                Button("Show the card", "card.show", {"card": best.id}),
            ],
            kind="whodoes_answer",
        )
    ]


def card_reply(catalog: Catalog, card: Card) -> Reply:
    people = {p.email: p for p in catalog.people}
    owners = [people[e] for e in card.owners if e in people]
    return Reply(
        render("card", card=card, owners=owners),
        facts=[Fact("Team", card.team)]
        + ([Fact("Main contact", owners[0].name)] if owners else []),
        buttons=[Button("Refer a client to them", "referral.form", {"card": card.id}, "primary")],
        kind="card",
    )


def _rank(cards: list[Card], question: str) -> list[Card]:
    words = {w for w in _WORD.findall(question.lower()) if w not in _STOP and len(w) > 2}
    scored = []
    for card in cards:
        head = " ".join([card.title, card.team, *card.aliases]).lower()
        body = " ".join(card.sections.values()).lower()
        score = sum(3 for w in words if w in head) + sum(1 for w in words if w in body)
        if score:
            scored.append((score, card.id, card))
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [card for _, _, card in scored]


def _first_sentence(text: str) -> str:
    match = re.match(r"(.+?[.!?])(\s|$)", text.strip(), re.S)
    return (match.group(1) if match else text).strip()
