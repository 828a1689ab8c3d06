"""A nudge over Slack: the daily job DMs it through the Web API, and its buttons work."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from sqlmodel import select

from bot import jobs
from bot.context import Context
from bot.store.models import Nudge, Referral
from tests import factories
from tests.slack.conftest import (
    OWEN,
    PRIYA,
    PRIYA_DM,
    SAM,
    SAM_ID,
    SlackDriver,
    action_buttons,
    dm_channel,
    section_texts,
)
from tests.test_nudges import CONSENT_BUTTONS, NO_RESPONSE_BUTTONS

MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
SAM_DM = dm_channel(SAM_ID)


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
        buttons = action_buttons(posted)
        assert [b["text"]["text"] for b in buttons] == NO_RESPONSE_BUTTONS
        snooze = buttons[2]
        await slack.press(snooze["action_id"], snooze["value"])

    with ctx.store.read() as session:
        [nudge] = session.exec(select(Nudge).where(Nudge.kind == "no_response")).all()
    assert nudge.feedback == "snoozed" and nudge.snoozed_until is not None
    answers = [p for p in slack.fake.of("chat.postMessage")[1:]] + [
        r for _, r in slack.fake.responses
    ]
    assert any("Snoozed" in " ".join(section_texts(a)) for a in answers)


async def test_the_consent_reminder_reaches_the_owner_with_its_answers_and_snooze(
    slack: SlackDriver, ctx: Context
) -> None:
    """Sam owns Calder Valley; Priya's introduction of it to Owen waits on his go-ahead."""
    with time_machine.travel(MONDAY, tick=True):
        with ctx.store.write() as session:
            rid = factories.referral(
                session,
                "Calder Valley Engineering Ltd",
                PRIYA,
                OWEN,
                MONDAY - timedelta(days=7),
                consent="pending",
            ).id
        await jobs.send_nudges(ctx, slack.channel.messenger, ctx.now())
        [reminder] = [p for p in slack.fake.of("chat.postMessage") if p["channel"] == SAM_DM]
        assert "gentle reminder" in section_texts(reminder)[0] and f"#{rid}" in str(reminder)
        buttons = {e["text"]["text"]: e for e in action_buttons(reminder)}
        assert list(buttons) == CONSENT_BUTTONS
        go = buttons["Go ahead"]
        await slack.press(go["action_id"], go["value"], user=SAM_ID)
    with ctx.store.read() as session:
        referral = session.get(Referral, rid)
        nudge = session.exec(select(Nudge).where(Nudge.kind == "consent")).one()
        sam = factories.person(session, SAM)
    assert referral is not None and referral.consent == "given"
    assert nudge.sent_at is not None and nudge.person_id == sam.id
