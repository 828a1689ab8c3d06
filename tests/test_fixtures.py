"""The shared fixtures' shortcuts give exactly what the long way gives."""

from __future__ import annotations

from datetime import UTC, datetime

import time_machine
from sqlmodel import select

from bot.context import Context
from bot.settings import Settings
from bot.store import Store
from bot.store.engine import _at_head
from bot.store.models import Person, Referral
from tests.conftest import copy_sample_firm, load_sample, migrated_memory, write_or_copy
from tests.dashboard_driver import seed_demo_activity

EARLIER = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 23, 17, 30, tzinfo=UTC)


def _dump(store: Store) -> list[str]:
    connection = store.engine.raw_connection()
    try:
        return list(connection.driver_connection.iterdump())
    finally:
        connection.close()


def test_a_copied_migrated_store_is_a_migrated_one() -> None:
    migrated = Store("sqlite://")
    copied = migrated_memory()
    assert _at_head(copied.engine)
    assert _dump(copied) == _dump(migrated)


def test_the_copied_sample_firm_is_what_loading_it_writes_at_that_moment() -> None:
    with time_machine.travel(EARLIER, tick=False):
        copy_sample_firm(migrated_memory())  # the worker's template may be made now
    with time_machine.travel(LATER, tick=False):
        loaded = load_sample(migrated_memory())
        copied = migrated_memory()
        copy_sample_firm(copied)
    assert _dump(copied) == _dump(loaded)
    with copied.read() as session:
        assert {p.created_at for p in session.exec(select(Person))} == {LATER}


def test_the_copied_demo_activity_is_what_seeding_it_writes(settings: Settings) -> None:
    stores = migrated_memory(), migrated_memory()
    with time_machine.travel(EARLIER, tick=False):  # the ctx fixture, before the clock stops
        for store in stores:
            copy_sample_firm(store)
    seeded, copied = (Context(store, settings) for store in stores)
    with time_machine.travel(LATER, tick=False):
        seed_demo_activity(seeded)
        write_or_copy(copied, seed_demo_activity)
    assert _dump(copied.store) == _dump(seeded.store)
    with copied.store.read() as session:
        assert {p.created_at for p in session.exec(select(Person))} == {EARLIER}
        assert session.exec(select(Referral)).first() is not None
