"""The same migrations and code on a real PostgreSQL server (`pytest -m slow`)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool
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


# -- connections: reads outside transactions, prepared statements kept, idle ones pinged --


def _backend(store: Store) -> int:
    with store.read() as session:
        return int(session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


def _terminate(backend: int) -> None:
    """End the server process of another connection (as a restart of the server would)."""
    killer = create_engine(URL, poolclass=NullPool)
    with killer.begin() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
    killer.dispose()


def _in_transaction(store: Store) -> bool:
    """Whether a read session's connection is inside a transaction on the server."""
    with store.read() as session:
        session.exec(select(Person).where(Person.email == "nobody@example.com")).all()
        raw = session.connection().connection.dbapi_connection
        return bool(raw.info.transaction_status != 0)  # psycopg: 0 is IDLE


def test_reads_run_outside_a_transaction_and_keep_prepared_statements(pg_store: Store) -> None:
    assert not _in_transaction(pg_store)
    query = select(Person).where(Person.email == "nobody@example.com")
    for _ in range(8):  # psycopg prepares a statement after five runs on a connection
        with pg_store.read() as session:
            session.exec(query).all()
    with pg_store.read() as session:
        prepared = session.connection().exec_driver_sql(
            "SELECT statement FROM pg_prepared_statements"
        )
        assert any("FROM person" in row[0] for row in prepared)
    with pg_store.write() as session:  # a write still commits what it did
        session.add(Person(email="new@example.com", name="New", team="Tax"))
    with pg_store.read() as session:
        assert session.exec(select(Person.name).where(Person.email == "new@example.com")).one()


def test_a_connection_that_died_is_replaced_before_use(pg_store: Store) -> None:
    first = _backend(pg_store)
    _terminate(first)  # as after a failover, the connection used a moment ago
    assert _backend(pg_store) not in (first, None)  # pinged, found dead, replaced: no error


def test_a_checkouts_ping_is_one_round_trip_outside_a_transaction(pg_store: Store) -> None:
    """Every checkout pings (for failover): one query in autocommit, not BEGIN, SELECT 1 and
    COMMIT, and the connection comes back in the mode it had (a writer's, not autocommit)."""
    with pg_store.engine.connect() as connection:
        raw = connection.connection.dbapi_connection
    with tempfile.TemporaryFile() as trace:
        raw.pgconn.trace(trace.fileno())  # libpq's log of every protocol message
        with pg_store.engine.connect() as connection:
            assert connection.connection.dbapi_connection is raw  # the same one, pinged
            assert raw.autocommit is False
        raw.pgconn.untrace()
        trace.seek(0)
        lines = [line.split("\t") for line in trace.read().decode().splitlines()]
    sent = [(fields[3], fields[4].strip()) for fields in lines if fields[1] == "F"]
    assert sent == [("Query", '"SELECT 1"')]
