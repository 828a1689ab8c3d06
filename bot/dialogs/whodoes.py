"""Who does X? Answers from the service cards, follow-ups, and a whole card on request.

`respond` is the platform-free heart (the chat and `crossbot ask` both use it): a question,
or a follow-up to the last answer ("anyone in Manchester?", "tell me more"), in; a
`Response` with the rendered text, the matched cards and their buttons out.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bot import lookup
from bot.catalog import Card, Catalog, ClientRecord, PersonRecord
from bot.dialogs import ActionHandler, CommandHandler
from bot.messages import Button, Fact, Reply, Turn
from bot.questions import name_key
from bot.render import label, render
from bot.search import Match, SearchIndex, SearchResult, load_vocabulary

# `respond` answers from a catalog and an index alone (`crossbot ask`); only the chat
# handlers below touch the database, and they import the store's side when they run.
if TYPE_CHECKING:
    from bot.context import Context
    from bot.store.models import DialogState, Person

FLOW = "whodoes"
# A plain sentence shorter than this is searched only if it names a card ("TUPE").
_SITUATION_WORDS = 3
_QUESTION = re.compile(
    r"\b(who|whos|anyone|anybody|someone|somebody|which team|what team|what does)\b|\?$", re.I
)
_MORE = re.compile(
    r"^\s*(tell me more|more( info| details)?|show (me )?(the )?(whole |full )?card|details|"
    r"what else|full card)\b",
    re.I,
)
_OFFICE = re.compile(
    r"\b(?:in|at|from|based in|out of|near)\s+(?:the\s+)?(?P<place>[\w' -]+?)"
    r"(?:\s+office)?\s*\??\s*$",
    re.I,
)
_CLIENT_CUE = re.compile(
    r"\b(look(s|ing)? after|owns?|owner|relationship|client partner|account (lead|partner)|"
    r"who knows|manages? the|responsible for)\b",
    re.I,
)


@dataclass
class Response:
    """What to say, and what it was about (for buttons, follow-ups and `--json`)."""

    kind: str
    text: str
    matches: list[Match] = field(default_factory=list)
    owners: dict[str, list[PersonRecord]] = field(default_factory=dict)  # card id -> people shown
    cards: list[str] = field(default_factory=list)  # what a follow-up refers to
    reason: str = ""  # why nothing fitted, for a no-match
    question_id: int | None = None  # the recorded question ("Not what I needed" refers to it)

    def buttons(self) -> list[Button]:
        if not self.matches:
            return []
        best = self.matches[0].card.id
        buttons = [
            Button(label("refer_a_client_to_them"), "referral.form", {"card": best}, "primary"),
            Button(label("show_the_card"), "card.show", {"card": best}),
        ]
        if self.question_id is not None:
            buttons.append(
                Button(label("not_what_i_needed"), "learn.missed", {"question": self.question_id})
            )
        return buttons


def build_index(catalog: Catalog, content_dir: Path | None = None) -> SearchIndex:
    """The search index of a firm, with the firm's own glossary if its folder has one."""
    glossary, areas = load_vocabulary(content_dir or catalog.folder)
    return SearchIndex.build(catalog.cards, catalog.people, catalog.clients, glossary, areas)


def respond(
    text: str,
    index: SearchIndex,
    catalog: Catalog,
    last: list[str] | None = None,
    asker: str | None = None,
) -> Response:
    """Answer a question, or a follow-up to the cards of the `last` answer.

    `asker` (an email) is never told to "talk to" themselves: the next owner is named."""
    if last:
        follow = follow_up(text, index, catalog, last)
        if follow is not None:
            return follow
    client = index.find_client(text) if _CLIENT_CUE.search(text) else None
    if client is not None:
        return _client_answer(client, catalog)
    unknown = lookup.unknown_name(text, index)
    if unknown is not None:
        return _unknown_answer(unknown)
    office = lookup.office_asked(text, index.offices()) if _ANYONE.search(text) else None
    if office is not None and office[1]:
        result = _search(office[1], index)
        if result.found:
            return _office_answer(office[0], [m.card for m in result.matches], catalog)
    return answer_search(_search(text, index), catalog, asker)


