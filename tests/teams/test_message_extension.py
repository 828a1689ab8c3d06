"""Teams' "Log as referral" on a message, through the real router, to the owner's consent."""

from __future__ import annotations

import json
from typing import Any

from aiohttp.test_utils import TestClient
from sqlmodel import select

from bot.context import Context
from bot.messages import Form, Reply, Turn
from bot.store.models import Person, Referral
from tests.conftest import PRIYA
from tests.teams.conftest import FakeConnector, activity, channel_of
from tests.teams.test_teams_protocol import CHANNEL, PRIYA_AAD, post

OWEN = "owen.gallagher@hartwellfinch.example"
OWEN_AAD = "0d6f7a2b-1111-4000-8000-0000000000ee"
JAMES = "james.thornton@hartwellfinch.example"  # Northwind Foods' relationship owner
JAMES_AAD = "0d6f7a2b-2222-4000-8000-0000000000ja"
PRIYA_DM = "a:personal-chat-29:priya"
MESSAGE = "<p>Northwind Foods are restructuring &amp; need TUPE advice, Owen could help</p>"


async def invoke(bot: TestClient, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = await bot.post("/api/messages", json=body)
    text = await response.text()
    return response.status, json.loads(text) if text.strip() else {}


def extension_call(connector: FakeConnector, name: str, value: dict[str, Any]) -> dict[str, Any]:
    """The invoke Teams posts when "Log as referral" is used on a channel message."""
    body = activity(
        connector,
        user_id="29:priya",
        aad=PRIYA_AAD,
        kind="channel",
        conversation=f"{CHANNEL};messageid=1700000000009",
        type_="invoke",
        value=value,
    )
    return {**body, "name": name}


async def say_hello(bot: TestClient, connector: FakeConnector, user: str, email: str, aad: str):
    """Someone the bot has met in a one-to-one chat (so it can reach them later)."""
    connector.add_member(user, email, email.split("@")[0], aad)
    await post(bot, activity(connector, user_id=user, aad=aad, text="hello"))


def card_inputs(card: dict[str, Any]) -> dict[str, Any]:
    return {e["id"]: e for e in card["body"] if e["type"].startswith("Input.")}


def submit_of(card: dict[str, Any], action: str) -> dict[str, Any]:
    return next(a["data"] for a in card.get("actions", []) if a["data"]["action"] == action)


async def test_log_as_referral_from_a_channel_message_to_accept_and_consent(
    bot: TestClient, connector: FakeConnector, ctx: Context
) -> None:
    await say_hello(bot, connector, "29:priya", PRIYA, PRIYA_AAD)
    await say_hello(bot, connector, "29:owen", OWEN, OWEN_AAD)
    await say_hello(bot, connector, "29:james", JAMES, JAMES_AAD)
    connector.activities.clear()

    # 1. "… → Log as referral" on the message: the form, filled in from it, in a task module.
    fetch = {
        "commandId": "logReferral",
        "commandContext": "message",
        "messagePayload": {"body": {"contentType": "html", "content": MESSAGE}},
    }
    status, answer = await invoke(
        bot, extension_call(connector, "composeExtension/fetchTask", fetch)
    )
    assert status == 200
    task = answer["task"]
    assert task["type"] == "continue"
    form = task["value"]["card"]["content"]
    inputs = card_inputs(form)
    assert inputs["client"]["value"] == "Northwind Foods Ltd"
    assert inputs["receiver"]["value"] == OWEN
    assert inputs["service"]["value"] == "employment"
    assert connector.activities == []  # nothing posted in the channel

    # 2. Submit it with the service left open: the dialog closes, the rest goes on in her DM.
    data = {
        **submit_of(form, "referral.submit"),
        **{k: e.get("value", "") for k, e in inputs.items()},
    }
    data["service"] = ""
    submit = {"commandId": "logReferral", "commandContext": "message", "data": data}
    call = extension_call(connector, "composeExtension/submitAction", submit)
    status, answer = await invoke(bot, call)
    assert (status, answer) == (200, {})
    assert await invoke(bot, call) == (200, {})  # Teams retrying the invoke changes nothing
    [asked] = sent_to(connector, PRIYA_DM)
    assert not sent_to(connector, CHANNEL)  # referral details never go to the channel

    # 3. Which service (Owen has several), then Confirm: card submits in her DM.
    pick = next(a["data"] for a in asked["actions"] if a["title"] == "Employment law")
    await press(bot, connector, "29:priya", PRIYA_AAD, pick)
    confirm = sent_to(connector, PRIYA_DM)[-1]
    facts = {
        f["title"]: f["value"]
        for b in confirm["body"]
        if b["type"] == "FactSet"
        for f in b["facts"]
    }
    assert facts["Client"] == "Northwind Foods Ltd" and facts["Service"] == "Employment law"
    await press(bot, connector, "29:priya", PRIYA_AAD, submit_of(confirm, "referral.confirm"))

    # 4. Owen gets the Accept card, James (the client's owner) the consent card.
    [offer] = sent_to(connector, "a:personal-chat-29:owen")
    [consent] = sent_to(connector, "a:personal-chat-29:james")
    assert "Northwind Foods Ltd" in text_of(offer) and "Northwind Foods Ltd" in text_of(consent)
    await press(bot, connector, "29:james", JAMES_AAD, submit_of(consent, "referral.consent_go"))
    await press(bot, connector, "29:owen", OWEN_AAD, submit_of(offer, "referral.accept"))

    with ctx.store.read() as session:
        [referral] = session.exec(select(Referral)).all()
        receiver = session.get(Person, referral.receiver_id)
        assert receiver is not None and receiver.email == OWEN
        assert referral.status == "accepted" and referral.card_id == "employment"
        assert referral.note.startswith("Northwind Foods are restructuring & need TUPE")


def sent_to(connector: FakeConnector, conversation: str) -> list[dict[str, Any]]:
    """The Adaptive Cards the bot posted in one conversation, in order."""
    return [
        att["content"]
        for a in connector.activities
        if a["conversation"].split(";")[0] == conversation
        for att in a["activity"].get("attachments") or []
    ]


def text_of(card: dict[str, Any]) -> str:
    return " ".join(b.get("text", "") for b in card["body"])


async def press(
    bot: TestClient, connector: FakeConnector, user: str, aad: str, data: dict[str, Any]
) -> None:
    """A card button pressed in someone's one-to-one chat (Action.Submit → message)."""
    assert await post(bot, activity(connector, user_id=user, aad=aad, value=data)) in (200, 201)


async def test_an_action_that_is_not_ours_just_closes(bot: TestClient, connector) -> None:
    fetch = {"commandId": "somethingElse", "commandContext": "message"}
    status, answer = await invoke(
        bot, extension_call(connector, "composeExtension/fetchTask", fetch)
    )

    assert (status, answer) == (200, {})
    assert connector.activities == []


async def test_the_extension_reaches_the_router_with_the_message_text(
    bot: TestClient, connector: FakeConnector
) -> None:
    """The same router action and payload as Slack's message shortcut."""
    seen: list[Turn] = []

    def probe(turn: Turn, ctx: Context) -> list[Reply]:
        seen.append(turn)
        return [Reply("a form", form=Form("Log a referral", "referral.submit", []))]

    channel_of(bot).router = probe
    fetch = {
        "commandId": "logReferral",
        "messagePayload": {
            "body": {"contentType": "html", "content": "<p>Acme &amp; TUPE<br>fast</p>"}
        },
    }
    status, answer = await invoke(
        bot, extension_call(connector, "composeExtension/fetchTask", fetch)
    )

    [turn] = seen
    assert (turn.action, turn.payload) == ("referral.form", {"text": "Acme & TUPE\nfast"})
    assert turn.platform == "teams" and turn.is_direct
    assert answer["task"]["value"]["title"] == "Log a referral"
