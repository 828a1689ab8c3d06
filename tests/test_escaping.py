"""User data is shown as written on every channel; the templates keep their formatting."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from bot import jobs
from bot.channels.console import ConsoleChannel, format_reply
from bot.channels.slack_blocks import Stash, mrkdwn, reply_blocks
from bot.channels.teams_cards import adaptive_card, teams_markdown
from bot.context import Context
from bot.messages import Fact, Reply
from bot.render import Rendered, join, render
from bot.store.models import Story
from tests import factories
from tests.conftest import ADMIN, PRIYA, RecordingMessenger, frozen_clock

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday: the digest covers 16–22 November
LINK = "[Re-verify your Slack login](https://evil.example/login)"
BODY = f"We won it together. {LINK} **now** _please_ `run this`"

clock = frozen_clock(NOW)


def test_rendered_text_knows_its_data_spans() -> None:
    text = render("thanks", name="*Priya*")

    assert isinstance(text, Rendered) and "*Priya*" in text
    assert [text[a:b] for a, b in text.spans] == ["*Priya*"]
    joined = join("\n\n", [text, render("thanks", name="[x](y)")])
    assert [joined[a:b] for a, b in joined.spans] == ["*Priya*", "[x](y)"]


def test_each_channel_escapes_data_and_keeps_template_markup() -> None:
    card = SimpleNamespace(title=f"{LINK} Ltd", team="Tax")
    text = render(
        "whodoes_answer",
        is_you=False,
        contact=None,
        card=card,
        positioning="",
        questions=[],
        others=[],
    )

    slack, teams, console = mrkdwn(text), teams_markdown(text), _console(text)

    assert slack.startswith("*") and "Re-verify" in slack  # the template's bold, as mrkdwn
    assert "<https://evil" not in slack
    assert teams.startswith("**") and "](https://evil" not in teams
    assert console.startswith(f"{LINK} Ltd")  # the terminal drops the bold, keeps the data


def _console(text: str) -> str:
    return format_reply(Reply(text))


def test_facts_built_from_data_are_data() -> None:
    reply = Reply("", facts=[Fact("Client", f"{LINK} Ltd"), Fact("Note", "*bold* ~gone~")])

    slack = json.dumps(reply_blocks(reply, Stash()), ensure_ascii=False)
    teams = json.dumps(adaptive_card(reply), ensure_ascii=False)

    assert "<https://evil" not in slack and "*bold*" not in slack and "~gone~" not in slack
    assert "](https://evil" not in teams and "*bold*" not in teams
    assert LINK in format_reply(reply)  # the terminal prints it as written


def test_the_console_prints_data_as_written(chat: Callable[..., ConsoleChannel]) -> None:
    channel = chat(PRIYA)
    channel.send(f"/idea {LINK} might need **R&D** relief")

    [listed] = channel.send("ideas")
    assert f"{LINK} might need **R&D** relief" in format_reply(listed)


async def test_a_story_with_a_markdown_link_is_inert_in_the_digest(ctx: Context, clock) -> None:
    ctx.settings.digest_channel = "C-DIGEST"
    with ctx.store.write() as session:
        author = factories.person(session, ADMIN)
        session.add(
            Story(
                author_id=author.id,
                title="Tax **and** Employment [win](https://evil.example/t)",
                body=BODY,
                teams=["Tax", "Employment"],
                status="published",
                published_at=NOW - timedelta(days=3),
            )
        )
    messenger = RecordingMessenger()

    await jobs.post_digest(ctx, messenger, NOW)

    [digest] = [reply for _, reply in messenger.posts if reply.kind == "digest"]
    slack = "\n".join(b["text"]["text"] for b in reply_blocks(digest, Stash()) if b.get("text"))
    teams = json.dumps(adaptive_card(digest), ensure_ascii=False)
    console = format_reply(digest)
    assert "Re-verify your Slack login" in slack and "Re-verify your Slack login" in teams
    assert not re.search(r"<https?://evil", slack)
    assert "](https://evil" not in teams
    assert "*now*" not in slack and "`run this`" not in slack and "_please_" not in slack
    assert "**now**" not in teams and "`run this`" not in teams
    assert "*Wins to celebrate*" in slack and "**Wins to celebrate**" in teams  # template's own
    assert BODY in console
