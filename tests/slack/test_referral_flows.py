"""A referral's road over Slack: signed requests in, Web API calls to each person out.

Helen (Real Estate) introduces Nikhil's client Acme to Priya (Employment); Nikhil, the
relationship owner, asks to talk first and gives the go-ahead later; Priya wins it for an
exact £12,345; Owen, the Employment team's ambassador, is asked for the story. Then the
referrer's Withdraw and the receiver's Decline.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from sqlmodel import select

from bot import jobs
from bot.context import Context
from bot.store.models import Referral
from tests import factories
from tests.slack.conftest import (
    OWEN,
    OWEN_ID,
    PRIYA_ID,
    SlackDriver,
    action_buttons,
    dm_channel,
    section_texts,
)

HELEN, HELEN_ID = "helen.carmichael@hartwellfinch.example", "UHELEN"
NIKHIL, NIKHIL_ID = "nikhil.bose@hartwellfinch.example", "UNIKHIL"
WEDNESDAY = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # working hours: nudges may go


@pytest.fixture(autouse=True)
def cast(slack: SlackDriver, ctx: Context) -> Iterator[None]:
    """Helen and Nikhil in the workspace; Owen the Employment team's ambassador."""
    slack.fake.users |= {HELEN_ID: HELEN, NIKHIL_ID: NIKHIL}
    with ctx.store.write() as session:
        owen = factories.person(session, OWEN)
        owen.role = "ambassador"
        session.add(owen)
    with time_machine.travel(WEDNESDAY, tick=True):
        yield


class Inboxes:
    """What each person's DM channel received since the last look."""

    def __init__(self, slack: SlackDriver) -> None:
        self.slack, self.seen = slack, 0

    def new(self) -> dict[str, list[dict[str, Any]]]:
        posted = self.slack.fake.of("chat.postMessage")
        fresh, self.seen = posted[self.seen :], len(posted)
        by_user: dict[str, list[dict[str, Any]]] = {}
        for user in (HELEN_ID, NIKHIL_ID, PRIYA_ID, OWEN_ID):
            mine = [p for p in fresh if p["channel"] == dm_channel(user)]
            if mine:
                by_user[user] = mine
        assert sum(map(len, by_user.values())) == len(fresh), "a message went elsewhere"
        return by_user


def text(message: dict[str, Any]) -> str:
    return " ".join(section_texts(message))


def labels(message: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in action_buttons(message)]


async def tap(slack: SlackDriver, message: dict[str, Any], label: str, user: str) -> None:
    """Press the button labelled `label` on `message`, as `user`, exactly as Slack sends it."""
    button = next(b for b in action_buttons(message) if b["text"]["text"] == label)
    assert await slack.press(button["action_id"], button["value"], user=user) == (200, "")


def stored(ctx: Context, client: str) -> Referral:
    with ctx.store.read() as session:
        found = factories.client(session, client)
        return session.exec(select(Referral).where(Referral.client_id == found.id)).one()


async def log_acme(slack: SlackDriver, inboxes: Inboxes) -> dict[str, list[dict[str, Any]]]:
    """Helen's sentence, her Confirm; returns what everyone then received."""
    await slack.dm("I've introduced Acme to Priya for their TUPE issue, maybe £12,345", HELEN_ID)
    [*_, ask] = inboxes.new()[HELEN_ID]  # after the first-time welcome
    assert text(ask).startswith("Shall I log this referral?")
    assert labels(ask) == ["Confirm", "Edit", "Cancel"]
    await tap(slack, ask, "Confirm", HELEN_ID)
    return inboxes.new()