def _search(text: str, index: SearchIndex) -> SearchResult:
    """Search, with a question that is exactly a card's title or alias answered from it."""
    result = index.search(text)
    if result.person is not None or result.team is not None:
        return result  # about someone, or a team: search's answer stands
    named = _exact_names(index).get(name_key(text))
    if named is None or (result.matches and result.matches[0].card.id == named.id):
        return result
    others = [m for m in result.matches if m.card.id != named.id][:2]
    return SearchResult(result.question, [Match(named, 1.0), *others], areas=result.areas)


_NAMES: weakref.WeakKeyDictionary[SearchIndex, dict[str, Card]] = weakref.WeakKeyDictionary()


def _exact_names(index: SearchIndex) -> dict[str, Card]:
    """Each card's title and aliases as `name_key`s, worked out once per index."""
    if index not in _NAMES:
        names: dict[str, Card] = {}
        for card in index.cards:
            for name in (card.title, *card.aliases):
                names.setdefault(name_key(name), card)
        names.pop("", None)
        _NAMES[index] = names
    return _NAMES[index]


def answer_search(result: SearchResult, catalog: Catalog, asker: str | None = None) -> Response:
    """The chat answer for a search result: best card first, or an honest no-match."""
    if not result.found:
        admins = [p for p in catalog.people if p.role == "admin"]
        text = render(
            "whodoes_no_match", question=result.question, reason=result.reason, admins=admins
        )
        return Response("whodoes_no_match", text, reason=result.reason or "weak")
    owners = {
        m.card.id: [p for e in m.card.owners if (p := catalog.person(e)) is not None]
        for m in result.matches
    }
    cards = [m.card.id for m in result.matches]
    if result.person is not None:
        text = render(
            "whodoes_person", person=result.person, cards=[m.card for m in result.matches]
        )
        return Response("whodoes_person", text, result.matches, owners, cards)
    if result.team is not None:
        text = render(
            "whodoes_team", team=result.team, cards=[m.card for m in result.matches], owners=owners
        )
        return Response("whodoes_team", text, result.matches, owners, cards)
    best = result.matches[0].card
    others_first = [e for e in best.owners if e != asker] + [e for e in best.owners if e == asker]
    contact = catalog.person(others_first[0]) if others_first else None
    text = render(
        "whodoes_answer",
        card=best,
        contact=contact,
        is_you=contact is not None and contact.email == asker,
        positioning=_first_sentence(best.section("positioning")),
        questions=best.bullets("questions")[:2],
        others=[(m.card, catalog.person(m.card.main_contact or "")) for m in result.matches[1:3]],
    )
    return Response("whodoes_answer", text, result.matches, owners, cards)


def follow_up(text: str, index: SearchIndex, catalog: Catalog, last: list[str]) -> Response | None:
    """'anyone in Manchester?' or 'tell me more' about the last answer; None if it isn't one."""
    cards = [c for c in (catalog.card(card_id) for card_id in last) if c is not None]
    if not cards or len(text.split()) > 8:
        return None
    if _MORE.search(text):
        card = cards[0]
        return Response(
            "card",
            card_text(catalog, card),
            [Match(card, 1.0)],
            {card.id: _owners(catalog, card)},
            [card.id],
        )
    office = _office(text, index.offices())
    if office is None:
        return None
    return _office_answer(office, cards, catalog)


def _situation(text: str) -> bool:
    """Whether a plain sentence may describe a client's situation: not "ok" or "test", not
    small talk, and not about Crossbot itself ("share a win story", "turn off the digest")."""
    if len(text.split()) < _SITUATION_WORDS:
        return False
    return not (_SMALL_TALK.search(text) or _ABOUT_CROSSBOT.search(text))


_SMALL_TALK = re.compile(
    r"^\s*(bye|goodbye|see (you|ya)|later|good ?night|have a (good|nice|great|lovely)|"
    r"talk (to you )?(soon|later)|ok(ay)?|cool|nice|lol|haha|sounds good|no worries|sorry)\b",
    re.I,
)
# Crossbot's own features: a sentence about them is for another handler or for the fallback.
_ABOUT_CROSSBOT = re.compile(
    r"\b(stor(y|ies)|digests?|leaderboards?|points|ideas?|campaigns?|referrals?|remind(ers?)?|"
    r"nudges?|crossbot|bot|(share|post|log) (a |my |our )?wins?)\b",
    re.I,
)


