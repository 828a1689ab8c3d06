"""Shared fixtures: the sample firm in an in-memory store, a chat, a recording Messenger."""

from __future__ import annotations

import atexit
import functools
import importlib.util
import os
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import time_machine

from bot.catalog import load_catalog, load_into
from bot.channels.console import ConsoleChannel
from bot.context import Context
from bot.messages import Reply, Unreachable
from bot.settings import Settings
from bot.store import Store
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
    source, copy = _migrated_template().engine.raw_connection(), store.engine.raw_connection()
    try:
        source.driver_connection.backup(copy.driver_connection)
    finally:
        copy.close()  # both back to their store's one pooled connection
        source.close()
    return store


@functools.cache
def _migrated_template() -> Store:
    """This worker's migrated in-memory database (the migrations write no rows: schema only)."""
    return Store("sqlite://")


def load_sample(store: Store) -> Store:
    """`store` with the sample firm loaded into it (again: a reload keeps what was learned)."""
    with store.write() as session:
        load_into(session, load_catalog(SAMPLE_CONTENT))
    return store


@pytest.fixture
def ctx(store: Store, settings: Settings) -> Context:
    """A context over an in-memory database holding the sample firm."""
    return Context(load_sample(store), settings)


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
