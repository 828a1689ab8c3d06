"""With an app id configured, only requests signed by the Bot Framework get in."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.context import Context
from bot.server import build_app
from bot.settings import Settings
from tests.teams.conftest import FakeConnector, activity

APP_ID = "6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b"


@pytest.fixture
async def secured(ctx: Context) -> AsyncIterator[TestClient]:
    settings = Settings(_env_file=None, MicrosoftAppId=APP_ID, MicrosoftAppPassword="s3cret")  # type: ignore[call-arg]
    client = TestClient(TestServer(build_app(Context(ctx.store, settings)), port=0))
    await client.start_server()
    yield client
    await client.close()


@pytest.mark.parametrize(
    "headers",
    [
        {},  # unsigned
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
    ],
)
async def test_unsigned_or_invalid_requests_are_rejected(
    secured: TestClient, connector: FakeConnector, headers: dict[str, str]
) -> None:
    body = activity(connector, user_id="29:priya", text="who does employment law?")
    response = await secured.post("/api/messages", json=body, headers=headers)

    assert response.status == 401
    assert connector.activities == []


async def test_bad_requests_are_refused_kindly(bot: TestClient) -> None:
    not_json = await bot.post("/api/messages", data="hello", headers={"Content-Type": "text/plain"})
    broken = await bot.post(
        "/api/messages", data="{not json", headers={"Content-Type": "application/json"}
    )
    assert not_json.status == 415
    assert broken.status == 400
