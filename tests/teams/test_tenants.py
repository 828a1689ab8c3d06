"""`CROSSBOT_TEAMS_TENANTS`: activities from tenants not on the list get no answer."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient

from bot.context import Context
from tests.teams.conftest import TENANT, FakeConnector, activity
from tests.teams.test_teams_protocol import PRIYA_AAD, post


def from_tenant(connector: FakeConnector, tenant: str, text: str) -> dict:
    body = activity(connector, user_id="29:priya", aad=PRIYA_AAD, text=text)
    body["channelData"] = {"tenant": {"id": tenant}}
    body["conversation"]["tenantId"] = tenant
    return body


async def test_listed_tenants_are_answered(
    bot: TestClient, connector: FakeConnector, ctx: Context
) -> None:
    ctx.settings.teams_tenants = f"tenant-other, {TENANT.upper()}"  # case and spaces don't matter

    assert await post(bot, from_tenant(connector, TENANT, "who does employment law?")) in (
        200,
        201,
    )

    assert len(connector.activities) == 1


async def test_other_tenants_are_refused_without_a_reply(
    bot: TestClient, connector: FakeConnector, ctx: Context, caplog: pytest.LogCaptureFixture
) -> None:
    ctx.settings.teams_tenants = "tenant-other"
    refused = from_tenant(connector, TENANT, "refer Acme to Owen for employment")
    no_tenant = activity(connector, user_id="29:priya", aad=PRIYA_AAD, text="help")
    del no_tenant["channelData"], no_tenant["conversation"]["tenantId"]

    assert await post(bot, refused) in (200, 201)
    assert await post(bot, no_tenant) in (200, 201)

    assert connector.activities == [] and connector.member_lookups == []
    assert caplog.text.count("not in CROSSBOT_TEAMS_TENANTS") == 2
    assert "Acme" not in caplog.text  # what was said is never logged
