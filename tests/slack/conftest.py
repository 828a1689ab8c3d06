"""Slack scenarios speak the real protocol: signed HTTP requests in, Web API calls out.

`slack` is a driver for our aiohttp server with the Bolt app mounted, pointed at a local
fake of the Slack Web API (`fake`). Every request is signed the way Slack signs them;
after a request, `slack.settle()` waits for the work the server did after acking.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import count
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator

from bot.channels import slack as slack_channel
from bot.context import Context
from bot.settings import Settings
from bot.store.models import InboxItem, utcnow
from tests.slack.fake_slack import TEAM, FakeSlack
from tests.slack.payloads import (
    SECRET,
    button_payload,
    command_body,
    dm_channel,
    dm_event,
    event_envelope,
    interaction_body,
    sign,
)

TOKEN = "xoxb-test-token-0000"
# Slack ids as the sample firm's people.csv has them; Owen has none (matched by email).
PRIYA, PRIYA_ID = "priya.shah@hartwellfinch.example", "U04PSH7K2QX"
ADMIN, ADMIN_ID = "alex.morgan@hartwellfinch.example", "U02AMG8X5TC"
SAM, SAM_ID = "sam.patel@hartwellfinch.example", "U06SPT9Q1VA"
OWEN, OWEN_ID = "owen.gallagher@hartwellfinch.example", "UOWEN"
STRANGER_ID = "USTRANGER"  # a Slack user whose email is not in the firm's people list
HIDDEN_ID = "UHIDDEN"  # a Slack user whose email Slack does not show


@dataclass
class FakePacer(slack_channel.Pacer):
    """The real pacer on a fake clock: sleeping advances time instantly and is recorded."""

    now: float = 0.0
    slept: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(interval=1.0, clock=lambda: self.now, sleep=self._sleep)

    async def _sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


PRIYA_DM = dm_channel(PRIYA_ID)


def section_texts(payload: dict) -> list[str]:
    """The text of every block that has one, in order (what a person reads)."""
    return [b["text"]["text"] for b in payload["blocks"] if b.get("text")]


def action_buttons(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """Every button of a message's actions blocks, in order (none in a post without blocks)."""
    return [
        element
        for block in payload.get("blocks") or []
        if block.get("type") == "actions"
        for element in block["elements"]
    ]


@dataclass
class SlackDriver:
    """Sends what Slack would send; reads what our server did."""

    client: TestClient
    channel: slack_channel.SlackChannel
    fake: FakeSlack
    _ids: count = field(default_factory=lambda: count(1))

    async def settle(self) -> None:
        await self.channel.drain()

    async def post(
        self, body: str, content_type: str, headers: dict[str, str] | None = None
    ) -> tuple[int, str]:
        all_headers = {"Content-Type": content_type, **sign(body), **(headers or {})}
        response = await self.client.post("/slack/events", data=body, headers=all_headers)
        text = await response.text()
        await self.settle()
        return response.status, text

    async def command(
        self, command: str, text: str = "", user: str = PRIYA_ID, channel: str = "C1"
    ) -> tuple[int, str]:
        n = next(self._ids)
        response_url = self.fake.response_url(f"cmd{n}")
        body = command_body(command, text, user, channel, f"trigger.{n}", response_url)
        return await self.post(body, "application/x-www-form-urlencoded")

    def event_body(
        self, event: dict[str, Any], event_id: str | None = None, team: str = TEAM
    ) -> str:
        n = next(self._ids)
        return event_envelope(event, event_id or f"Ev{n:04d}", n, team)

    async def event(
        self,
        event: dict[str, Any],
        event_id: str | None = None,
        retry: int | None = None,
        team: str = TEAM,
    ) -> tuple[int, str]:
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        body = self.event_body(event, event_id, team)
        return await self.post(body, "application/json", headers if retry else None)

    async def dm(
        self, text: str, user: str = PRIYA_ID, team: str = TEAM, **extra: Any
    ) -> tuple[int, str]:
        """A direct message from `user` of workspace `team`; `extra` adds event fields."""
        return await self.event(dm_event(text, user, next(self._ids), **extra), team=team)

    async def interact(self, payload: dict[str, Any]) -> tuple[int, str]:
        return await self.post(interaction_body(payload), "application/x-www-form-urlencoded")

    async def press(
        self,
        action: str,
        value: dict[str, Any] | str | None = None,
        user: str = PRIYA_ID,
        container: dict[str, Any] | None = None,
        channel: str | None = None,
    ) -> tuple[int, str]:
        n = next(self._ids)
        if container is None and channel is not None:
            container = {
                "type": "message",
                "message_ts": "1700000000.000001",
                "channel_id": channel,
                "is_ephemeral": False,
            }
        response_url = self.fake.response_url(f"btn{n}")
        payload = button_payload(action, value, user, f"trigger.b{n}", response_url, container)
        return await self.interact(payload)

    async def submit(
        self, view: dict[str, Any], values: dict[str, dict[str, Any]], user: str = PRIYA_ID
    ) -> tuple[int, str]:
        """Submit a modal our server opened, with Slack's `state.values` shape."""
        submitted = {**view, "id": "VMODAL", "state": {"values": values}}
        payload = {
            "type": "view_submission",
            "team": {"id": TEAM},
            "user": {"id": user, "team_id": TEAM},
            "api_app_id": "A1",
            "trigger_id": "trigger.v1",
            "view": submitted,
        }
        return await self.interact(payload)


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    server = FakeSlack(
        users={
            PRIYA_ID: PRIYA,
            ADMIN_ID: ADMIN,
            SAM_ID: SAM,
            OWEN_ID: OWEN,
            STRANGER_ID: "someone@elsewhere.example",
            HIDDEN_ID: None,
        }
    )
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def slack_settings(fake: FakeSlack) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_BOT_TOKEN=TOKEN,
        CROSSBOT_SLACK_API_URL=fake.api_url,
    )