async def test_sentence_to_won_with_consent_later_and_the_story_prompt(
    slack: SlackDriver, ctx: Context
) -> None:
    inboxes = Inboxes(slack)
    told = await log_acme(slack, inboxes)
    [saved] = told[HELEN_ID]
    assert "Logged as #" in text(saved)
    [offer] = told[PRIYA_ID]
    assert "Helen Carmichael" in text(offer) and "Acme Logistics plc" in text(offer)
    assert labels(offer) == ["Accept", "Decline"]
    [asked] = told[NIKHIL_ID]
    assert "your client" in text(asked)
    assert labels(asked) == ["Go ahead", "Let's talk first", "Show referral"]
    acme = stored(ctx, "Acme Logistics plc")
    assert (acme.status, acme.consent) == ("new", "pending")

    # Priya accepts: Helen and Nikhil hear of it.
    await tap(slack, offer, "Accept", PRIYA_ID)
    told = inboxes.new()
    assert "wait for Nikhil Bose's go-ahead" in text(told[PRIYA_ID][0])
    assert set(told) == {PRIYA_ID, HELEN_ID, NIKHIL_ID}
    assert all("to *accepted*" in text(m) for m in told[HELEN_ID] + told[NIKHIL_ID])

    # Nikhil would like a word first: Priya holds off, Helen is asked to call.
    await tap(slack, asked, "Let's talk first", NIKHIL_ID)
    told = inboxes.new()
    assert labels(told[NIKHIL_ID][0]) == ["Go ahead"]
    assert "talk to you first" in text(told[HELEN_ID][0])
    assert "hold off" in text(told[PRIYA_ID][0])
    assert stored(ctx, "Acme Logistics plc").consent == "talk_first"

    # Later he types the go-ahead: confirmed before anything is recorded.
    await slack.dm("yes, go ahead", NIKHIL_ID)
    [confirm] = inboxes.new()[NIKHIL_ID]
    assert labels(confirm) == ["Confirm", "Not now"]
    assert stored(ctx, "Acme Logistics plc").consent == "talk_first"
    await tap(slack, confirm, "Confirm", NIKHIL_ID)
    told = inboxes.new()
    assert stored(ctx, "Acme Logistics plc").consent == "given"
    assert "Good news" in text(told[PRIYA_ID][0]) and "given the go-ahead" in text(
        told[HELEN_ID][0]
    )

    # Priya's news in a sentence, confirmed; the amount travels as data and stays exact.
    await slack.dm("We won Acme, £12,345", PRIYA_ID)
    [question] = inboxes.new()[PRIYA_ID]
    assert labels(question) == ["Yes, record it", "No"]
    assert stored(ctx, "Acme Logistics plc").status == "accepted"
    yes = next(b for b in action_buttons(question) if b["text"]["text"] == "Yes, record it")
    assert json.loads(yes["value"])["amount"] == "12345"
    await tap(slack, question, "Yes, record it", PRIYA_ID)
    won = stored(ctx, "Acme Logistics plc")
    assert (won.status, won.won_value, won.currency) == ("won", 12_345, "GBP")
    told = inboxes.new()
    assert "Share it as a story" in labels(told[PRIYA_ID][0])
    for notice in told[HELEN_ID] + told[NIKHIL_ID]:
        assert "to *won*" in text(notice) and "Value won: *£12,345*" in text(notice)

    # The next daily run closes the loop: the ambassador is asked for the story.
    await jobs.send_nudges(ctx, slack.channel.messenger, ctx.now())
    prompts = [m for m in inboxes.new().get(OWEN_ID, []) if "Write the story" in labels(m)]
    [prompt] = prompts
    assert "Acme" not in text(prompt)  # Owen is not a party: no client name
    assert labels(prompt) == ["Write the story", "Snooze a week", "Not relevant"]
    await tap(slack, prompt, "Write the story", OWEN_ID)
    [opened] = slack.fake.of("views.open")
    assert opened["trigger_id"] and "Acme" not in json.dumps(opened["view"])


async def test_the_referrer_withdraws_in_a_sentence_with_confirmation(
    slack: SlackDriver, ctx: Context
) -> None:
    inboxes = Inboxes(slack)
    await log_acme(slack, inboxes)
    await slack.dm("withdraw the Acme referral", HELEN_ID)
    [ask] = inboxes.new()[HELEN_ID]
    assert labels(ask) == ["Withdraw it", "Keep it"]
    assert stored(ctx, "Acme Logistics plc").status == "new"
    await tap(slack, ask, "Withdraw it", HELEN_ID)
    told = inboxes.new()
    assert stored(ctx, "Acme Logistics plc").status == "withdrawn"
    assert "Withdrawn" in text(told[HELEN_ID][0])
    assert all("to *withdrawn*" in text(m) for m in told[PRIYA_ID] + told[NIKHIL_ID])


async def test_the_receiver_declines(slack: SlackDriver, ctx: Context) -> None:
    inboxes = Inboxes(slack)
    offer = (await log_acme(slack, inboxes))[PRIYA_ID][0]
    await tap(slack, offer, "Decline", PRIYA_ID)
    told = inboxes.new()
    assert stored(ctx, "Acme Logistics plc").status == "declined"
    assert "declined" in text(told[PRIYA_ID][0])
    assert all("to *declined*" in text(m) for m in told[HELEN_ID] + told[NIKHIL_ID])
    assert labels(told[PRIYA_ID][0]) == []  # nothing left to press
