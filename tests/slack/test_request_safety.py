"""Replayed and malformed Slack requests: processed once, or refused with 400, never 500."""

from __future__ import annotations

import time

import pytest
from sqlmodel import select

from bot.context import Context
from bot.store.models import Idea
from tests.slack.conftest import PRIYA_ID, SlackDriver, sign
from tests.slack.payloads import button_payload, command_body, interaction_body

FORM = "application/x-www-form-urlencoded"


def _idea_command(slack: SlackDriver) -> str:
    words = "Northwind might need R&D tax relief for their new plant"
    response_url = slack.fake.response_url("cmd-idea")
    return command_body("/idea", words, PRIYA_ID, "C1", "trigger.idea", response_url)


async def _send(slack: SlackDriver, body: str, headers: dict[str, str]) -> int:
    response = await slack.client.post("/slack/events", data=body, headers=headers)
    await slack.settle()
    return response.status


async def test_three_copies_of_one_signed_command_create_one_idea(
    slack: SlackDriver, ctx: Context
) -> None:
    body = _idea_command(slack)
    headers = {"Content-Type": FORM, **sign(body)}

    statuses = [await _send(slack, body, headers) for _ in range(3)]

    assert statuses == [200, 200, 200]  # Slack is acknowledged each time...
    with ctx.store.read() as session:
        assert len(session.exec(select(Idea)).all()) == 1  # ...and the idea is recorded once
    assert len(slack.fake.responses) == 1


async def test_a_replayed_button_press_runs_once(slack: SlackDriver) -> None:
    response_url = slack.fake.response_url("btn-replay")
    body = interaction_body(button_payload("referral.mine", {}, PRIYA_ID, "t.1", response_url))
    headers = {"Content-Type": FORM, **sign(body)}

    for _ in range(2):
        assert await _send(slack, body, headers) == 200

    assert len(slack.fake.of("chat.postMessage")) == 1


async def test_the_same_command_sent_again_later_is_a_new_command(slack: SlackDriver) -> None:
    """A person may well run `/whodoes tax` twice: only an identical signed copy is a replay."""
    response_url = slack.fake.response_url("again")
    body = command_body("/whodoes", "tax", PRIYA_ID, "C1", "trigger.again", response_url)
    now = int(time.time())
    await _send(slack, body, {"Content-Type": FORM, **sign(body, now - 2)})
    await _send(slack, body, {"Content-Type": FORM, **sign(body, now)})

    assert len(slack.fake.responses) == 2


@pytest.mark.parametrize(
    ("body", "content_type", "timestamp"),
    [
        ("command=%2Fwhodoes&text=tax", FORM, "yesterday"),
        ("{not json", "application/json", None),
        ('["a", "list"]', "application/json", None),
        ("payload=%7Bnot-json", FORM, None),
        ("payload=%5B1%2C2%5D", FORM, None),
        ('payload={"type":"view_submission","view":{"id":"V1"}}', FORM, None),
    ],
)
async def test_bad_requests_get_400_with_a_reason(
    slack: SlackDriver, body: str, content_type: str, timestamp: str | None
) -> None:
    headers = {"Content-Type": content_type, **sign(body)}
    if timestamp is not None:
        headers["X-Slack-Request-Timestamp"] = timestamp

    response = await slack.client.post("/slack/events", data=body, headers=headers)

    assert response.status == 400
    assert (await response.text()).strip()  # a short reason
    assert slack.fake.calls == []


async def test_an_unsigned_request_is_still_refused(slack: SlackDriver) -> None:
    body = _idea_command(slack)
    headers = {"Content-Type": FORM, **sign(body, secret="not-the-secret")}

    assert await _send(slack, body, headers) == 401


async def test_an_out_of_range_id_in_a_button_cannot_be_found(slack: SlackDriver) -> None:
    assert await slack.press("referral.accept", {"id": 2**63}) == (200, "")

    [posted] = slack.fake.of("chat.postMessage")
    assert "can't find that" in posted["text"]
    assert "went wrong" not in posted["text"]


@pytest.mark.parametrize("body", ["payload=%7Bnot-json", "{not json", "command=%2Fidea"])
async def test_unsigned_junk_is_refused_not_crashed(slack: SlackDriver, body: str) -> None:
    headers = {"Content-Type": FORM, **sign(body, secret="not-the-secret")}

    response = await slack.client.post("/slack/events", data=body, headers=headers)

    assert response.status == 401
