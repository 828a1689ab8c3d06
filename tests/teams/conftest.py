"""A local fake Bot Connector and helpers that post real Bot Framework activities."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.channels.teams import TEAMS_KEY, TeamsChannel
from bot.context import Context
from bot.server import build_app

BOT = {"id": "28:crossbot-bot-id", "name": "Crossbot"}
TENANT = "tenant-0001"


@dataclass
class FakeConnector:
    """Records every call the bot makes to the Bot Connector REST API (`/v3/...`)."""

    activities: list[dict[str, Any]] = field(default_factory=list)
    created: list[dict[str, Any]] = field(default_factory=list)
    member_lookups: list[str] = field(default_factory=list)
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: list[int] = field(default_factory=list)  # statuses to answer before success
    failed: list[int] = field(default_factory=list)
    stall: int = 0  # posts to answer never (as a connector that hangs), not delivered
    stalled: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{cid}/activities", self._activity)
        app.router.add_post("/v3/conversations/{cid}/activities/{reply_to}", self._activity)
        app.router.add_get("/v3/conversations/{cid}/members/{uid}", self._member)
        return app

    def add_member(self, user_id: str, email: str, name: str, aad: str) -> None:
        self.members[user_id] = {
            "id": user_id,
            "name": name,
            "aadObjectId": aad,
            "email": email,
            "userPrincipalName": email,
            "tenantId": TENANT,
        }

    def texts(self) -> list[str]:
        return [a["activity"].get("text") or "" for a in self.activities]

    def cards(self) -> list[dict[str, Any]]:
        return [
            att["content"]
            for a in self.activities
            for att in a["activity"].get("attachments") or []
            if att.get("contentType") == "application/vnd.microsoft.card.adaptive"
        ]

    def _fail(self) -> web.Response | None:
        if self.failures:
            status = self.failures.pop(0)
            self.failed.append(status)
            return web.json_response({"error": {"code": "Throttled"}}, status=status)
        return None

    async def _activity(self, request: web.Request) -> web.Response:
        failure = self._fail()
        if failure is not None:
            return failure
        body = await request.json()
        if self.stall:
            self.stall -= 1
            self.stalled.append(body)
            await asyncio.Event().wait()  # until the server closes
        self.activities.append(
            {
                "authorization": request.headers.get("Authorization"),
                "conversation": request.match_info["cid"],
                "reply_to": request.match_info.get("reply_to"),
                "activity": body,
            }
        )
        return web.json_response({"id": f"sent-{next(self._ids)}"}, status=201)

    async def _create(self, request: web.Request) -> web.Response:
        failure = self._fail()
        if failure is not None:
            return failure
        body = await request.json()
        self.created.append(body)
        return web.json_response({"id": f"a:personal-{next(self._ids)}"}, status=201)

    async def _member(self, request: web.Request) -> web.Response:
        uid = request.match_info["uid"]
        self.member_lookups.append(uid)
        if uid not in self.members:
            return web.json_response({"error": {"code": "MemberNotFound"}}, status=404)
        return web.json_response(self.members[uid])


@dataclass
class FakeTime:
    """An injectable clock and sleep: sleeping moves the clock, never waits."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    fake = FakeConnector()
    server = TestServer(fake.app(), port=0)
    await server.start_server()
    fake.url = str(server.make_url("/"))
    yield fake
    await server.close()


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
async def bot(ctx: Context, fake_time: FakeTime) -> AsyncIterator[TestClient]:
    """The real server (`build_app`) in Teams emulator mode, on a fake clock."""
    ctx.settings.teams_emulator = True
    client = await serve_teams(ctx, fake_time)
    yield client
    await client.close()


async def serve_teams(ctx: Context, fake_time: FakeTime) -> TestClient:
    """The real server for `ctx` started on a free port, pacing and retrying on `fake_time`."""
    app = build_app(ctx)
    app[TEAMS_KEY].pacer.clock = fake_time.clock
    app[TEAMS_KEY].pacer.sleep = fake_time.sleep
    app[TEAMS_KEY].retry.sleep = fake_time.sleep
    client = TestClient(TestServer(app, port=0))
    await client.start_server()
    return client


def channel_of(client: TestClient) -> TeamsChannel:
    return client.app[TEAMS_KEY]


_activity_ids = itertools.count(1)


def activity(
    connector: FakeConnector,
    *,
    user_id: str,
    text: str | None = None,
    conversation: str | None = None,
    kind: str = "personal",
    value: dict[str, Any] | None = None,
    aad: str | None = None,
    name: str = "A Person",
    type_: str = "message",
    activity_id: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A Bot Framework activity as Teams posts it to `/api/messages`."""
    conversation_id = conversation or f"a:personal-chat-{user_id}"
    body: dict[str, Any] = {
        "type": type_,
        "id": activity_id or f"act-{next(_activity_ids)}",
        "timestamp": "2026-11-25T10:00:00.000Z",
        "serviceUrl": connector.url,
        "channelId": "msteams",
        "from": {"id": user_id, "name": name, **({"aadObjectId": aad} if aad else {})},
        "conversation": {
            "id": conversation_id,
            "conversationType": kind,
            "tenantId": TENANT,
            **({"isGroup": True} if kind != "personal" else {}),
        },
        "recipient": BOT,
        "channelData": {"tenant": {"id": TENANT}},
    }
    if text is not None:
        body["text"] = text
    if value is not None:
        body["value"] = value
    body.update(extra)
    return body
