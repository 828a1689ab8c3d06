"""`GET /healthz`: the database answers (200) or does not (503, plainly), and the inbox backlog."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import JSON, MetaData, Table, text
from sqlmodel import Session

from bot.context import Context
from bot.server import build_app
from bot.settings import Settings
from bot.store import Store, utcnow

pytestmark = pytest.mark.postgres  # also on PostgreSQL under -m slow


@asynccontextmanager
async def served(store: Store) -> AsyncIterator[TestClient]:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    async with TestClient(TestServer(build_app(Context(store, settings)), port=0)) as client:
        yield client


async def test_healthy_database_answers_ok(store: Store):
    async with served(store) as client:
        response = await client.get("/healthz")
        body = await response.json()
    assert response.status == 200
    assert body["status"] == "ok" and body["database"] == "ok"
    assert "inbox_backlog" in body


def add_inbox_items(session: Session, done: list[bool]) -> None:
    """Rows of the inbox table, whatever its other columns hold (placeholders)."""
    table = Table("inbox_item", MetaData(), autoload_with=session.connection())
    for n, finished in enumerate(done):
        row: dict[str, Any] = {"done_at": utcnow() if finished else None}
        for column in table.columns:
            if column.primary_key:  # given, as the minimal table's key is no serial on PG
                row[column.name] = n + 1
                continue
            if column.nullable or column.name in row:
                continue
            placeholders: dict[type, Any] = {str: f"item{n}", int: 0, datetime: utcnow()}
            is_json = isinstance(column.type, JSON)
            row[column.name] = {} if is_json else placeholders[column.type.python_type]
        session.execute(table.insert().values(**row))


async def test_the_inbox_backlog_counts_items_not_done(store: Store):
    with store.write() as session:
        created = not store.engine.dialect.has_table(session.connection(), "inbox_item")
        if created:  # before the durable inbox: its table, as far as the check reads it
            session.execute(
                text("CREATE TABLE inbox_item (id INTEGER PRIMARY KEY, done_at TIMESTAMP)")
            )
    try:
        with store.write() as session:
            add_inbox_items(session, [False, False, True])
        async with served(store) as client:
            body = await (await client.get("/healthz")).json()
    finally:
        if created:
            with store.write() as session:
                session.execute(text("DROP TABLE inbox_item"))
    assert body["inbox_backlog"] == 2


async def test_an_unreachable_database_is_a_503_that_names_no_path(tmp_path: Path):
    folder = tmp_path / "secret-folder"
    store = Store(f"sqlite:///{folder / 'crossbot.db'}")
    store.dispose()
    shutil.rmtree(folder)
    folder.write_text("not a directory")  # the database file can no longer be opened
    async with served(store) as client:
        response = await client.get("/healthz")
        body = await response.json()
    assert response.status == 503
    assert body["status"] == "unavailable" and body["database"] == "unavailable"
    assert "did not answer" in body["reason"]
    assert "secret-folder" not in str(body)
    store.dispose()