def _office_answer(office: str, cards: list[Card], catalog: Catalog) -> Response:
    """Who does these cards' work in one office (and who elsewhere, if nobody there)."""
    shown: dict[str, list[PersonRecord]] = {}
    for card in cards:
        team = [p for p in catalog.people if p.team.casefold() == card.team.casefold()]
        owners = _owners(catalog, card)
        here = [
            p
            for p in owners + [p for p in team if p not in owners]
            if p.office.casefold() == office.casefold()
        ]
        shown[card.id] = here
    rows = [(c, shown[c.id], next(iter(_owners(catalog, c)), None)) for c in cards]
    text_out = render("whodoes_office", office=office, rows=rows)
    return Response(
        "whodoes_office", text_out, [Match(c, 1.0) for c in cards], shown, [c.id for c in cards]
    )


def card_text(catalog: Catalog, card: Card) -> str:
    return render("card", card=card, owners=_owners(catalog, card))


# -- chat handlers (routed from bot.conversation) -----------------------------------------


def command(turn: Turn, ctx: Context, me: Person, args: str) -> list[Reply]:
    if not args.strip():
        return [Reply(render("whodoes_usage"), kind="whodoes_usage")]
    return answer(turn, ctx, me, args)


def card_command(turn: Turn, ctx: Context, me: Person, args: str) -> list[Reply]:
    """`/card employment` (an id, a title or an alias)."""
    catalog = ctx.catalog()
    card = find_card(catalog, args)
    if card is None:
        return [Reply(render("card_unknown", card_id=args.strip()), kind="card_unknown")]
    return [card_reply(catalog, card)]


def find_card(catalog: Catalog, name: str) -> Card | None:
    """The card with this id, title or alias (any case)."""
    wanted = name.strip().casefold()
    return catalog.card(wanted) or next(
        (
            c
            for c in catalog.cards
            if wanted and wanted in (c.title.casefold(), *map(str.casefold, c.aliases))
        ),
        None,
    )


def on_show_card(turn: Turn, ctx: Context, me: Person) -> list[Reply]:
    """`card.show`: the card named in the payload."""
    return card_command(turn, ctx, me, str(turn.payload.get("card", "")))


COMMANDS: dict[str, CommandHandler] = {"whodoes": command, "card": card_command}
ACTIONS: dict[str, ActionHandler] = {"card.show": on_show_card}


def continue_flow(turn: Turn, ctx: Context, me: Person, pending: DialogState) -> list[Reply] | None:
    """Follow-ups kept as a flow by an older version; anything else goes on."""
    return _follow_up(turn, ctx, [str(c) for c in pending.data.get("cards", [])])


def on_message(turn: Turn, ctx: Context, me: Person) -> list[Reply] | None:
    """A follow-up to the last answer ("anyone in Leeds?", "tell me more"), a question, or
    a situation ("founder wants to sell up") when search can answer it."""
    from bot.dialogs import state

    if me.id is not None:
        with ctx.store.read() as session:
            last = state.recall(session, me.id, turn.conversation, FLOW).get("cards", [])
        follow = _follow_up(turn, ctx, [str(c) for c in last])
        if follow is not None:
            return follow
    if _QUESTION.search(turn.text):
        return answer(turn, ctx, me, turn.text)
    index = _index(ctx)
    named = name_key(turn.text) in _exact_names(index)
    if not named and not _situation(turn.text):
        return None
    catalog = ctx.catalog()
    response = answer_search(_search(turn.text, index), catalog, me.email)
    if not response.matches:
        return None  # not a situation we know: the fallback speaks
    return [_reply(_remember(turn, ctx, me, response), catalog)]


def _follow_up(turn: Turn, ctx: Context, last: list[str]) -> list[Reply] | None:
    response = follow_up(turn.text, _index(ctx), ctx.catalog(), last) if last else None
    return None if response is None else [_reply(response, ctx.catalog())]


def answer(turn: Turn, ctx: Context, me: Person, question: str) -> list[Reply]:
    catalog = ctx.catalog()
    response = respond(question, _index(ctx), catalog, asker=me.email)
    return [_reply(_remember(turn, ctx, me, response, question), catalog)]


