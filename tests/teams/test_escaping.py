"""User text never becomes live formatting in Teams: a client name is shown as typed."""

from __future__ import annotations

import json

from aiohttp.test_utils import TestClient

from tests.conftest import ADMIN, PRIYA
from tests.teams.conftest import FakeConnector, activity

EVIL = "[Re-verify your Slack login](https://evil.example/login) Ltd"
SAM = "sam.patel@hartwellfinch.example"
NADIA = "nadia.brooks@hartwellfinch.example"  # the other admin


async def _say(bot: TestClient, connector: FakeConnector, email: str, **fields) -> None:
    body = activity(connector, user_id=f"29:{email}", name=email, **fields)
    assert (await bot.post("/api/messages", json=body)).status in (200, 201)


async def test_a_client_name_with_a_link_reaches_receiver_and_admins_inert(
    bot: TestClient, connector: FakeConnector
) -> None:
    for email in (SAM, ADMIN, NADIA):  # so that Crossbot can reach them later
        await _say(bot, connector, email, text="hello")
    connector.activities.clear()
    form = {
        "action": "referral.submit",
        "client": EVIL,
        "receiver": SAM,
        "service": "tax",
        "note": "*urgent* _now_ `code`",
    }

    await _say(bot, connector, PRIYA, value=form)

    by_conversation: dict[str, str] = {}
    for sent in connector.activities:
        by_conversation.setdefault(sent["conversation"], "")
        by_conversation[sent["conversation"]] += json.dumps(sent["activity"], ensure_ascii=False)
    for email in (SAM, ADMIN, NADIA):
        seen = by_conversation[f"a:personal-chat-29:{email}"]
        assert "Re-verify your Slack login" in seen  # the name, as typed...
        assert "](https://evil.example" not in seen  # ...never a markdown link
    receiver = by_conversation[f"a:personal-chat-29:{SAM}"]
    assert "urgent" in receiver
    assert "*urgent*" not in receiver and "_now_" not in receiver and "`code`" not in receiver
