"""The store: migrations from scratch, SQLite's settings, and write transactions that don't fail."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlmodel import SQLModel, select

from bot.store import Store, current_revision, new_values
from bot.store._writers import WriterLock
from bot.store.engine import alembic_config
from bot.store.models import AskedQuestion, JobRun, Nudge, Person, PointEvent, utcnow

pytestmark = pytest.mark.postgres  # also on PostgreSQL under -m slow


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def test_fresh_database_is_migrated_to_head(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'fresh.db'}")
    assert current_revision(store.engine) == head_revision()
    tables = set(inspect(store.engine).get_table_names())
    assert {"person", "servicecard", "referral", "referralevent", "pointevent", "jobrun"} <= tables
    Store(store.url)  # starting again on a migrated database is a no-op


def test_migrations_match_the_models() -> None:
    """A model changed without a migration, or a migration's column changed (name, type,
    nullability, index), shows up here as a difference."""
    store = Store("sqlite://")
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'pragmas.db'}")
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_write_rolls_back_everything_on_error(store: Store) -> None:
    try:
        with store.write() as session:
            session.add(Person(email="a@example.com", name="A", team="T"))
            session.flush()
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    with store.read() as session:
        assert session.exec(select(Person)).all() == []


def test_concurrent_read_then_write_transactions_all_commit(tmp_path: Path) -> None:
    """Deferred transactions that read then write can fail with SQLITE_BUSY; ours queue."""
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    Store(url)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        store = Store(url, migrate=False)
        try:
            for i in range(15):
                with store.write() as session:
                    count = len(session.exec(select(JobRun)).all())
                    session.add(
                        JobRun(job=f"w{n}", scheduled_for=utcnow(), result={"seen": count, "i": i})
                    )
        except BaseException as exc:  # pragma: no cover - the failure being tested for
            errors.append(exc)
        finally:
            store.dispose()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with Store(url, migrate=False).engine.connect() as connection:
        assert connection.execute(text("select count(*) from jobrun")).scalar() == 60


def _queued_writers(lock: WriterLock, kinds: list[bool]) -> list[int]:
    """The order in which writers of `kinds` (True: priority), all queued behind a holder,
    get `lock`."""
    order: list[int] = []
    started = threading.Barrier(len(kinds) + 1)

    def write(n: int, priority: bool) -> None:
        started.wait()
        with lock.held(priority):
            order.append(n)

    with lock.held():
        threads = [threading.Thread(target=write, args=(n, p)) for n, p in enumerate(kinds)]
        for thread in threads:
            thread.start()
        started.wait()
        while sum(lock._waiting.values()) < len(kinds):  # all queued behind this holder
            threading.Event().wait(0.001)
    for thread in threads:
        thread.join(10)
    return order


def test_priority_writers_go_before_the_others_and_every_writer_gets_its_turn() -> None:
    kinds = [False, True, False, False, True, False]

    order = _queued_writers(WriterLock(), kinds)

    assert sorted(order) == list(range(len(kinds)))  # none left waiting
    assert {order[0], order[1]} == {n for n, p in enumerate(kinds) if p}


def test_the_writer_lock_is_reentrant() -> None:
    lock = WriterLock()
    with lock.held(), lock.held(priority=True):
        pass
    assert sorted(_queued_writers(lock, [False, True])) == [0, 1]  # let go after both


@pytest.mark.parametrize(
    ("model", "values"),
    [
        (AskedQuestion, {"asker_id": 3, "question": "who does tax?", "cards": ["tax"]}),
        (Nudge, {"key": "welcome:3", "person_id": 3, "kind": "welcome"}),
        (
            PointEvent,
            {"key": "1:r:3:won", "campaign_id": 1, "person_id": 3, "kind": "won", "points": 5},
        ),
    ],
)
def test_new_values_are_the_rows_a_model_would_insert(model: type[SQLModel], values: dict) -> None:
    stamp = {"asked_at", "due_at", "at"} & set(model.model_fields)
    given = {**values, **dict.fromkeys(stamp, utcnow())}  # the clock's defaults pinned

    assert new_values(model, **given) == model(**given).model_dump(exclude={"id"})


def test_new_values_need_the_columns_without_a_default() -> None:
    with pytest.raises(TypeError, match="question"):
        new_values(AskedQuestion, asker_id=3)


def _plan(store: Store, statement: Any) -> str:
    """The plan `store`'s database uses for `statement` whatever its parameters' values: on
    PostgreSQL the generic plan of a prepared statement (psycopg prepares a statement run
    often, and the server then plans it once for any values), on SQLite the one plan it has."""
    with store.engine.connect() as connection:
        compiled = statement.compile(dialect=connection.dialect)
        if connection.dialect.name == "sqlite":
            sql = f"EXPLAIN QUERY PLAN {compiled}"
            params = tuple(compiled.construct_params(_PAIR_VALUES).values())
            return " ".join(str(row) for row in connection.exec_driver_sql(sql, params))
        names: list[str] = []

        def numbered(match: re.Match[str]) -> str:
            if match[1] not in names:
                names.append(match[1])
            return f"${names.index(match[1]) + 1}"

        prepared = re.sub(r"%\((\w+)\)s", numbered, str(compiled))
        connection.exec_driver_sql(f"PREPARE pair_count AS {prepared}")
        connection.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
        arguments = ", ".join(f"'{_PAIR_VALUES[name]}'" for name in names)
        rows = connection.exec_driver_sql(f"EXPLAIN EXECUTE pair_count({arguments})")
        return " ".join(row[0] for row in rows)


_PAIR_VALUES = {"a": 1, "b": 2, "starts": "2026-01-01T00:00:00+00:00", "ends": "2026-02-01"}


def test_a_pairs_referrals_are_counted_from_the_pair_index(store: Store) -> None:
    """The points rules count the referrals between two people in a campaign's window on
    every step that scores: by the pair's index, not by a scan of the campaign's window
    (which PostgreSQL's generic plan chose with one-column indexes and an empty table's
    statistics, as a new database has: linear in referrals)."""
    from bot.campaigns._ledger import _A_TO_B, _PAIR_COUNT

    plan = _plan(store, _PAIR_COUNT.where(_A_TO_B))
    assert "ix_referral_pair" in plan
    assert "ix_referral_created_at" not in plan