def _remember(
    turn: Turn, ctx: Context, me: Person, response: Response, question: str | None = None
) -> Response:
    """Keep the answer's cards for follow-ups, and the question for learning
    (`bot.learning`): an answer, or a no-match, from search."""
    from bot import learning
    from bot.dialogs import state

    if me.id is None:
        return response
    learn = response.matches or response.kind == "whodoes_no_match"
    with ctx.store.write() as session:
        if learn and response.reason != "empty":
            cards = [m.card.id for m in response.matches]
            text = question if question is not None else turn.text
            response.question_id = learning.record(session, me.id, text, cards, response.reason)
        # Follow-up context, kept beside (never over) a flow in progress such as a draft;
        # the question too, so a typed "not what I needed" knows which one it means.
        if response.cards or response.question_id is not None:
            context = {"cards": response.cards, "question": response.question_id}
            state.remember(session, me.id, turn.conversation, FLOW, context)
        else:
            state.forget(session, me.id, turn.conversation, FLOW)
    return response


def card_reply(catalog: Catalog, card: Card) -> Reply:
    owners = _owners(catalog, card)
    return Reply(
        card_text(catalog, card),
        facts=[Fact(label("team"), card.team)]
        + ([Fact(label("main_contact"), owners[0].name)] if owners else []),
        buttons=[
            Button(label("refer_a_client_to_them"), "referral.form", {"card": card.id}, "primary")
        ],
        kind="card",
    )


def _reply(response: Response, catalog: Catalog) -> Reply:
    if response.kind == "card" and response.matches:
        return card_reply(catalog, response.matches[0].card)
    return Reply(response.text, buttons=response.buttons(), kind=response.kind)


def _index(ctx: Context) -> SearchIndex:
    index: SearchIndex = ctx.cached(
        "search_index", lambda catalog: build_index(catalog, ctx.settings.content_dir)
    )
    return index


def _unknown_answer(unknown: lookup.Unknown) -> Response:
    """Nobody (or no team, or no client) of that name: say so, never guess a card."""
    text = render(
        "whodoes_unknown", kind=unknown.kind, name=unknown.name, suggestions=unknown.suggestions
    )
    return Response("whodoes_unknown", text)


def _client_answer(client: ClientRecord, catalog: Catalog) -> Response:
    # Privacy: name the relationship owner only; what the client buys is not shared here.
    owner = catalog.person(client.owner) if client.owner else None
    admins = [p for p in catalog.people if p.role == "admin"]
    text = render("whodoes_client", client=client, owner=owner, admins=admins)
    return Response("whodoes_client", text)


def _owners(catalog: Catalog, card: Card) -> list[PersonRecord]:
    return [p for p in (catalog.person(e) for e in card.owners) if p is not None]


def _office(text: str, offices: list[str]) -> str | None:
    """The office a follow-up asks about, if the text is only that ('anyone in Leeds?')."""
    folded = " ".join(re.findall(r"[\w']+", text.casefold()))
    for office in sorted(offices, key=len, reverse=True):
        name = office.casefold()
        if re.search(rf"\b{re.escape(name)}\b", folded):
            rest = set(folded.replace(name, " ").split()) - _FILLER
            return office if not rest else None
    match = _OFFICE.search(text)
    if match is None or not _ANYONE.search(text):
        return None
    place = match.group("place").strip()
    rest = set(folded.replace(place.casefold(), " ").split()) - _FILLER
    return place.title() if not rest and len(place.split()) <= 3 else None


_ANYONE = re.compile(r"\b(anyone|anybody|someone|somebody|who|people|colleagues?)\b", re.I)
_FILLER = frozenset(
    "and what how about anyone anybody someone somebody who who's whos is are there based in at "
    "from the office people colleagues any near out of our we have do does sits sit works "
    "with team them they any one else".split()
)


def _first_sentence(text: str) -> str:
    match = re.match(r"(.+?[.!?])(\s|$)", text.strip(), re.S)
    return (match.group(1) if match else text).strip()


def warm(ctx: Context) -> None:
    """Build the search index now (a process about to serve turns), not on the first question."""
    _index(ctx)
