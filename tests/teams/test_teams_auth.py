"""With an app id configured, only requests signed by the Bot Framework get in."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import datetime

import jwt
import pytest
from aiohttp.test_utils import TestClient, TestServer
from botframework.connector.auth import AuthenticationConstants, MicrosoftAppCredentials
from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor, _OpenIdMetadata
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from bot.context import Context
from bot.server import build_app
from bot.settings import Settings
from tests.teams.conftest import FakeConnector, activity
from tests.teams.test_teams_protocol import PRIYA_AAD

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
    half = await bot.post("/api/messages", json={"type": "message", "text": "hi"})
    assert not_json.status == 415
    assert broken.status == 400
    assert half.status == 400  # a message with no conversation, sender or service URL


async def test_signed_request_is_answered_with_the_bots_token(
    secured: TestClient, connector: FakeConnector, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The happy path with auth on, offline: our own signing key stands in for Microsoft's."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    metadata = _OpenIdMetadata(AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL)
    metadata.keys = [{**jwk, "kid": "test-key", "endorsements": ["msteams"]}]
    metadata.last_updated = datetime.now()
    monkeypatch.setitem(JwtTokenExtractor.metadataCache, metadata.url, metadata)
    # Outgoing calls carry the bot's own token; getting one is MSAL's job, not under test.
    monkeypatch.setattr(MicrosoftAppCredentials, "get_access_token", lambda *a, **k: "bot-token")
    body = activity(connector, user_id="29:priya", aad=PRIYA_AAD, text="hello")
    claims = {
        "iss": AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER,
        "aud": APP_ID,
        "serviceurl": body["serviceUrl"],
        "exp": int(time.time()) + 600,
        "nbf": int(time.time()) - 60,
    }
    token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "test-key"})

    response = await secured.post(
        "/api/messages", json=body, headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status in (200, 201)
    [sent] = connector.activities
    assert sent["authorization"] == "Bearer bot-token"


def test_settings_that_cannot_work_are_reported_not_mounted(ctx: Context, caplog) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        MicrosoftAppId=APP_ID,
        MicrosoftAppPassword="s3cret",
        MicrosoftAppType="SingleTenant",
    )
    app = build_app(Context(ctx.store, settings))

    assert not any(r.resource.canonical == "/api/messages" for r in app.router.routes())
    assert "MicrosoftAppTenantId" in caplog.text
    assert "healthz" in str([r.resource.canonical for r in app.router.routes()])
