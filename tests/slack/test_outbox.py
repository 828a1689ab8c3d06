"""A turn that dies after saving and before its notices went out loses none of them.

Helen confirms a referral. The referral is saved and Slack takes her answer, then the
process dies while Slack is taking the receiver's notice (the fake holds that call
unanswered and the worker is ended there, as SIGKILL would end it). Another replica takes
the item over once the lease has run out: the replies stored with the referral are sent
again, those already sent are skipped, and everyone hears exactly once.

The narrower window too: Slack takes Helen's answer and the process dies before it records
that (the fake takes the post and never answers). The resumed item finds the answer's send
key in the DM's history and does not post it again.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import time_machine
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from sqlmodel import select

from bot.channels import slack as slack_channel
from bot.store.models import InboxDecision, Referral, ReferralEvent, utcnow
from tests.slack.conftest import (
    PRIYA_ID,
    FakePacer,
    SlackDriver,
    action_buttons,
    dm_channel,
    section_texts,
    sign,
)
from tests.slack.payloads import button_payload, interaction_body
from tests.slack.test_referral_flows import HELEN_ID, NIKHIL_ID, Inboxes, cast, text

__all__ = ["cast"]  # the referral scene's people, as in its own tests
pytestmark = pytest.mark.postgres  # also on PostgreSQL under -m slow


async def _confirm_prompt(slack: SlackDriver, inboxes: Inboxes) -> dict[str, Any]:
    await slack.dm("I've introduced Acme to Priya for their TUPE issue, maybe £12,345", HELEN_ID)
    [*_, ask] = inboxes.new()[HELEN_ID]
    return ask


def _press_body(slack: SlackDriver, message: dict[str, Any], label: str) -> str:
    [button] = [b for b in action_buttons(message) if b["text"]["text"] == label]
    response_url = slack.fake.response_url("outbox")
    payload = button_payload(
        button["action_id"], button["value"], HELEN_ID, "trigger.outbox", response_url
    )
    return interaction_body(payload)


async def _post_raw_form(slack: SlackDriver, body: str) -> int:
    """A signed interaction, without waiting for the work it starts."""
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
    response = await slack.client.post("/slack/events", data=body, headers=headers)
    return response.status


async def _dies_while_slack_takes_the_second_post(slack: SlackDriver, body: str) -> None:
    """Press, let the worker save and post once, then end it inside its second post."""
    slack.fake.hold("chat.postMessage", nth=2)
    await _press_and_die(slack, body)


async def _dies_after_slack_took_the_first_post(slack: SlackDriver, body: str) -> None:
    """Press; Slack takes the first post, and the worker ends before it hears so."""
    slack.fake.take_and_hold("chat.postMessage", nth=1)
    await _press_and_die(slack, body)


async def _press_and_die(slack: SlackDriver, body: str) -> None:
    assert await _post_raw_form(slack, body) == 200
    await asyncio.wait_for(slack.fake.held.wait(), timeout=30)
    for task in list(slack.channel.worker._tasks):  # the process is gone: nothing more runs
        task.cancel()
    await asyncio.gather(*slack.channel.worker._tasks, return_exceptions=True)


async def test_a_turn_that_died_after_saving_sends_every_notice_once_when_resumed(
    slack: SlackDriver,
) -> None:
    inboxes = Inboxes(slack)
    ask = await _confirm_prompt(slack, inboxes)

    await _dies_while_slack_takes_the_second_post(slack, _press_body(slack, ask, "Confirm"))
    before = inboxes.new()
    with slack.channel.ctx.store.read() as session:
        assert len(session.exec(select(Referral)).all()) == 1  # saved before it died
        decided = session.exec(select(InboxDecision).order_by(InboxDecision.id.desc())).first()
    assert decided is not None  # what to say was saved with it
    assert {r["kind"] for r in decided.replies} >= {"referral_new_owner"}
    assert set(before) == {HELEN_ID}  # only Helen's answer went out

    await _taken_over(slack)

    after = inboxes.new()
    assert set(after) == {PRIYA_ID, NIKHIL_ID}  # Helen's answer is not sent twice
    [offer] = after[PRIYA_ID]
    assert "Acme Logistics plc" in text(offer)
    [asked] = after[NIKHIL_ID]
    assert "your client" in text(asked)
    assert "Logged as #" in " ".join(section_texts(before[HELEN_ID][0]))
    with slack.channel.ctx.store.read() as session:
        assert len(session.exec(select(Referral)).all()) == 1
        assert len(session.exec(select(ReferralEvent)).all()) == 1


async def _taken_over(slack: SlackDriver) -> None:
    """Another replica, on the same database, resumes the item once its lease ran out."""
    other = slack_channel.SlackChannel(
        slack.channel.ctx, pacer=FakePacer(), backoff=FixedValueRetryIntervalCalculator(0)
    )
    with time_machine.travel(utcnow() + other.worker.lease * 2, tick=True):
        assert await other.worker.resume() == 1
        await other.drain()


async def _answered_then_died(slack: SlackDriver) -> tuple[Inboxes, dict[str, Any]]:
    """Helen confirms; Slack takes her answer and the worker ends before it hears so."""
    inboxes = Inboxes(slack)
    ask = await _confirm_prompt(slack, inboxes)
    await _dies_after_slack_took_the_first_post(slack, _press_body(slack, ask, "Confirm"))
    before = inboxes.new()
    assert set(before) == {HELEN_ID}  # only her answer went out before the end
    [answer] = before[HELEN_ID]
    return inboxes, answer


async def test_a_post_slack_took_before_the_process_died_is_not_posted_again(
    slack: SlackDriver,
) -> None:
    inboxes, answer = await _answered_then_died(slack)
    assert answer["metadata"]["event_type"] == slack_channel.SEND_EVENT
    assert not slack.fake.requested("conversations.history")  # the first attempt never looks

    await _taken_over(slack)

    after = inboxes.new()
    assert set(after) == {PRIYA_ID, NIKHIL_ID}  # Helen's answer is not posted again
    looked = {h["channel"] for h in slack.fake.of("conversations.history")}
    assert dm_channel(HELEN_ID) in looked  # found there, with its key
    assert "Logged as #" in " ".join(section_texts(answer))
    with slack.channel.ctx.store.read() as session:
        assert len(session.exec(select(Referral)).all()) == 1


async def test_a_post_is_sent_again_when_the_history_cannot_be_read(
    slack: SlackDriver,
) -> None:
    """The check is for doubles only: when Slack won't show the history, the resumed item
    posts again rather than risk losing the answer (at least once, never lost)."""
    inboxes, answer = await _answered_then_died(slack)
    slack.fake.refuse_next("conversations.history", "missing_scope")

    await _taken_over(slack)

    after = inboxes.new()
    assert set(after) == {HELEN_ID, PRIYA_ID, NIKHIL_ID}
    [again] = after[HELEN_ID]
    assert section_texts(again) == section_texts(answer)
    assert slack.fake.requested("conversations.history")  # it did look, and could not tell
    with slack.channel.ctx.store.read() as session:
        assert len(session.exec(select(Referral)).all()) == 1
