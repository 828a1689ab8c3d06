"""Socket Mode: with an app token the same Bolt app listens on Slack's WebSocket instead."""

from __future__ import annotations

import asyncio

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator

from bot.channels import slack as slack_channel
from bot.context import Context
from bot.settings import Settings
from tests.slack.conftest import PRIYA_ID, TOKEN, FakePacer
from tests.slack.fake_slack import FakeSlack

WAIT = 10  # seconds: a bound on waiting for the fake's socket, not a sleep


async def test_a_slash_command_over_socket_mode_is_acked_and_answered(
    ctx: Context, fake: FakeSlack
) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        SLACK_APP_TOKEN="xapp-test",
        SLACK_BOT_TOKEN=TOKEN,
        CROSSBOT_SLACK_API_URL=fake.api_url,
    )
    socket_ctx = Context(ctx.store, settings)
    app = web.Application()
    channel = slack_channel.SlackChannel(
        socket_ctx, pacer=FakePacer(), backoff=FixedValueRetryIntervalCalculator(0)
    )
    slack_channel.mount(app, socket_ctx, channel)
    assert all(
        r.resource is None or r.resource.canonical != "/slack/events" for r in app.router.routes()
    )

    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        await asyncio.wait_for(fake.socket_open.wait(), WAIT)
        command = {
            "command": "/whodoes",
            "text": "TUPE",
            "user_id": PRIYA_ID,
            "channel_id": "C1",
            "team_id": "T0001",
            "response_url": fake.response_url("socket"),
            "trigger_id": "trigger.s",
        }
        await fake.send_envelope("slash_commands", command, "env-1")

        ack = await asyncio.wait_for(fake.socket_acks.get(), WAIT)
        assert ack["envelope_id"] == "env-1"
        await channel.drain()
        [(name, payload)] = fake.responses
        assert name == "socket"
        assert "Employment" in payload["blocks"][0]["text"]["text"]
        assert fake.of("apps.connections.open")
    finally:
        await client.close()
