"""Signatures, retries, rate limits, pacing, failures and logs."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from urllib.parse import urlencode

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.channels import slack as slack_channel
from bot.context import Context
from bot.messages import Reply, Unreachable
from bot.server import build_app
from bot.settings import Settings
from tests.slack.conftest import (
    PRIYA,
    PRIYA_DM,
    PRIYA_ID,
    SECRET,
    TOKEN,
    FakePacer,
    Probe,
    SlackDriver,
    sign,
)
from tests.slack.fake_slack import FakeSlack

COMMAND = urlencode(
    {
        "command": "/whodoes",
        "text": "TUPE",
        "user_id": PRIYA_ID,
        "channel_id": "C1",
        "team_id": "T0001",
        "response_url": "http://127.0.0.1:9/never",
        "trigger_id": "t",
    }
)
FORM = "application/x-www-form-urlencoded"


async def _post(slack: SlackDriver, headers: dict[str, str]) -> int:
    response = await slack.client.post(
        "/slack/events", data=COMMAND, headers={"Content-Type": FORM, **headers}
    )
    await slack.settle()
    return response.status


async def test_a_bad_signature_is_refused(slack: SlackDriver) -> None:
    status = await _post(slack, sign(COMMAND, secret="not-the-secret"))

    assert status == 401
    assert slack.fake.calls == [] and slack.fake.responses == []


async def test_a_stale_timestamp_is_refused(slack: SlackDriver) -> None:
    ten_minutes_ago = int(time.time()) - 600

    status = await _post(slack, sign(COMMAND, timestamp=ten_minutes_ago))

    assert status == 401
    assert slack.fake.calls == []


async def test_a_request_without_signature_headers_is_refused(slack: SlackDriver) -> None:
    assert await _post(slack, {}) == 401


async def test_a_rate_limited_post_is_retried_after_retry_after(slack: SlackDriver) -> None:
    slack.fake.fail_next("chat.postMessage", status=429, times=2, retry_after=0)

    await slack.dm("who does TUPE?")

    assert slack.fake.attempts("chat.postMessage") == [429, 429, 200]
    [posted] = slack.fake.of("chat.postMessage")
    assert posted["channel"] == PRIYA_DM


async def test_a_server_error_is_retried_with_backoff(slack: SlackDriver) -> None:
    slack.fake.fail_next("chat.postMessage", status=500, times=2)

    await slack.dm("who does TUPE?")

    assert slack.fake.attempts("chat.postMessage") == [500, 500, 200]


async def test_a_rate_limited_response_url_is_retried(slack: SlackDriver) -> None:
    slack.fake.fail_next("response_url", status=429, retry_after=0)

    await slack.command("/whodoes", "TUPE")

    assert len(slack.fake.responses) == 1


async def test_when_slack_keeps_failing_the_person_gets_an_apology(
    slack: SlackDriver, caplog: pytest.LogCaptureFixture
) -> None:
    slack.fake.fail_next(
        "chat.postMessage", status=500, times=slack_channel.SERVER_ERROR_RETRIES + 1
    )

    await slack.dm("who does TUPE?")

    assert slack.fake.attempts("chat.postMessage")[-1] == 200
    [apology] = slack.fake.of("chat.postMessage")
    assert "something went wrong" in apology["blocks"][0]["text"]["text"]
    assert "slack turn failed: SlackApiError" in caplog.text


async def test_the_ack_comes_before_the_work(slack: SlackDriver) -> None:
    body = urlencode(
        {
            "command": "/whodoes",
            "text": "TUPE",
            "user_id": PRIYA_ID,
            "channel_id": "C1",
            "response_url": slack.fake.response_url("late"),
        }
    )
    response = await slack.client.post(
        "/slack/events", data=body, headers={"Content-Type": FORM, **sign(body)}
    )

    assert response.status == 200
    assert slack.fake.responses == []  # acked with nothing; the answer follows
    await slack.settle()
    assert [name for name, _ in slack.fake.responses] == ["late"]


async def test_logs_hold_no_token_and_no_message_text(
    slack: SlackDriver, caplog: pytest.LogCaptureFixture, probe: Probe
) -> None:
    caplog.set_level(logging.DEBUG)
    probe.replies = [Reply("Acme Holdings referral worth £20k", to_person="nobody@x.example")]
    slack.fake.fail_next("chat.postMessage", status=429, retry_after=0)

    await slack.dm("probe secret client Acme Holdings")
    await slack.command("/crossbot", "probe Acme Holdings")

    assert slack.fake.of("chat.postMessage")
    for forbidden in (TOKEN, SECRET, "Acme", "20k", "/respond/"):
        assert forbidden not in caplog.text


async def test_the_messenger_reports_unknown_channels_as_unreachable(
    slack: SlackDriver,
) -> None:
    messenger = slack.channel.messenger
    slack.fake.missing_channels.add("CGONE")
    with pytest.raises(Unreachable):
        await messenger.post("CGONE", Reply("hello"))
    with pytest.raises(Unreachable):
        await messenger.dm("nobody@hartwellfinch.example", Reply("hello"))
    await messenger.dm(PRIYA, Reply("hello"))
    assert [p["channel"] for p in slack.fake.of("chat.postMessage")] == [PRIYA_DM]


async def test_the_pacer_allows_a_short_burst_then_one_post_a_second_per_channel() -> None:
    pacer = FakePacer()
    burst = slack_channel.PACE_BURST

    for channel in ["C1"] * burst + ["C2"] + ["C1"] * 2:
        await pacer.wait(channel)

    assert pacer.slept == [1.0, 1.0]  # C1's posts past the burst; C2 never waits
    pacer.now += 5
    for _ in range(burst):
        await pacer.wait("C1")
    assert pacer.slept == [1.0, 1.0]  # a quiet channel has its whole burst again


async def test_an_answer_goes_before_the_notices_queued_in_its_channel() -> None:
    pacer = FakePacer()
    order: list[str] = []

    async def post(name: str, answer: bool = False) -> None:
        await pacer.wait("D1", answer)
        order.append(name)

    for _ in range(slack_channel.PACE_BURST):
        await pacer.wait("D1")  # the burst is spent
    await asyncio.gather(post("notice 1"), post("notice 2"), post("answer", answer=True))

    assert order == ["answer", "notice 1", "notice 2"]
    assert pacer.slept == [1.0, 1.0, 1.0]  # still one post a second


async def test_the_server_mounts_slack_when_configured(
    ctx: Context, slack_settings: Settings, fake: FakeSlack
) -> None:
    app = build_app(Context(ctx.store, slack_settings))
    channel = app[slack_channel.SLACK_CHANNEL]
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        body = json.dumps({"type": "url_verification", "challenge": "abc", "token": "x"})
        response = await client.post(
            "/slack/events",
            data=body,
            headers={"Content-Type": "application/json", **sign(body)},
        )
        assert response.status == 200
        assert (await response.json())["challenge"] == "abc"
        assert channel.client.session is not None  # one shared HTTP session
        handlers = channel.client.retry_handlers
        limits = [h for h in handlers if type(h).__name__ == "AsyncRateLimitErrorRetryHandler"]
        assert limits and limits[0].max_retry_count > 1
        assert channel.client.base_url == fake.api_url
    finally:
        await client.close()


def test_without_slack_settings_there_is_no_slack_route(ctx: Context) -> None:
    app = build_app(ctx)

    assert slack_channel.SLACK_CHANNEL not in app
    assert all(r.resource.canonical != "/slack/events" for r in app.router.routes() if r.resource)


async def test_an_expired_response_url_falls_back_to_the_dm(slack: SlackDriver) -> None:
    slack.fake.fail_next("response_url", status=404)

    await slack.command("/whodoes", "TUPE")

    assert slack.fake.responses == []
    [posted] = slack.fake.of("chat.postMessage")
    assert posted["channel"] == PRIYA_DM
    assert "Employment" in posted["blocks"][0]["text"]["text"]


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        ({"SLACK_SIGNING_SECRET": SECRET}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": TOKEN, "SLACK_APP_TOKEN": TOKEN}, "SLACK_APP_TOKEN"),
    ],
)
def test_settings_that_cannot_work_leave_slack_out_and_say_why(
    ctx: Context, caplog: pytest.LogCaptureFixture, settings: dict[str, str], says: str
) -> None:
    broken = Settings(_env_file=None, **settings)  # type: ignore[arg-type]

    app = build_app(Context(ctx.store, broken))

    assert slack_channel.SLACK_CHANNEL not in app
    assert says in caplog.text
    assert TOKEN not in caplog.text and SECRET not in caplog.text


async def test_a_standalone_messenger_sends_without_a_server(
    ctx: Context, slack_settings: Settings, fake: FakeSlack
) -> None:
    """What the digest and nudges use from a CLI process: no Bolt app, no aiohttp server."""
    pacer = FakePacer()
    messenger = slack_channel.SlackMessenger.for_context(
        Context(ctx.store, slack_settings), pacer=pacer
    )

    wins = [f"Win {n}" for n in range(slack_channel.PACE_BURST + 1)]
    for win in wins:
        await messenger.post("CDIGEST", Reply(win))
    await messenger.dm(PRIYA, Reply("A nudge"))

    posts = [(p["channel"], p["text"]) for p in fake.of("chat.postMessage")]
    assert posts == [("CDIGEST", win) for win in wins] + [(PRIYA_DM, "A nudge")]
    assert pacer.slept == [1.0]  # the digest channel's post past the burst waited its turn
