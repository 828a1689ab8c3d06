"""With an app id configured, only requests signed by the Bot Framework get in."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import jwt
import pytest
from aiohttp.test_utils import TestClient, TestServer
from botframework.connector.auth import AuthenticationConstants, MicrosoftAppCredentials
from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor, _OpenIdMetadata
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from sqlmodel import select

from bot.context import Context
from bot.server import build_app
from bot.settings import Settings
from bot.store import Store
from bot.store.models import ConversationRef, InboxItem
from tests.conftest import PRIYA, load_sample
from tests.teams.conftest import TENANT, FakeConnector, activity
from tests.teams.test_teams_protocol import PRIYA_AAD

APP_ID = "6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b"


@pytest.fixture
async def secured(ctx: Context) -> AsyncIterator[TestClient]:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        MicrosoftAppId=APP_ID,
        MicrosoftAppPassword="s3cret",
        MicrosoftAppTenantId=TENANT,
    )
    async with TestClient(TestServer(build_app(Context(ctx.store, settings)), port=0)) as client:
        yield client


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


@pytest.fixture
def signing_key(monkeypatch: pytest.MonkeyPatch) -> rsa.RSAPrivateKey:
    """Our own signing key, standing in for Microsoft's published keys (offline)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    metadata = _OpenIdMetadata(AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL)
    metadata.keys = [{**jwk, "kid": "test-key", "endorsements": ["msteams"]}]
    metadata.last_updated = datetime.now()
    monkeypatch.setitem(JwtTokenExtractor.metadataCache, metadata.url, metadata)
    # Outgoing calls carry the bot's own token; getting one is MSAL's job, not under test.
    monkeypatch.setattr(MicrosoftAppCredentials, "get_access_token", lambda *a, **k: "bot-token")
    return key


def channel_token(key: rsa.RSAPrivateKey, service_url: str) -> dict[str, str]:
    """The Authorization header the Bot Framework sends, vouching for `service_url`."""
    claims = {
        "iss": AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER,
        "aud": APP_ID,
        "serviceurl": service_url,
        "exp": int(time.time()) + 600,
        "nbf": int(time.time()) - 60,
    }
    token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "test-key"})
    return {"Authorization": f"Bearer {token}"}


async def test_signed_request_is_answered_with_the_bots_token(
    secured: TestClient, connector: FakeConnector, signing_key: rsa.RSAPrivateKey
) -> None:
    """The happy path with auth on, offline: our own signing key stands in for Microsoft's."""
    body = activity(connector, user_id="29:priya", aad=PRIYA_AAD, text="hello")
    headers = channel_token(signing_key, body["serviceUrl"])

    response = await secured.post("/api/messages", json=body, headers=headers)

    assert response.status in (200, 201)
    [sent] = connector.activities
    assert sent["authorization"] == "Bearer bot-token"


@pytest.mark.parametrize("service_url", ["https://evil.example/", None])
async def test_replies_go_only_to_the_service_url_the_token_vouches_for(
    secured: TestClient,
    connector: FakeConnector,
    signing_key: rsa.RSAPrivateKey,
    ctx: Context,
    service_url: str | None,
) -> None:
    """A genuine token for Teams' service URL, replayed with the caller's own address."""
    body = activity(connector, user_id="29:priya", aad=PRIYA_AAD, text="my referrals")
    headers = channel_token(signing_key, connector.url)
    if service_url is None:
        del body["serviceUrl"]
    else:
        body["serviceUrl"] = service_url

    response = await secured.post("/api/messages", json=body, headers=headers)

    assert response.status in (400, 401)
    assert connector.activities == []
    with ctx.store.read() as session:
        assert session.exec(select(InboxItem)).all() == []  # the turn never ran


async def test_a_default_server_has_no_teams_endpoint(tmp_path: Path, connector) -> None:
    """Slack only (no MicrosoftAppId, no emulator mode): an unsigned activity finds nothing."""
    store = load_sample(Store(f"sqlite:///{tmp_path / 'slack-only.db'}"))  # the scheduler runs too
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, SLACK_BOT_TOKEN="xoxb-1", SLACK_SIGNING_SECRET="s"
    )
    async with TestClient(TestServer(build_app(Context(store, settings)), port=0)) as client:
        body = activity(connector, user_id="29:x", name=PRIYA, text="my referrals")
        response = await client.post("/api/messages", json=body)
        health = await client.get("/healthz")

    assert response.status == 404 and health.status == 200
    assert connector.activities == []
    with store.read() as session:
        assert session.exec(select(ConversationRef)).all() == []
        assert not [e for e in session.exec(select(InboxItem)) if e.platform == "teams"]
    store.dispose()


