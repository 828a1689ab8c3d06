"""A referral's road over Teams: activities posted to /api/messages, the fake connector out.

The same road as the Slack scenario (tests/slack/test_referral_flows.py), as Adaptive Cards:
Helen introduces Nikhil's client Acme to Priya; Nikhil asks to talk first, then types the
go-ahead and confirms it; Priya wins it for exactly £12,345; Owen, the Employment team's
ambassador, is asked for the story. Then the referrer's Withdraw and the receiver's Decline.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from aiohttp.test_utils import TestClient
from sqlmodel import select

from bot import jobs
from bot.context import Context
from bot.store.models import Referral
from tests import factories
from tests.conftest import PRIYA
from tests.teams.conftest import FakeConnector, activity, channel_of
from tests.teams.test_teams_protocol import PRIYA_AAD, post

HELEN = "helen.carmichael@hartwellfinch.example"
NIKHIL = "nikhil.bose@hartwellfinch.example"
OWEN = "owen.gallagher@hartwellfinch.example"
# Who is who in Teams: Helen and Priya by the teams_id in people.csv, the others by roster.
PEOPLE = {
    HELEN: ("29:helen", "e2a94f60-1c7b-4d85-b3e9-70f26d5a8c41"),
    PRIYA: ("29:priya", PRIYA_AAD),
    NIKHIL: ("29:nikhil", "7d1e0c3a-0000-4000-8000-0000000nikhil"),
    OWEN: ("29:owen", "7d1e0c3a-0000-4000-8000-00000000owen"),
}
WEDNESDAY = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # working hours: nudges may go


class Teams:
    """Each person's personal chat with Crossbot, over the real adapter."""

    def __init__(self, bot: TestClient, connector: FakeConnector) -> None:
        self.bot, self.connector, self.seen = bot, connector, 0

    async def say(self, email: str, text: str) -> None:
        user, aad = PEOPLE[email]
        body = activity(self.connector, user_id=user, aad=aad, text=text)
        assert await post(self.bot, body) in (200, 201)

    async def tap(self, email: str, message: dict[str, Any], title: str) -> None:
        """Press the card's button titled `title`: Teams posts its data back as `value`."""
        user, aad = PEOPLE[email]
        data = actions(message)[title]
        body = activity(self.connector, user_id=user, aad=aad, value=data)
        assert await post(self.bot, body) in (200, 201)

    def new(self) -> dict[str, list[dict[str, Any]]]:
        """What each person's chat received since the last look."""
        fresh = self.connector.activities[self.seen :]
        self.seen = len(self.connector.activities)
        by_person: dict[str, list[dict[str, Any]]] = {}
        for email, (user, _) in PEOPLE.items():
            mine = [a["activity"] for a in fresh if a["conversation"] == f"a:personal-chat-{user}"]
            if mine:
                by_person[email] = mine
        assert sum(map(len, by_person.values())) == len(fresh), "a message went elsewhere"
        return by_person


def said(message: dict[str, Any]) -> str:
    """The words of a message: its text, or its Adaptive Card's text blocks."""
    blocks = [b.get("text", "") for card in _cards(message) for b in card["body"]]
    return " ".join([message.get("text") or "", *blocks]).strip()


def actions(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["title"]: a["data"] for card in _cards(message) for a in card.get("actions", [])}


def _cards(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        att["content"]
        for att in message.get("attachments") or []
        if att.get("contentType") == "application/vnd.microsoft.card.adaptive"
    ]


def stored(ctx: Context) -> Referral:
    with ctx.store.read() as session:
        acme = factories.client(session, "Acme Logistics plc")
        return session.exec(select(Referral).where(Referral.client_id == acme.id)).one()


@pytest.fixture
async def teams(bot: TestClient, connector: FakeConnector, ctx: Context) -> Teams:
    """Everyone has said hello (so Crossbot may write to them); Owen is an ambassador."""
    for email, (user, aad) in PEOPLE.items():
        if email in (NIKHIL, OWEN):
            connector.add_member(user, email, email.split("@")[0].title(), aad)
    with ctx.store.write() as session:
        owen = factories.person(session, OWEN)
        owen.role = "ambassador"
        session.add(owen)
    chats = Teams(bot, connector)
    for email in PEOPLE:
        await chats.say(email, "hello")
    chats.new()
    return chats


@pytest.fixture(autouse=True)
def wednesday() -> Any:
    with time_machine.travel(WEDNESDAY, tick=True) as traveller:
        yield traveller


async def log_acme(teams: Teams) -> dict[str, list[dict[str, Any]]]:
    await teams.say(HELEN, "I've introduced Acme to Priya for their TUPE issue, maybe £12,345")
    [ask] = teams.new()[HELEN]
    assert said(ask).startswith("Shall I log this referral?")
    assert list(actions(ask)) == ["Confirm", "Edit", "Cancel"]
    await teams.tap(HELEN, ask, "Confirm")
    return teams.new()


