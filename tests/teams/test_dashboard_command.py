"""`dashboard` typed to Crossbot in Teams: the sign-in link, in the personal chat only."""

from __future__ import annotations

import json
import re

from bot.dashboard import _auth
from bot.people import by_email
from tests.conftest import PRIYA
from tests.teams.conftest import FakeConnector, activity

PRIYA_AAD = "5b7e2c1a-9d43-4f6e-8a21-3c0f9e7d4b18"
_LINK = re.compile(r"https?://[^\s\")\]]+/dashboard/signin/[\w-]+")


async def test_the_link_comes_back_in_the_personal_chat(bot, connector: FakeConnector, ctx) -> None:
    body = activity(connector, user_id="29:priya", aad=PRIYA_AAD, text="dashboard")
    response = await bot.post("/api/messages", json=body)
    assert response.status in (200, 201)

    [sent] = connector.activities
    assert sent["conversation"] == "a:personal-chat-29:priya"
    [url] = set(_LINK.findall(json.dumps(sent)))
    with ctx.store.read() as session:
        link = _auth.check_link(session, url.rsplit("/", 1)[1], ctx.now())
        priya = by_email(session, PRIYA)
    assert priya is not None and link.person_id == priya.id
