"""A story that names a client, through signed Slack requests: the modal comes back anonymised."""

from __future__ import annotations

import json

from sqlmodel import select

from bot.context import Context
from bot.store.models import Story
from tests.slack.conftest import SAM_ID, SlackDriver, dm_channel, section_texts


def _values(title: str, body: str) -> dict[str, dict[str, dict[str, object]]]:
    def text(name: str, value: str) -> dict[str, dict[str, object]]:
        return {name: {"type": "plain_text_input", "value": value}}

    return {
        "title": text("title", title),
        "body": text("body", body),
        "teams": text("teams", "Tax, Employment"),
        "referral": text("referral", ""),
        "value": text("value", ""),
        "name_client": {
            "name_client": {"type": "static_select", "selected_option": {"value": "no"}}
        },
    }


async def test_a_story_naming_a_client_updates_the_modal_without_the_name(
    slack: SlackDriver, ctx: Context
) -> None:
    assert await slack.command("/story", user=SAM_ID) == (200, "")
    [opened] = slack.fake.of("views.open")

    values = _values("Northwind's TUPE win", "Acme Logistics asked us about TUPE.")
    status, body = await slack.submit(opened["view"], values, user=SAM_ID)
    await slack.settle()

    answer = json.loads(body)
    assert (status, answer["response_action"]) == (200, "update")
    inputs = {b["block_id"]: b for b in answer["view"]["blocks"] if b["type"] == "input"}
    assert inputs["title"]["element"]["initial_value"] == "A food manufacturing client's TUPE win"
    assert inputs["body"]["element"]["initial_value"] == (
        "A logistics and warehousing client asked us about TUPE."
    )
    [told] = slack.fake.of("chat.postMessage")
    assert told["channel"] == dm_channel(SAM_ID)
    assert "a food manufacturing client" in " ".join(section_texts(told)).lower()
    with ctx.store.read() as session:
        assert session.exec(select(Story)).all() == []

    # Posting the suggested version as it is publishes it.
    suggested = _values(
        inputs["title"]["element"]["initial_value"], inputs["body"]["element"]["initial_value"]
    )
    status, body = await slack.submit(answer["view"], suggested, user=SAM_ID)
    await slack.settle()
    assert (status, body) == (200, "")
    with ctx.store.read() as session:
        [story] = session.exec(select(Story)).all()
        assert story.status == "published" and "Northwind" not in story.title