async def test_the_referrer_is_answered_before_the_receiver_and_owner_are_told(
    teams: Teams, connector: FakeConnector
) -> None:
    await teams.say(HELEN, "I've introduced Acme to Priya for their TUPE issue, maybe £12,345")
    [ask] = teams.new()[HELEN]
    sent_before = len(connector.activities)

    await teams.tap(HELEN, ask, "Confirm")

    order = [a["conversation"] for a in connector.activities[sent_before:]]
    chats = {email: f"a:personal-chat-{user}" for email, (user, _) in PEOPLE.items()}
    assert order[0] == chats[HELEN]  # she pressed Confirm and is waiting: she hears first
    assert sorted(order[1:]) == sorted([chats[PRIYA], chats[NIKHIL]])


async def test_sentence_to_won_with_consent_later_and_the_story_prompt(
    teams: Teams, bot: TestClient, ctx: Context
) -> None:
    told = await log_acme(teams)
    assert "Logged as #" in said(told[HELEN][0])
    [offer] = told[PRIYA]
    assert "Helen Carmichael" in said(offer) and list(actions(offer)) == ["Accept", "Decline"]
    [asked] = told[NIKHIL]
    assert list(actions(asked)) == ["Go ahead", "Let's talk first", "Show referral"]
    assert (stored(ctx).status, stored(ctx).consent) == ("new", "pending")

    await teams.tap(PRIYA, offer, "Accept")
    told = teams.new()
    assert set(told) == {PRIYA, HELEN, NIKHIL}
    assert "go-ahead" in said(told[PRIYA][0])
    assert all("to **accepted**" in said(m) for m in told[HELEN] + told[NIKHIL])

    await teams.tap(NIKHIL, asked, "Let's talk first")
    told = teams.new()
    assert list(actions(told[NIKHIL][0])) == ["Go ahead"]
    assert "talk to you first" in said(told[HELEN][0]) and "hold off" in said(told[PRIYA][0])
    assert stored(ctx).consent == "talk_first"

    await teams.say(NIKHIL, "happy for you to proceed")
    [confirm] = teams.new()[NIKHIL]
    assert list(actions(confirm)) == ["Confirm", "Not now"]
    assert stored(ctx).consent == "talk_first"  # nothing recorded before Confirm
    await teams.tap(NIKHIL, confirm, "Confirm")
    told = teams.new()
    assert stored(ctx).consent == "given"
    assert "Good news" in said(told[PRIYA][0]) and "go-ahead" in said(told[HELEN][0])

    await teams.say(PRIYA, "We won Acme, £12,345")
    [question] = teams.new()[PRIYA]
    assert "£12,345" in said(question)
    assert actions(question)["Yes, record it"]["amount"] == "12345"  # data, not "£12k"
    await teams.tap(PRIYA, question, "Yes, record it")
    won = stored(ctx)
    assert (won.status, won.won_value, won.currency) == ("won", 12_345, "GBP")
    told = teams.new()
    assert "Share it as a story" in actions(told[PRIYA][0])
    assert all("Value won: **£12,345**" in said(m) for m in told[HELEN] + told[NIKHIL])

    await jobs.send_nudges(ctx, channel_of(bot).messenger, ctx.now())
    [prompt] = [m for m in teams.new().get(OWEN, []) if "Write the story" in actions(m)]
    assert "Acme" not in said(prompt)
    assert list(actions(prompt)) == ["Write the story", "Snooze a week", "Not relevant"]
    await teams.tap(OWEN, prompt, "Write the story")
    [form] = teams.new()[OWEN]
    inputs = [b for card in _cards(form) for b in card["body"] if b["type"].startswith("Input.")]
    assert inputs and "Acme" not in str(form)  # the story form, pre-filled and anonymous


async def test_the_referrer_withdraws_in_a_sentence_with_confirmation(
    teams: Teams, ctx: Context
) -> None:
    await log_acme(teams)
    await teams.say(HELEN, "withdraw the Acme referral")
    [ask] = teams.new()[HELEN]
    assert list(actions(ask)) == ["Withdraw it", "Keep it"] and stored(ctx).status == "new"
    await teams.tap(HELEN, ask, "Withdraw it")
    told = teams.new()
    assert stored(ctx).status == "withdrawn"
    assert "Withdrawn" in said(told[HELEN][0])
    assert all("to **withdrawn**" in said(m) for m in told[PRIYA] + told[NIKHIL])


async def test_the_receiver_declines(teams: Teams, ctx: Context) -> None:
    offer = (await log_acme(teams))[PRIYA][0]
    await teams.tap(PRIYA, offer, "Decline")
    told = teams.new()
    assert stored(ctx).status == "declined"
    assert "declined" in said(told[PRIYA][0]) and actions(told[PRIYA][0]) == {}
    assert all("to **declined**" in said(m) for m in told[HELEN] + told[NIKHIL])
