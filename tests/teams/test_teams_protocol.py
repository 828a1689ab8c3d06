"""Teams over the real Bot Framework protocol: activities in, connector calls out."""

from __future__ import annotations

from aiohttp.test_utils import TestClient
from sqlmodel import select

from bot.channels.teams import PACE_LIMITS
from bot.context import Context
from bot.messages import Button, Fact, Reply, Unreachable
from bot.store.models import ConversationRef, Person, ProcessedEvent
from tests.conftest import PRIYA
from tests.teams.conftest import BOT, FakeConnector, FakeTime, activity, channel_of

PRIYA_AAD = "5b7e2c1a-9d43-4f6e-8a21-3c0f9e7d4b18"  # her teams_id in the sample people.csv
SAM = "sam.patel@hartwellfinch.example"
SAM_AAD = "9f0c1d2e-0000-4000-8000-00000000sam1"
CHANNEL = "19:cross-selling@thread.tacv2"


async def post(bot: TestClient, body: dict, headers: dict | None = None) -> int:
    response = await bot.post("/api/messages", json=body, headers=headers or {})
    return response.status


def refs(ctx: Context) -> dict[str, ConversationRef]:
    with ctx.store.read() as session:
        rows = session.exec(select(ConversationRef).where(ConversationRef.platform == "teams"))
        return {row.key: row for row in rows}


async def test_personal_message_answers_who_does(bot, connector: FakeConnector, ctx) -> None:
    body = activity(connector, user_id="29:priya", aad=PRIYA_AAD, text="who does employment law?")
    assert await post(bot, body) in (200, 201)

    [sent] = connector.activities
    assert sent["conversation"] == "a:personal-chat-29:priya"
    assert sent["reply_to"] == body["id"]
    [card] = connector.cards()
    assert card["version"] == "1.5"
    text = " ".join(block.get("text", "") for block in card["body"])
    assert "Employment law" in text and "Priya Shah" in text
    show = next(a for a in card["actions"] if a["data"]["action"] == "card.show")
    assert show["type"] == "Action.Submit" and show["data"]["card"]
    assert connector.member_lookups == []  # known by AAD object id: no roster call
    assert PRIYA in refs(ctx)
