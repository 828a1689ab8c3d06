"""The same migrations and code on a real PostgreSQL server (`pytest -m slow`)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlmodel import select

from bot.catalog import load_catalog, load_into
from bot.channels.console import ConsoleChannel
from bot.context import Context
from bot.settings import Settings
from bot.store import Store, current_revision
from bot.store.models import Person, ServiceCard
from tests.conftest import PRIYA, SAMPLE_CONTENT, load_sample
from tests.postgres import reset_postgres

pytestmark = pytest.mark.slow
URL = os.environ.get("CROSSBOT_TEST_POSTGRES_URL", "")


@pytest.fixture
def pg_store() -> Iterator[Store]:
    if not URL:
        pytest.skip("set CROSSBOT_TEST_POSTGRES_URL to a scratch PostgreSQL database")
    store = Store(reset_postgres(URL))  # migrated from an empty schema on first use
    yield store
    store.dispose()


def test_migrations_and_load_on_postgres(pg_store: Store) -> None:
    assert current_revision(pg_store.engine) is not None
    catalog = load_catalog(SAMPLE_CONTENT)
    with pg_store.write() as session:
        load_into(session, catalog)
    with pg_store.write() as session:
        summary = load_into(session, catalog)
    assert summary.added == {} and summary.updated == {}
    with pg_store.read() as session:
        assert len(session.exec(select(ServiceCard)).all()) == len(catalog.cards)
        assert session.exec(select(Person).where(Person.email == PRIYA)).one().name == "Priya Shah"


def test_conversation_on_postgres(pg_store: Store) -> None:
    ctx = Context(load_sample(pg_store), Settings(_env_file=None))  # type: ignore[call-arg]
    channel = ConsoleChannel(ctx, PRIYA)
    [answer] = channel.send("who does employment law?")
    assert "Employment law" in answer.text and "Owen Gallagher" in answer.text  # not herself
    # The follow-up context is written with PostgreSQL's upsert, twice over the same row.
    channel.send("who does employment law?")
    [follow_up] = channel.send("anyone in London?")
    assert "Owen Gallagher" in follow_up.text
