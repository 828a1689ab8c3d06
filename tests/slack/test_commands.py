"""Slash commands: acked at once with an empty 200, answered through response_url."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.channels.console import ConsoleChannel
from bot.channels.slack_blocks import mrkdwn
from bot.context import Context
from bot.messages import Reply
from bot.render import render
from bot.store.models import Person
from tests.slack.conftest import (
    HIDDEN_ID,
    OWEN,
    OWEN_ID,
    PRIYA,
    PRIYA_ID,
    SAM_ID,
    STRANGER_ID,
    Probe,
    SlackDriver,
    section_texts,
)


def _expected(ctx: Context, text: str, email: str = PRIYA) -> list[Reply]:
    return ConsoleChannel(ctx, email, "console-expected").send(text)


async def test_whodoes_answers_privately_with_the_card_and_buttons(slack: SlackDriver) -> None:
    status, body = await slack.command("/whodoes", "TUPE")

    assert (status, body) == (200, "")
    [(url, payload)] = slack.fake.responses
    assert url == "cmd1"
    assert payload["response_type"] == "ephemeral"
    assert "*Employment law*" in section_texts(payload)[0]
    [actions] = [b for b in payload["blocks"] if b["type"] == "actions"]
    assert [(e["action_id"], e["value"]) for e in actions["elements"]] == [
        ("referral.form", '{"card":"employment"}'),
        ("card.show", '{"card":"employment"}'),
        ("learn.missed", '{"question":1}'),
    ]
    assert slack.fake.of("chat.postMessage") == []  # nothing public in the channel


@pytest.mark.parametrize(
    ("command", "text"),
    [
        ("/whodoes", "help with a landlord who wants the building back"),
        ("/referrals", ""),
        ("/leaderboard", "teams"),
        ("/crossbot", "help"),
        ("/crossbot", ""),
    ],
)
async def test_read_only_commands_answer_what_the_router_says(
    slack: SlackDriver, ctx: Context, command: str, text: str
) -> None:
    expected = _expected(ctx, f"{command} {text}".strip())

    assert await slack.command(command, text) == (200, "")

    [(_, payload)] = slack.fake.responses
    assert section_texts(payload)[0] == mrkdwn(expected[0].text)


@pytest.mark.parametrize(
    ("command", "text"),
    [
        ("/refer", "Acme to Priya for employment £20k"),
        ("/refer", ""),
        ("/story", "how we helped Acme with their TUPE transfer"),
        ("/idea", "a joint breakfast for property clients"),
    ],
)
async def test_every_other_command_reaches_a_feature_not_the_unknown_command_reply(
    slack: SlackDriver, command: str, text: str
) -> None:
    assert await slack.command(command, text) == (200, "")

    delivered = [p for _, p in slack.fake.responses] + slack.fake.of("views.open")
    assert delivered, "the person got an answer (a message or a form)"
    unknown = mrkdwn(render("unknown_command", command=command.strip("/")))
    for payload in slack.fake.responses:
        assert unknown not in section_texts(payload[1])


async def test_command_text_reaches_the_router_as_slash_text(
    slack: SlackDriver, probe: Probe
) -> None:
    await slack.command(
        "/crossbot", f"probe <@{SAM_ID}> &amp; <https://x.example/a?b=1&amp;c=2|the brief>"
    )

    [turn] = probe.turns
    assert turn.text == "/crossbot probe Sam Patel & the brief (https://x.example/a?b=1&c=2)"
    assert (turn.person, turn.conversation, turn.platform) == (PRIYA, "slack:C1", "slack")
    assert not turn.is_direct  # Sam's mention became his name: Slack knows his email


async def test_a_command_whose_text_says_payload_is_a_command(
    slack: SlackDriver, probe: Probe
) -> None:
    """The body is read once, by us, for Bolt too: Bolt's own reading took any form with
    "payload" anywhere in it for an interaction and found nothing in it."""
    status, _ = await slack.command("/crossbot", "probe the payload team")

    assert status == 200
    [turn] = probe.turns
    assert turn.text == "/crossbot probe the payload team"


async def test_a_person_is_mapped_by_email_at_first_contact_then_by_slack_id(
    slack: SlackDriver, ctx: Context
) -> None:
    await slack.command("/crossbot", "help", user=OWEN_ID)
    slack.channel.messenger._emails.clear()  # as after a restart: only the store remembers
    await slack.command("/whodoes", "tax", user=OWEN_ID)

    assert [c.params["user"] for c in slack.fake.calls if c.method == "users.info"] == [OWEN_ID]
    with ctx.store.read() as session:
        owen = session.exec(select(Person).where(Person.email == OWEN)).one()
    assert owen.slack_id == OWEN_ID
    assert all("I don't know" not in section_texts(p)[0] for _, p in slack.fake.responses)


async def test_a_slack_id_from_the_people_list_needs_no_api_call(slack: SlackDriver) -> None:
    await slack.command("/whodoes", "tax", user=PRIYA_ID)

    assert slack.fake.of("users.info") == []
    assert len(slack.fake.responses) == 1


@pytest.mark.parametrize("user", [STRANGER_ID, HIDDEN_ID, "UNOBODY"])
async def test_people_outside_the_firm_are_told_kindly(slack: SlackDriver, user: str) -> None:
    await slack.command("/whodoes", "tax", user=user)

    [(_, payload)] = slack.fake.responses
    assert "I don't know" in section_texts(payload)[0]


async def test_a_slash_command_form_opens_a_modal(slack: SlackDriver, probe: Probe) -> None:
    from bot.messages import Form, FormInput

    probe.replies = [
        Reply("Tell me more", form=Form("Refer", "probe.submit", [FormInput("a", "A")]))
    ]

    await slack.command("/crossbot", "probe")

    [opened] = slack.fake.of("views.open")
    assert opened["trigger_id"] == "trigger.1"
    assert opened["view"]["type"] == "modal"
    assert slack.fake.responses == []
