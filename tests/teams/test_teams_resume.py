"""Teams activities left unfinished are resumed by the inbox worker, and answered once.

Teams gets its 200 whatever happens inside the turn, so the Bot Connector sends nothing
again: an activity whose turn stopped halfway (the process died, the connector failed) is
finished by the next process's worker, through the Bot Framework adapter's proactive path,
and what the first attempt already sent is not sent twice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import time_machine
from aiohttp.test_utils import TestClient, TestServer
from botbuilder.schema import Activity
from sqlmodel import select

from bot import inbox
from bot.channels.teams import TEAMS_KEY, TeamsChannel
from bot.context import Context
from bot.server import build_app
from bot.store.models import InboxItem, InboxSent, utcnow
from tests.teams.conftest import FakeConnector, FakeTime, activity
from tests.teams.test_teams_protocol import PRIYA_AAD, post


@asynccontextmanager
async def serving(ctx: Context, fake_time: FakeTime) -> AsyncIterator[TestClient]:
    """One `crossbot serve` process: the real server in emulator mode, started and stopped."""
    ctx.settings.teams_emulator = True
    app = build_app(ctx)
    channel = app[TEAMS_KEY]
    channel.pacer.clock, channel.pacer.sleep = fake_time.clock, fake_time.sleep
    channel.retry.sleep = fake_time.sleep
    async with TestClient(TestServer(app, port=0)) as client:
        yield client


async def resumed(client: TestClient) -> TeamsChannel:
    """What the worker of this process finds to resume now, done."""
    channel: TeamsChannel = client.app[TEAMS_KEY]
    await channel.resumer.resume()
    await channel.resumer.drain()
    return channel


def items(ctx: Context) -> list[InboxItem]:
    with ctx.store.read() as session:
        return list(session.exec(select(InboxItem).where(InboxItem.platform == "teams")))


def left_by_a_dead_process(ctx: Context, body: dict[str, Any], claimed_ago: timedelta) -> int:
    """The rows a process killed mid-turn leaves: the activity, stored and claimed by it."""
    stored = Activity().deserialize(body)
    key = f"{body['conversation']['id']}|{body['id']}"
    received = inbox.receive(
        ctx.store, "teams", key, stored.serialize(), "another-host:1234:dead", now=utcnow()
    )
    assert received is not None
    item_id = received.id
    with ctx.store.write() as session:
        item = session.get(InboxItem, item_id)
        assert item is not None
        item.claimed_at = utcnow() - claimed_ago
        session.add(item)
    return item_id


async def test_a_turn_stopped_halfway_is_answered_once_by_the_next_process(
    ctx: Context, connector: FakeConnector, fake_time: FakeTime
) -> None:
    body = activity(connector, user_id="29:priya", aad=PRIYA_AAD, text="who does employment law?")
    async with serving(ctx, fake_time) as first:
        connector.failures = [500]  # the answer never gets out: the turn stops there
        assert await post(first, body) in (200, 201)  # Teams was told "got it" regardless
    assert connector.activities == []
    [item] = items(ctx)
    assert item.done_at is None

    lease = ctx.settings.inbox_lease
    with time_machine.travel(utcnow() + lease + timedelta(seconds=1)):
        async with serving(ctx, fake_time) as second:  # the restart, after the lease
            await resumed(second)
            [sent] = connector.activities
            assert sent["conversation"] == body["conversation"]["id"]
            assert sent["reply_to"] == body["id"]  # the answer to the question asked
            text = str(sent["activity"])
            assert "Employment law" in text and "Owen Gallagher" in text

            # The Connector sending it again now changes nothing; nor does another look.
            assert await post(second, body) in (200, 201)
            await resumed(second)
    assert len(connector.activities) == 1
    assert items(ctx)[0].done_at is not None


async def test_a_resumed_activity_does_not_send_what_already_went_out(
    ctx: Context, connector: FakeConnector, fake_time: FakeTime
) -> None:
    body = activity(connector, user_id="29:priya", aad=PRIYA_AAD, text="who does employment law?")
    item_id = left_by_a_dead_process(ctx, body, claimed_ago=ctx.settings.inbox_lease * 2)
    with ctx.store.write() as session:  # the answer went out before the process died
        session.add(InboxSent(item_id=item_id, seq=0))

    async with serving(ctx, fake_time) as client:
        await resumed(client)

    assert connector.activities == []
    assert items(ctx)[0].done_at is not None


async def test_a_turn_still_in_hand_elsewhere_is_left_alone(
    ctx: Context, connector: FakeConnector, fake_time: FakeTime
) -> None:
    body = activity(connector, user_id="29:priya", aad=PRIYA_AAD, text="who does employment law?")
    left_by_a_dead_process(ctx, body, claimed_ago=ctx.settings.inbox_lease / 4)  # a live claim

    async with serving(ctx, fake_time) as client:
        await resumed(client)

    assert connector.activities == []
    assert items(ctx)[0].done_at is None  # still the other replica's work
