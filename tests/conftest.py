"""Shared fixtures: the sample firm in an in-memory store, a chat, a recording Messenger."""

from __future__ import annotations

import atexit
import functools
import importlib.util
import os
import shutil
import socket
import tempfile
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any
from weakref import WeakKeyDictionary

import pytest
import time_machine
from sqlalchemy import Column, select, update
from sqlmodel import SQLModel

from bot.catalog import Catalog, load_catalog, load_into
from bot.channels.console import ConsoleChannel
from bot.context import Context
from bot.messages import Reply, Unreachable
from bot.money import firm_currency
from bot.settings import Settings
from bot.store import Store
from bot.store.models import utcnow
from tests.postgres import reset_postgres

# A first-contact welcome would come before every test's first answer: the welcome's own
# tests (tests/test_nudges_chat.py) switch it back on.
os.environ.setdefault("CROSSBOT_NUDGE_WELCOME", "false")
# `crossbot ask` saves content snapshots (bot/snapshot.py): never into the user's own cache.
if "CROSSBOT_CACHE_DIR" not in os.environ:
    os.environ["CROSSBOT_CACHE_DIR"] = tempfile.mkdtemp(prefix="crossbot-test-cache-")
    atexit.register(shutil.rmtree, os.environ["CROSSBOT_CACHE_DIR"], True)

# The campaign tests' `clock` and `week`; the story tests' `digest_ctx`.
pytest_plugins = ["tests.campaign_support", "tests.story_support"]

REPO = Path(__file__).resolve().parent.parent
SAMPLE_CONTENT = REPO / "content"
POSTGRES_URL = os.environ.get("CROSSBOT_TEST_POSTGRES_URL", "")
PRIYA = "priya.shah@hartwellfinch.example"  # Employment, main contact of the employment card
ADMIN = "alex.morgan@hartwellfinch.example"


def load_benchmark(name: str) -> ModuleType:
    """A script from benchmarks/ imported as a module (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / f"{name}.py")
    assert spec and spec.loader
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench


def free_port() -> int:
    """A loopback port free now, for a server process that must be told its port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def frozen_clock(moment: datetime, autouse: bool = False) -> Any:
    """A `clock` fixture for a test module: time stands still at `moment` until moved."""

    @pytest.fixture(name="clock", autouse=autouse)
    def clock() -> Iterator[time_machine.Traveller]:
        with time_machine.travel(moment, tick=False) as traveller:
            yield traveller

    return clock


