"""A real `crossbot serve` process killed in the middle of a Teams turn, on PostgreSQL: after
the restart, the activity is answered exactly once (`pytest -m slow`, with
CROSSBOT_TEST_POSTGRES_URL set, as `.ci/run` does).
"""

from __future__ import annotations

import asyncio
import contextlib
import os

import aiohttp
import pytest
from sqlmodel import select

from bot.store import Store
from bot.store.models import InboxItem
from tests.conftest import REPO, SAMPLE_CONTENT, free_port
from tests.slack.test_replicas import URL, Replica, pg, until
from tests.teams.conftest import FakeConnector, activity
from tests.teams.test_teams_protocol import PRIYA_AAD

pytestmark = pytest.mark.slow
__all__ = ["pg"]  # the PostgreSQL fixture, shared with the Slack replicas test


def _teams_items(store: Store) -> list[InboxItem]:
    with store.read() as session:
        return list(session.exec(select(InboxItem).where(InboxItem.platform == "teams")))


async def test_sigkill_mid_turn_then_restart_answers_once(
    pg: Store, connector: FakeConnector
) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CROSSBOT_"))},
        "PYTHONPATH": str(REPO),
        "CROSSBOT_DATABASE_URL": URL,
        "CROSSBOT_CONTENT_DIR": str(SAMPLE_CONTENT),
        "CROSSBOT_TEAMS_EMULATOR": "true",  # no app id: the Bot Framework without tokens
        "CROSSBOT_INBOX_LEASE_SECONDS": "3",
        "CROSSBOT_INBOX_POLL_SECONDS": "0.2",
    }
    replica = Replica(free_port(), env)
    body = activity(connector, user_id="29:priya", aad=PRIYA_AAD, text="who does employment law?")
    async with aiohttp.ClientSession() as http:
        replica.start()
        try:
            await replica.ready(http)
            connector.stall = 1  # the answer is on its way when the process dies
            asking = asyncio.ensure_future(http.post(f"{replica.url}/api/messages", json=body))

            async def sending() -> bool:
                return bool(connector.stalled)

            await until(sending)
            replica.kill()
            with contextlib.suppress(aiohttp.ClientError):
                await asking
            assert connector.activities == []
            assert [item.done_at for item in _teams_items(pg)] == [None]

            replica.start()  # the restart: its inbox worker takes over the lapsed claim
            await replica.ready(http)

            async def answered() -> bool:
                items = await asyncio.to_thread(_teams_items, pg)
                return all(item.done_at is not None for item in items)

            await until(answered)
        finally:
            replica.stop()

    # The turn's replies, each once, as replies to the message: the first-time welcome (the
    # send the process died in, so never delivered) and then the answer.
    welcome, answer = connector.activities
    assert all(
        sent["conversation"] == body["conversation"]["id"] and sent["reply_to"] == body["id"]
        for sent in (welcome, answer)
    )
    assert welcome["activity"]["text"] == connector.stalled[0]["text"]
    assert "Employment law" in str(answer["activity"])
