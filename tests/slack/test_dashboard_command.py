"""`/crossbot dashboard` over Slack's real protocol: the link reaches only the person."""

from __future__ import annotations

import json
import re

from bot.dashboard import _auth
from bot.people import by_email
from tests.slack.conftest import PRIYA, PRIYA_DM, PRIYA_ID, SlackDriver, section_texts

_LINK = re.compile(r"https?://[^\s|>)]+/dashboard/signin/[\w-]+")


def link_in(texts: list[str]) -> str:
    [url] = {m for text in texts for m in _LINK.findall(text)}
    return url


def check(slack: SlackDriver, url: str, email: str) -> None:
    """The link is live and signs in the person who asked, nobody else."""
    ctx = slack.channel.ctx
    with ctx.store.read() as session:
        link = _auth.check_link(session, url.rsplit("/", 1)[1], ctx.now())
        person = by_email(session, email)
    assert person is not None and link.person_id == person.id


async def test_in_a_dm_the_link_is_the_ephemeral_answer(slack: SlackDriver) -> None:
    status, body = await slack.command("/crossbot", "dashboard", channel=PRIYA_DM)

    assert (status, body) == (200, "")
    [(_, payload)] = slack.fake.responses
    assert payload["response_type"] == "ephemeral"
    check(slack, link_in(section_texts(payload)), PRIYA)
    assert slack.fake.of("chat.postMessage") == []


async def test_in_a_channel_the_link_goes_by_dm_and_nothing_public(slack: SlackDriver) -> None:
    status, _ = await slack.command("/crossbot", "dashboard", user=PRIYA_ID, channel="C1")

    assert status == 200
    posted = slack.fake.of("chat.postMessage")
    assert [p["channel"] for p in posted] == [PRIYA_DM]
    blocks = (
        json.loads(posted[0]["blocks"])
        if isinstance(posted[0]["blocks"], str)
        else posted[0]["blocks"]
    )
    check(slack, link_in([json.dumps(blocks), posted[0].get("text", "")]), PRIYA)
    [(_, notice)] = slack.fake.responses
    assert notice["response_type"] == "ephemeral"
    assert "direct message" in " ".join(section_texts(notice))
    assert not _LINK.search(json.dumps(notice))
