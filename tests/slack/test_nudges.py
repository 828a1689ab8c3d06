"""A nudge over Slack: the daily job DMs it through the Web API, and its buttons work."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from sqlmodel import select

from bot import jobs
from bot.context import Context
from bot.store.models import Nudge
from tests import factories
from tests.slack.conftest import PRIYA, PRIYA_DM, SAM, SlackDriver, section_texts

MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


async def test_a_no_response_nudge_is_a_dm_with_one_tap_buttons(
    slack: SlackDriver, ctx: Context
) -> None:
    with time_machine.travel(MONDAY, tick=True):
        with ctx.store.write() as session:
            factories.referral(session, "Blue Fin Hotels", SAM, PRIYA, MONDAY - timedelta(days=10))
        result = await jobs.send_nudges(ctx, slack.channel.messenger, ctx.now())
        assert result["sent"] == 1

        [posted] = slack.fake.of("chat.postMessage")
        assert posted["channel"] == PRIYA_DM
        assert "Blue Fin Hotels" in section_texts(posted)[0]
        buttons = [e for b in posted["blocks"] if b["type"] == "actions" for e in b["elements"]]
        assert [b["text"]["text"] for b in buttons] == [
            "Accept",
            "Decline",
            "Snooze a week",
            "Not relevant",
        ]
        snooze = buttons[2]
        await slack.press(snooze["action_id"], snooze["value"])

    with ctx.store.read() as session:
        [nudge] = session.exec(select(Nudge).where(Nudge.kind == "no_response")).all()
    assert nudge.feedback == "snoozed" and nudge.snoozed_until is not None
    answers = [p for p in slack.fake.of("chat.postMessage")[1:]] + [
        r for _, r in slack.fake.responses
    ]
    assert any("Snoozed" in " ".join(section_texts(a)) for a in answers)
