"""A nudge over Teams: the daily job sends it as an Adaptive Card, and its buttons work."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from aiohttp.test_utils import TestClient
from sqlmodel import select

from bot import jobs
from bot.context import Context
from bot.store.models import Nudge, Referral
from tests import factories
from tests.conftest import PRIYA
from tests.teams.conftest import FakeConnector, activity, channel_of
from tests.teams.test_teams_protocol import PRIYA_AAD, post

SAM = "sam.patel@hartwellfinch.example"
OWEN = "owen.gallagher@hartwellfinch.example"
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


async def test_a_no_news_nudge_is_a_card_and_not_relevant_is_counted(
    bot: TestClient, connector: FakeConnector, ctx: Context
) -> None:
    with time_machine.travel(MONDAY, tick=True):
        await post(bot, activity(connector, user_id="29:priya", aad=PRIYA_AAD, text="hello"))
        connector.activities.clear()
        with ctx.store.write() as session:
            factories.referral(
                session, "Northwind Foods Ltd", SAM, PRIYA, MONDAY - timedelta(days=20), "accepted"
            )
        await jobs.send_nudges(ctx, channel_of(bot).messenger, ctx.now())

        [sent] = [a for a in connector.activities if a["conversation"].endswith("29:priya")]
        card = sent["activity"]["attachments"][0]["content"]
        text = " ".join(block.get("text", "") for block in card["body"])
        assert "Northwind Foods Ltd" in text and "no news" in text.lower()
        actions = {a["title"]: a["data"] for a in card["actions"]}
        assert list(actions) == [
            "Meeting held",
            "Proposal sent",
            "Won",
            "Lost",
            "Still going",
            "Snooze a week",
            "Not relevant",
        ]
        connector.activities.clear()
        body = activity(connector, user_id="29:priya", aad=PRIYA_AAD, value=actions["Not relevant"])
        assert await post(bot, body) in (200, 201)

    assert any("won't send this one again" in t for t in connector.texts())
    with ctx.store.read() as session:
        rows = session.exec(select(Nudge).where(Nudge.feedback == "not_relevant")).all()
        priya = factories.person(session, PRIYA)
    assert [(r.kind, r.person_id) for r in rows] == [("no_news", priya.id)]


async def test_the_consent_reminder_is_a_card_whose_go_ahead_records_consent(
    bot: TestClient, connector: FakeConnector, ctx: Context
) -> None:
    """Priya owns Brightpath; Sam's introduction of it to Owen waits on her go-ahead."""
    with time_machine.travel(MONDAY, tick=True):
        await post(bot, activity(connector, user_id="29:priya", aad=PRIYA_AAD, text="hello"))
        connector.activities.clear()
        with ctx.store.write() as session:
            row = factories.referral(
                session, "Brightpath Care Group", SAM, OWEN, MONDAY - timedelta(days=7)
            )
            row.consent = "pending"
            session.add(row)
            rid = row.id
        await jobs.send_nudges(ctx, channel_of(bot).messenger, ctx.now())

        [sent] = [a for a in connector.activities if a["conversation"].endswith("29:priya")]
        card = sent["activity"]["attachments"][0]["content"]
        text = " ".join(block.get("text", "") for block in card["body"])
        assert "gentle reminder" in text and f"#{rid}" in text
        actions = {a["title"]: a["data"] for a in card["actions"]}
        assert list(actions) == ["Go ahead", "Let's talk first", "Snooze a week", "Not relevant"]
        body = activity(connector, user_id="29:priya", aad=PRIYA_AAD, value=actions["Go ahead"])
        assert await post(bot, body) in (200, 201)

    with ctx.store.read() as session:
        referral = session.get(Referral, rid)
        nudge = session.exec(select(Nudge).where(Nudge.kind == "consent")).one()
    assert referral is not None and referral.consent == "given" and nudge.sent_at is not None
