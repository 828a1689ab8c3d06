"""Shared fixtures: the sample firm in an in-memory store, a chat, a recording Messenger."""

from __future__ import annotations

import importlib.util
import os
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

# A first-contact welcome would come before every test's first answer: the welcome's own
# tests (tests/test_nudges_chat.py) switch it back on.
os.environ.setdefault("CROSSBOT_NUDGE_WELCOME", "false")

pytest_plugins = ["tests.campaign_support"]  # the campaign tests' `clock` and `week`

REPO = Path(__file__).resolve().parent.parent
SAMPLE_CONTENT = REPO / "content"
PRIYA = "priya.shah@hartwellfinch.example"  # Employment, main contact of the employment card
ADMIN = "alex.morgan@hartwellfinch.example"


def load_benchmark(name: str) -> ModuleType:
    """A script from benchmarks/ imported as a module (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / f"{name}.py")
    assert spec and spec.loader
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench


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


@pytest.fixture
def store() -> Iterator[Store]:
    store = Store("sqlite://")
    yield store
    store.dispose()


@pytest.fixture
def ctx(store: Store, settings: Settings) -> Context:
    """A context over an in-memory database holding the sample firm."""
    with store.write() as session:
        load_into(session, load_catalog(SAMPLE_CONTENT))
    return Context(store, settings)


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
