"""How much work a turn does, pinned as structure (never as times): a referral sentence is
read once and its database reads share one session, card inference weighs only contenders,
search's top k is a full sort's."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, event

from bot import referrals
from bot._search.index import _top
from bot._understand import cards as cards_module
from bot._understand.referral import _blanked
from bot._understand.text import overlaps
from bot.catalog import Card, Catalog, ClientRecord, PersonRecord, load_catalog
from bot.context import Context
from bot.conversation import handle
from bot.messages import Turn
from bot.understand import (
    Directory,
    KeywordCardScorer,
    client_mentions,
    parse_referral,
    read_referral,
)
from tests.conftest import PRIYA, SAMPLE_CONTENT
from tests.slack.test_throughput import statements

HELEN = "helen.carmichael@hartwellfinch.example"


class CountingScorer:
    """The keyword scorer behind the `CardScorer` seam, counting how often it is asked."""

    def __init__(self, cards: Sequence[Card]):
        self.inner = KeywordCardScorer(cards)
        self.calls = 0

    def __call__(self, text: str, cards: Sequence[Card]) -> dict[str, float]:
        self.calls += 1
        return self.inner(text, cards)


def _counting(ctx: Context) -> CountingScorer:
    """Install a directory whose card inference is counted, as the referral dialog's own."""
    scorer: CountingScorer | None = None

    def build(catalog: Catalog) -> Directory:
        nonlocal scorer
        directory = Directory.from_catalog(catalog, ctx.firm().currency)
        directory.scorer = scorer = CountingScorer(directory.cards)
        return directory

    ctx.cached("referral_directory", build)
    assert scorer is not None
    return scorer


def test_a_referral_sentence_is_read_once_per_turn(chat, ctx: Context) -> None:
    scorer = _counting(ctx)
    helen = chat(HELEN)

    [reply] = helen.send("I've introduced Northwind Foods to Priya for a TUPE transfer, maybe £20k")

    # "is it a referral?", the draft for Helen and the draft for no one share one reading
    assert reply.kind == "referral_ask_confirm"
    assert scorer.calls == 1


def test_a_referral_typed_mid_flow_is_read_once(chat, ctx: Context) -> None:
    scorer = _counting(ctx)
    helen = chat(HELEN)
    [asked] = helen.send("log a referral")
    assert asked.kind.startswith("referral_ask")
    scorer.calls = 0

    [reply] = helen.send("I've introduced Northwind Foods to Priya for a TUPE transfer")

    assert reply.kind == "referral_ask_confirm"
    assert scorer.calls == 1


def test_drafts_of_one_reading_are_independent_copies() -> None:
    directory = Directory.from_catalog(load_catalog(SAMPLE_CONTENT))
    text = "I've introduced Northwind Foods to Priya for a TUPE transfer, maybe £20k"
    reading = read_referral(text, directory)

    first = reading.draft(HELEN)
    first.client, first.missing = "Someone Else", ["client"]

    assert reading.draft(HELEN) == parse_referral(text, HELEN, directory)
    assert reading.draft(HELEN).client == "Northwind Foods Ltd"
    assert reading.draft(PRIYA).receiver is None  # Priya can't refer a client to herself


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=6), min_size=1, max_size=60),
    st.integers(min_value=1, max_value=8),
)
def test_top_k_is_the_full_stable_sort(values: list[int], k: int) -> None:
    scores = np.asarray(values, dtype=np.float32) / 3  # few distinct values: many ties
    assert _top(scores, k).tolist() == np.argsort(-scores, kind="stable")[:k].tolist()


_EMAILS = [f"p{n}@firm.example" for n in range(4)]
_TEAMS = ["Tax", "Audit", "Employment"]


@dataclass(frozen=True)
class _CardCase:
    """A small firm's cards with the evidence for each, the receivers named, the team named."""

    cards: list[Card]
    directory: Directory
    scores: dict[str, float]
    receivers: list[str]
    team: str | None


@st.composite
def _card_cases(draw: st.DrawFn) -> _CardCase:
    """A card per (owner, team) drawn, among four people in three teams, and its evidence."""
    owner_and_team = st.tuples(st.sampled_from(_EMAILS), st.sampled_from(_TEAMS))
    owned = draw(st.lists(owner_and_team, min_size=1, max_size=12))
    evidence = draw(st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=12))
    people = [PersonRecord(e, f"P {n}", _TEAMS[n % 3]) for n, e in enumerate(_EMAILS)]
    cards = [Card(f"c{n}", f"Card {n}", t, owners=(o,)) for n, (o, t) in enumerate(owned)]
    scores = {c.id: v / 4 for c, v in zip(cards, evidence, strict=False)}
    receivers = draw(st.lists(st.sampled_from(_EMAILS), max_size=2))
    team = draw(st.sampled_from([None, *_TEAMS]))
    return _CardCase(cards, Directory(people=people, cards=cards), scores, receivers, team)


@settings(max_examples=200, deadline=None)
@given(_card_cases())
def test_card_inference_weighing_only_contenders_picks_the_best(case: _CardCase) -> None:
    cards, directory, scores = case.cards, case.directory, case.scores
    receivers, team, least = case.receivers, case.team, 1.0

    chosen = cards_module.best_card(scores, least, directory, receivers, team)

    # every card weighed: evidence times its prior, ties to the card listed first
    teams = {t.lower() for t in [team] if t} | {
        p.team.lower() for p in directory.people if p.email in receivers
    }
    weighed = [
        (
            scores[c.id]
            * (
                cards_module.OWNER_PRIOR
                if set(receivers) & set(c.owners)
                else cards_module.TEAM_PRIOR
                if c.team.lower() in teams
                else 1.0
            ),
            -n,
            c.id,
        )
        for n, c in enumerate(cards)
        if c.id in scores and scores[c.id] >= least
    ]
    best = max(weighed, default=(0.0, 0, None))
    assert chosen == (best[2] if best[0] > 0 else None)


