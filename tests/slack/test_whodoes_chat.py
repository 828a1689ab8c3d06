"""Who-does over signed Slack DMs: situations searched, unknown clients, "Not what I needed"."""

from __future__ import annotations

import json

from sqlmodel import select

from bot.context import Context
from bot.store.models import AskedQuestion
from tests.slack.conftest import PRIYA_DM, SAM_ID, SlackDriver, action_buttons, section_texts


async def test_a_situation_dm_is_answered_and_not_what_i_needed_is_recorded(
    slack: SlackDriver, ctx: Context
) -> None:
    await slack.dm("client's landlord wants the building back")

    [posted] = slack.fake.of("chat.postMessage")
    assert posted["channel"] == PRIYA_DM
    assert "*Commercial property*" in section_texts(posted)[0]
    [feedback] = [b for b in action_buttons(posted) if b["action_id"].startswith("learn.missed")]
    assert feedback["text"]["text"] == "Not what I needed"

    assert await slack.press(feedback["action_id"], feedback["value"]) == (200, "")

    thanks = slack.fake.of("chat.postMessage")[-1]
    assert "Thanks — noted" in section_texts(thanks)[0]
    with ctx.store.read() as session:
        [row] = session.exec(select(AskedQuestion)).all()
    assert (row.feedback, row.cards[0]) == ("missed", "commercial-property")


async def test_someone_else_cannot_mark_a_question_missed(slack: SlackDriver, ctx: Context) -> None:
    await slack.dm("founder wants to sell up")
    [posted] = slack.fake.of("chat.postMessage")
    [feedback] = [b for b in action_buttons(posted) if b["action_id"].startswith("learn.missed")]

    await slack.press(feedback["action_id"], json.loads(feedback["value"]), user=SAM_ID)

    with ctx.store.read() as session:
        [row] = session.exec(select(AskedQuestion)).all()
    assert row.feedback == ""


async def test_an_unknown_client_dm_is_said_so_without_a_card(slack: SlackDriver) -> None:
    await slack.dm("who looks after Zebra Widgets?")

    [posted] = slack.fake.of("chat.postMessage")
    assert "I don't know a client called *Zebra Widgets*" in section_texts(posted)[0]
    assert action_buttons(posted) == []