async def test_emulator_mode_says_so_and_answers_this_machine_only(
    ctx: Context, connector: FakeConnector, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(_env_file=None, CROSSBOT_TEAMS_EMULATOR="true")  # type: ignore[call-arg]
    async with TestClient(TestServer(build_app(Context(ctx.store, settings)), port=0)) as client:
        body = activity(connector, user_id="29:x", name=PRIYA, text="hello")
        proxied = await client.post(
            "/api/messages", json=body, headers={"X-Forwarded-For": "203.0.113.9"}
        )
        elsewhere = await client.post(
            "/api/messages",
            json=activity(connector, user_id="29:x", name=PRIYA, serviceUrl="https://evil.example"),
        )
        local = await client.post("/api/messages", json=body)

    assert "CROSSBOT_TEAMS_EMULATOR" in caplog.text
    assert proxied.status == 403 and elsewhere.status == 400
    assert local.status in (200, 201)
    assert len(connector.activities) == 1  # only the local one was answered


def test_settings_that_cannot_work_are_reported_not_mounted(ctx: Context, caplog) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, MicrosoftAppId=APP_ID, MicrosoftAppPassword="s3cret"
    )  # SingleTenant by default, and no tenant id
    app = build_app(Context(ctx.store, settings))

    assert not any(r.resource.canonical == "/api/messages" for r in app.router.routes())
    assert "MicrosoftAppTenantId" in caplog.text
    assert "healthz" in str([r.resource.canonical for r in app.router.routes()])


async def test_junk_activities_get_400_not_500(bot: TestClient, connector: FakeConnector) -> None:
    junk = [
        {"entities": "x"},
        {"timestamp": "garbage"},
        {"recipient": "bot"},
        {"membersAdded": "x"},
        {"text": {"a": 1}},
        {"conversation": {"id": "x", "isGroup": "maybe"}},
    ]
    statuses = []
    for change in junk:
        body = {**activity(connector, user_id="29:x", name=PRIYA, text="hi"), **change}
        response = await bot.post("/api/messages", json=body)
        statuses.append((response.status, bool((await response.text()).strip())))

    assert statuses == [(400, True)] * len(junk)
    assert connector.activities == []


async def test_an_out_of_range_id_in_a_card_cannot_be_found(
    bot: TestClient, connector: FakeConnector
) -> None:
    value = {"action": "referral.accept", "id": 2**63}
    body = activity(connector, user_id="29:priya", aad=PRIYA_AAD, value=value)

    assert (await bot.post("/api/messages", json=body)).status in (200, 201)
    [sent] = connector.texts()
    assert "can't find that" in sent


def test_single_tenant_is_the_default_and_multi_tenant_still_possible() -> None:
    default = Settings(_env_file=None)  # type: ignore[call-arg]
    multi = Settings(_env_file=None, MicrosoftAppType="MultiTenant")  # type: ignore[call-arg]

    assert default.microsoft_app_type == "SingleTenant"
    assert multi.microsoft_app_type == "MultiTenant" and multi.teams_tenant_ids is None


async def test_a_single_tenant_bot_answers_only_its_own_tenant(
    secured: TestClient,
    connector: FakeConnector,
    signing_key: rsa.RSAPrivateKey,
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = activity(connector, user_id="29:priya", aad=PRIYA_AAD, text="who does employment?")
    body["channelData"] = {"tenant": {"id": "tenant-elsewhere"}}
    body["conversation"]["tenantId"] = "tenant-elsewhere"
    headers = channel_token(signing_key, body["serviceUrl"])

    response = await secured.post("/api/messages", json=body, headers=headers)

    assert response.status in (200, 201)
    assert connector.activities == [] and connector.member_lookups == []
    assert "tenant-elsewhere" in caplog.text and "CROSSBOT_TEAMS_TENANTS" in caplog.text
    assert "employment" not in caplog.text and "s3cret" not in caplog.text