@pytest.fixture
def pacer() -> FakePacer:
    return FakePacer()


@pytest.fixture
async def slack(
    ctx: Context, slack_settings: Settings, fake: FakeSlack, pacer: FakePacer
) -> AsyncIterator[SlackDriver]:
    """Our server (the sample firm) with Slack mounted, a fake clock and no retry backoff."""
    driver = await started_slack(Context(ctx.store, slack_settings), fake, pacer)
    yield driver
    await driver.client.close()


async def started_slack(
    ctx: Context, fake: FakeSlack, pacer: FakePacer | None = None
) -> SlackDriver:
    """Our server on `ctx` with Slack mounted and no retry backoff, listening on a free port;
    the caller closes `driver.client` (which also stops any turn processes)."""
    app = web.Application()
    channel = slack_channel.SlackChannel(
        ctx, pacer=pacer or FakePacer(), backoff=FixedValueRetryIntervalCalculator(0)
    )
    slack_channel.mount(app, ctx, channel)
    client = TestClient(TestServer(app))
    await client.start_server()
    return SlackDriver(client, channel, fake)


@dataclass
class Probe:
    """A test feature in the router's tables: records the turns it gets, answers `replies`.

    It lets a scenario see exactly what Turn the adapter produced, and make the bot answer
    with a form, an image or a reply addressed elsewhere before any feature does so.
    """

    turns: list[Any] = field(default_factory=list)
    replies: list[Any] = field(default_factory=list)

    def on_action(self, turn: Any, ctx: Context, me: Any) -> list[Any]:
        self.turns.append(turn)
        return list(self.replies)

    def command(self, turn: Any, ctx: Context, me: Any, args: str) -> list[Any]:
        return self.on_action(turn, ctx, me)


@pytest.fixture
def probe(monkeypatch: pytest.MonkeyPatch) -> Probe:
    from bot import conversation

    found = Probe()
    # The router's tables are keyed by full action id: the probe answers each of its own.
    for action in ("probe.go", "probe.open", "probe.pick", "probe.submit"):
        monkeypatch.setitem(conversation.ACTIONS, action, found.on_action)
    monkeypatch.setitem(conversation.COMMANDS, "probe", found.command)
    return found


def left_by_a_dead_process(
    slack: SlackDriver, body: str, key: str, claimed_ago: timedelta | None
) -> int:
    """An inbox item for `body`, received five minutes ago and, `claimed_ago` (None: never
    claimed), claimed by a process that has since died."""
    now = utcnow()
    with slack.channel.ctx.store.write() as session:
        item = InboxItem(
            platform="slack",
            key=key,
            body=json.loads(body),
            claimed_by="another-host:1234:dead" if claimed_ago is not None else None,
            claimed_at=now - claimed_ago if claimed_ago is not None else None,
            attempts=1,
            received_at=now - timedelta(minutes=5),
        )
        session.add(item)
        session.flush()
        assert item.id is not None
        return item.id
