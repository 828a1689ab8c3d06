"""Content changes update what they touch: a new client in place, cards off the request path."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import pytest

from bot.catalog import Card, Catalog, load_catalog, load_into
from bot.context import Context
from bot.search import SearchIndex
from bot.store.models import Client
from bot.understand import Directory, parse_referral
from tests.conftest import PRIYA, SAMPLE_CONTENT

HELEN = "helen.carmichael@hartwellfinch.example"


def _unused(_: Catalog) -> None:
    pytest.fail("the cached value was built again")


@pytest.fixture
def live(ctx: Context) -> Context:
    ctx.content_check_seconds = 0  # every turn checks for changes, as if time had passed
    return ctx


def test_a_new_client_is_known_next_turn_and_nothing_is_rebuilt(chat, live: Context) -> None:
    helen = chat(HELEN)
    [confirm] = helen.send("referred Zebra Widgets to Priya for employment")
    assert "provisional" in confirm.text
    helen.send("who does employment law?")  # builds the search index
    search = live.cached("search_index", _unused)
    parser = live.cached("referral_directory", _unused)
    helen.press("referral.confirm")

    [again] = helen.send("referred Zebra Widgets to Priya for a settlement agreement")

    assert "provisional" not in again.text  # the parser knows the client now
    assert live.cached("search_index", _unused) is search
    assert live.cached("referral_directory", _unused) is parser
    assert search.find_client("who looks after Zebra Widgets?") is not None
    assert any(c.name == "Zebra Widgets" for c in live.catalog().clients)


def test_a_directory_takes_new_clients_in_place() -> None:
    catalog = load_catalog(SAMPLE_CONTENT)
    directory = Directory.from_catalog(catalog)
    text = "I've introduced Quillon Marine to Priya for employment"
    assert not directory._index.client_by_name.get("Quillon Marine")
    assert not parse_referral(text, HELEN, directory).client_known
    directory.add_clients([replace(catalog.clients[0], name="Quillon Marine", aliases=("QM",))])
    parsed = parse_referral(text, HELEN, directory)
    assert (parsed.client, parsed.client_known) == ("Quillon Marine", True)
    assert parse_referral("QM → Priya for employment", HELEN, directory).client_known


_SPACE = Card(
    id="space-law",
    title="Space law",
    team="Corporate",
    owners=(PRIYA,),
    aliases=("satellite launches",),
    sections={"what_we_do": "Licensing for satellite launches and orbital debris liability."},
)


def test_changed_cards_are_indexed_off_the_request_path(chat, live: Context) -> None:
    helen = chat(HELEN)
    helen.send("who does employment law?")
    old = live.cached("search_index", _unused)
    release, builds = threading.Event(), []

    def slow(catalog: Catalog) -> int:
        builds.append(len(catalog.cards))
        if len(builds) > 1:  # the rebuild waits until the test lets it finish
            assert release.wait(30)
        return len(catalog.cards)

    live.cached("slow", slow)
    catalog = load_catalog(SAMPLE_CONTENT)
    with live.store.write() as session:
        load_into(session, replace(catalog, cards=[*catalog.cards, _SPACE]))

    [meanwhile] = helen.send("who does space law?")
    assert live.cached("search_index", _unused) is old  # the old index answered
    assert "Space law" not in meanwhile.text
    release.set()
    live.wait_for_rebuild(30)

    new = live.cached("search_index", _unused)
    assert new is not old and isinstance(new, SearchIndex)
    assert live.cached("slow", _unused) == len(catalog.cards) + 1
    [answer] = helen.send("who does space law?")
    assert "Space law" in answer.text


def test_refresh_reloads_at_once(ctx: Context, tmp_path: Path) -> None:
    ctx.cached("search_index", lambda c: SearchIndex.build(c.cards))
    catalog = load_catalog(SAMPLE_CONTENT)
    with ctx.store.write() as session:
        load_into(session, replace(catalog, cards=[*catalog.cards, _SPACE]))
    ctx.refresh()
    index = ctx.cached("search_index", lambda c: SearchIndex.build(c.cards))
    assert any(c.id == "space-law" for c in index.cards)


def test_a_renamed_person_and_a_client_given_an_alias_are_seen_without_a_refresh(
    live: Context,
) -> None:
    before = live.catalog()
    person, client = before.people[0], before.clients[0]
    renamed = replace(person, name=f"{person.name} Renamed")
    aliased = replace(client, aliases=(*client.aliases, "Renamed Alias Co"))
    catalog = load_catalog(SAMPLE_CONTENT)
    with live.store.write() as session:  # as a `crossbot load` in another process would
        load_into(
            session,
            replace(
                catalog,
                people=[renamed if p.email == person.email else p for p in catalog.people],
                clients=[aliased if c.name == client.name else c for c in catalog.clients],
            ),
        )

    live.catalog()  # the check finds the change; the rebuild runs off the request path
    live.wait_for_rebuild(30)

    after = live.catalog()
    assert next(p for p in after.people if p.email == person.email).name == renamed.name
    assert "Renamed Alias Co" in next(c for c in after.clients if c.name == client.name).aliases


def test_a_client_edited_while_another_is_added_is_not_only_added_in_place(
    live: Context,
) -> None:
    first = live.catalog().clients[0]
    catalog = load_catalog(SAMPLE_CONTENT)
    edited = replace(first, sector="Renamed sector")
    with live.store.write() as session:  # a load, and a referral's provisional client
        load_into(
            session,
            replace(catalog, clients=[edited if c == first else c for c in catalog.clients]),
        )
        session.add(Client(name="Quillon Marine", provisional=True))

    live.catalog()
    live.wait_for_rebuild(30)

    after = {c.name: c for c in live.catalog().clients}
    assert "Quillon Marine" in after
    assert after[first.name].sector == "Renamed sector"