def test_a_client_is_found_however_its_name_is_typed_and_only_when_all_its_words_are() -> None:
    catalog = load_catalog(SAMPLE_CONTENT)
    clients = [
        ClientRecord("O'Brien Haulage", aliases=("OBH",)),
        ClientRecord("The Fenwick Trust"),
        ClientRecord("The Fenwick Partnership"),
    ]
    directory = Directory.from_catalog(Catalog(catalog.cards, catalog.people, clients))

    def named(text: str) -> list[str]:
        return [m.client for m in client_mentions(text, directory)]

    assert named("Lunch with o’brien   haulage on Friday") == ["O'Brien Haulage"]
    assert named("The Fenwick Trust wants a review") == ["The Fenwick Trust"]
    assert named("the trust and the partnership both called") == []
    assert named("obh called") == []  # a short all-capital alias matches its case
    assert named("OBH called") == ["O'Brien Haulage"]


def _sentence(ctx: Context, text: str, conversation: str) -> list[str]:
    """The statements one turn of Helen's makes, each transaction's kind first ("BEGIN
    IMMEDIATE" for a write, which goes to SQLite directly and so is not a statement seen)."""
    with statements(ctx.store) as seen:

        def began(connection: Connection) -> None:
            kind = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
            if kind == "IMMEDIATE":
                seen.append("BEGIN IMMEDIATE")

        event.listen(ctx.store.engine, "begin", began)
        try:
            handle(Turn(HELEN, conversation, text=text, platform="slack", is_direct=True), ctx)
        finally:
            event.remove(ctx.store.engine, "begin", began)
    return seen


def test_a_referral_sentence_reads_first_and_writes_last(ctx: Context) -> None:
    ctx = Context(ctx.store, ctx.settings, content_check_seconds=3600)  # no content check
    for text in ("hello", "I've introduced Acme Logistics to Priya for an employment tribunal"):
        _sentence(ctx, text, "slack:DWARM")  # the welcome; Priya now in the people cache

    seen = _sentence(
        ctx, "I've introduced Northwind Foods to Priya for a TUPE transfer, maybe £20k", "slack:D2"
    )

    begins = [s for s in seen if s.startswith("BEGIN")]
    # the flow in progress; the receiver, the client and its owner (one statement); then,
    # in the write, the duplicate look-up (it decides the step kept) and the draft kept
    assert begins == ["BEGIN DEFERRED", "BEGIN DEFERRED", "BEGIN IMMEDIATE"]
    assert len([s for s in seen if s.startswith("SELECT") and re.search(r"\bclient\b", s)]) == 1
    assert not [s for s in seen if s.startswith("SELECT person.")]  # the speaker from the cache
    write = seen[seen.index("BEGIN IMMEDIATE") + 1 :]
    assert [s.split()[0] for s in write] == ["SELECT", "INSERT"]
    assert "FROM referral" in write[0]
    assert len(seen) <= 7


def test_a_stored_client_name_finds_the_client_and_its_owner(ctx: Context) -> None:
    with ctx.store.read() as session:
        stored = referrals.client_and_owner(session, "Northwind Foods Ltd")
        folded = referrals.client_and_owner(session, "northwind foods ltd")
        alias = referrals.client_and_owner(session, "Northwind Group")
        unknown = referrals.client_and_owner(session, "Nobody Holdings")
        named = referrals.client_named(session, "Northwind Group")

    for client, owner in (stored, folded, alias):
        assert client is not None and client.name == "Northwind Foods Ltd"
        assert owner is not None and owner.email == "james.thornton@hartwellfinch.example"
    assert named is not None and named.name == "Northwind Foods Ltd"
    assert unknown == (None, None)


def test_a_speaker_the_sentence_does_not_name_gets_everyones_draft() -> None:
    directory = Directory.from_catalog(load_catalog(SAMPLE_CONTENT))
    reading = read_referral("Priya, Northwind Foods need help with a TUPE transfer", directory)

    assert reading.draft(HELEN) == reading.draft("")
    assert reading.draft("").receiver == PRIYA
    assert reading.draft(PRIYA).receiver is None  # naming yourself is not a receiver


@settings(max_examples=200, deadline=None)
@given(_card_cases())
def test_only_contenders_are_kept_and_the_same_card_wins(case: _CardCase) -> None:
    scores = {card: score for card, score in case.scores.items() if score}
    directory, receivers, team = case.directory, case.receivers, case.team

    kept = cards_module.contenders(scores, 1.0)

    assert set(kept) <= set(scores)
    assert cards_module.best_card(kept, 1.0, directory, receivers, team) == (
        cards_module.best_card(scores, 1.0, directory, receivers, team)
    )


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet="ab ", max_size=30),
    st.lists(st.tuples(st.integers(-3, 33), st.integers(-3, 33)), max_size=4),
)
def test_topic_words_blank_exactly_the_characters_inside_a_span(
    text: str, spans: list[tuple[int, int]]
) -> None:
    one_by_one = "".join(" " if overlaps(i, i + 1, spans) else c for i, c in enumerate(text))

    assert _blanked(text, spans) == one_by_one
