"""A nudge over Teams: the daily job sends it as an Adaptive Card, and its buttons work."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
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
from tests.test_nudges import CONSENT_BUTTONS, NO_NEWS_BUTTONS

SAM = "sam.patel@hartwellfinch.example"
OWEN = "owen.gallagher@hartwellfinch.example"
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


CardTo = Callable[..., Awaitable[tuple[str, dict[str, Any], int]]]


@pytest.fixture
def card_to_priya(bot: TestClient, connector: FakeConnector, ctx: Context) -> CardTo:
    """Priya has said hello (so the bot can reach her); with `factories.referral(session,
    *referral, **options)` written, the daily job's card to her: its text, its actions by
    title, and the referral's id."""

    async def card(*referral: Any, **options: Any) -> tuple[str, dict[str, Any], int]:
        await post(bot, activity(connector, user_id="29:priya", aad=PRIYA_AAD, text="hello"))
        connector.activities.clear()
        rid = factories.referral_id(ctx, *referral, **options)
        await jobs.send_nudges(ctx, channel_of(bot).messenger, ctx.now())
        [sent] = [a for a in connector.activities if a["conversation"].endswith("29:priya")]
        content = sent["activity"]["attachments"][0]["content"]
        text = " ".join(block.get("text", "") for block in content["body"])
        return text, {a["title"]: a["data"] for a in content["actions"]}, rid

    return card


async def test_a_no_news_nudge_is_a_card_and_not_relevant_is_counted(
    bot: TestClient, connector: FakeConnector, ctx: Context, card_to_priya: CardTo
) -> None:
    with time_machine.travel(MONDAY, tick=True):
        text, actions, _ = await card_to_priya(
            "Northwind Foods Ltd", SAM, PRIYA, MONDAY - timedelta(days=20), "accepted"
        )
        assert "Northwind Foods Ltd" in text and "no news" in text.lower()
        assert list(actions) == NO_NEWS_BUTTONS
        connector.activities.clear()
        body = activity(connector, user_id="29:priya", aad=PRIYA_AAD, value=actions["Not relevant"])
        assert await post(bot, body) in (200, 201)

    assert any("won't send this one again" in t for t in connector.texts())
    with ctx.store.read() as session:
        rows = session.exec(select(Nudge).where(Nudge.feedback == "not_relevant")).all()
        priya = factories.person(session, PRIYA)
    assert [(r.kind, r.person_id) for r in rows] == [("no_news", priya.id)]


async def test_the_consent_reminder_is_a_card_whose_go_ahead_records_consent(
    bot: TestClient, connector: FakeConnector, ctx: Context, card_to_priya: CardTo
) -> None:
    """Priya owns Brightpath; Sam's introduction of it to Owen waits on her go-ahead."""
    with time_machine.travel(MONDAY, tick=True):
        text, actions, rid = await card_to_priya(
            "Brightpath Care Group", SAM, OWEN, MONDAY - timedelta(days=7), consent="pending"
        )
        assert "gentle reminder" in text and f"#{rid}" in text
        assert list(actions) == CONSENT_BUTTONS
        body = activity(connector, user_id="29:priya", aad=PRIYA_AAD, value=actions["Go ahead"])
        assert await post(bot, body) in (200, 201)

    with ctx.store.read() as session:
        referral = session.get(Referral, rid)
        nudge = session.exec(select(Nudge).where(Nudge.kind == "consent")).one()
    assert referral is not None and referral.consent == "given" and nudge.sent_at is not None