@pytest.fixture
def settings() -> Settings:
    return Settings(_env_file=None)  # type: ignore[call-arg]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Modules marked `postgres` run each database test twice: on SQLite, and (slow) on PG."""
    if metafunc.definition.get_closest_marker("postgres") and "backend" in metafunc.fixturenames:
        on_postgres = pytest.param("postgres", marks=pytest.mark.slow)
        metafunc.parametrize("backend", ["sqlite", on_postgres], indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """`sqlite`, or `postgres` for the slow twin of a test in a module marked `postgres`."""
    name: str = getattr(request, "param", "sqlite")
    if name == "postgres" and not POSTGRES_URL:
        pytest.skip("set CROSSBOT_TEST_POSTGRES_URL to a scratch PostgreSQL database")
    return name


@pytest.fixture
def database_url(backend: str, tmp_path: Path) -> str:
    """A URL to an empty, migrated database: a SQLite file, or the test PostgreSQL emptied."""
    if backend == "postgres":
        return reset_postgres(POSTGRES_URL)
    return f"sqlite:///{tmp_path / 'crossbot.db'}"


@pytest.fixture
def store(backend: str) -> Iterator[Store]:
    store = Store(reset_postgres(POSTGRES_URL)) if backend == "postgres" else migrated_memory()
    yield store
    store.dispose()


def migrated_memory() -> Store:
    """An empty in-memory store at the head revision: a page-by-page copy of one this worker
    migrated once (running the migrations was most of a database test's setup)."""
    store = Store("sqlite://", migrate=False)
    _copy(_migrated_template(), store)
    return store


def _copy(source: Store, target: Store) -> None:
    """Replace the in-memory `target` database, page by page, with the in-memory `source`."""
    reading, writing = source.engine.raw_connection(), target.engine.raw_connection()
    try:
        reading.driver_connection.backup(writing.driver_connection)
    finally:
        writing.close()  # both back to their store's one pooled connection
        reading.close()


@functools.cache
def _migrated_template() -> Store:
    """This worker's migrated in-memory database (the migrations write no rows: schema only)."""
    return Store("sqlite://")


def load_sample(store: Store) -> Store:
    """`store` with the sample firm loaded into it (again: a reload keeps what was learned)."""
    with store.write() as session:
        load_into(session, _sample_catalog(date.today()))
    return store


@functools.cache
def _sample_catalog(today: date) -> Catalog:
    """The sample firm's folder parsed as on `today` (the parse depends on the date), once per
    worker: `load_into` copies what it writes out of the catalog and never changes it."""
    return load_catalog(SAMPLE_CONTENT, today)


@pytest.fixture
def ctx(store: Store, settings: Settings) -> Context:
    """A context over an in-memory database holding the sample firm."""
    if store.url == "sqlite://" and _untouched(store):
        copy_sample_firm(store)
    else:
        load_sample(store)
    return Context(store, settings)


def copy_sample_firm(store: Store, at: datetime | None = None) -> None:
    """Make the in-memory `store` what `load_sample` on an empty one makes it, by copying a
    worker's template and stamping the load's clock columns with the time now (or `at`):
    the load was most of a test's setup."""
    template = _sample_template(date.today())
    _copy(template.store, store)
    now = at or utcnow()
    _stamp(store, template.stamps, now, lambda column: column.is_not(None))
    _sample_copies[store] = (now, _changes(store))


def _stamp(
    store: Store,
    columns: tuple[Column[Any], ...],
    now: datetime,
    which: Callable[[Column[Any]], Any],
) -> None:
    """Set each of the load's clock `columns` to `now` in the rows `which` picks."""
    with store.write() as session:
        for column in columns:
            session.execute(update(column.table).where(which(column)).values({column: now}))


# The in-memory stores `copy_sample_firm` made: the time it stamped, the changes then.
_sample_copies: WeakKeyDictionary[Store, tuple[datetime, int]] = WeakKeyDictionary()
# What a template's sample firm is stamped with: a time no test or seed writes.
_TEMPLATE_STAMP = datetime(2000, 1, 1, tzinfo=UTC)


def write_or_copy(ctx: Context, write: Callable[[Context], None]) -> None:
    """`write(ctx)`, or the same rows copied: when `ctx` holds the sample firm as the `ctx`
    fixture copied it and the clock stands still, a per-worker template of what `write`
    makes of it at this moment is copied instead. What `write` makes must depend only on
    the firm, the moment, the settings and the firm's currency."""
    now, copied = utcnow(), _sample_copies.get(ctx.store)
    if copied is None or _changes(ctx.store) != copied[1] or utcnow() != now:
        write(ctx)
        return
    ctx.catalog()  # what `write` would have read first, so ctx's caches are the same
    moment = (date.today(), now, ctx.settings.model_dump_json(), firm_currency(), write)
    if moment not in _written:
        _written[moment] = template = migrated_memory()
        copy_sample_firm(template, at=_TEMPLATE_STAMP)
        write(Context(template, ctx.settings))
    _copy(_written[moment], ctx.store)
    stamps = _sample_template(date.today()).stamps
    _stamp(ctx.store, stamps, copied[0], lambda column: column == _TEMPLATE_STAMP)


# Per worker: what `write_or_copy`'s writes made of the sample firm, by moment and write.
_written: dict[tuple[Hashable, ...], Store] = {}


def _changes(store: Store) -> int:
    """How many rows have been written to the in-memory `store` since it was made."""
    connection = store.engine.raw_connection()
    try:
        changes: int = connection.driver_connection.total_changes
    finally:
        connection.close()
    return changes


@dataclass(frozen=True)
class _Template:
    store: Store
    stamps: tuple[Column[Any], ...]  # the columns the load filled with the time it ran at


@functools.cache
def _sample_template(today: date) -> _Template:
    before = utcnow()
    store = load_sample(migrated_memory())
    after = utcnow()
    return _Template(store, tuple(_stamped_between(store, before, after)))


def _stamped_between(store: Store, before: datetime, after: datetime) -> Iterator[Column[Any]]:
    """Every column whose values are all times from `before` to `after`: what the clock wrote."""
    with store.read() as session:
        for table in SQLModel.metadata.sorted_tables:
            for column in table.columns:
                values = [v for v in session.execute(select(column)).scalars() if v is not None]
                if values and all(isinstance(v, datetime) and before <= v <= after for v in values):
                    yield column


def _untouched(store: Store) -> bool:
    """Whether nothing has been written to the in-memory `store` since it was made."""
    return _changes(store) == 0


@pytest.fixture
def chat(ctx: Context) -> Callable[..., ConsoleChannel]:
    """`chat(email)` opens a terminal conversation as that person."""

    def open_chat(email: str, conversation: str = "console") -> ConsoleChannel:
        return ConsoleChannel(ctx, email, conversation)

    return open_chat


@dataclass
class RecordingMessenger:
    """A real `Messenger` that keeps what it was asked to send."""

    posts: list[tuple[str, Reply]] = field(default_factory=list)
    dms: list[tuple[str, Reply]] = field(default_factory=list)
    unreachable: set[str] = field(default_factory=set)

    async def post(self, channel: str, reply: Reply) -> None:
        self.posts.append((channel, reply))

    async def dm(self, person: str, reply: Reply) -> None:
        if person in self.unreachable:
            raise Unreachable(person)
        self.dms.append((person, reply))


@pytest.fixture
def messenger() -> RecordingMessenger:
    return RecordingMessenger()
