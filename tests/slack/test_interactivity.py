"""Buttons, modals, the "Log as referral" shortcut, charts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.channels.console import ConsoleChannel
from bot.channels.slack_blocks import OPEN_FORM_ACTION, mrkdwn
from bot.context import Context
from bot.messages import Button, Fact, Form, FormInput, Reply
from tests.slack.conftest import (
    ADMIN,
    ADMIN_ID,
    OWEN,
    OWEN_ID,
    PRIYA,
    PRIYA_DM,
    PRIYA_ID,
    SAM,
    SAM_ID,
    Probe,
    SlackDriver,
    action_buttons,
    dm_channel,
    section_texts,
)

REFERRAL_FORM = Form(
    "Log a referral",
    "probe.submit",
    [
        FormInput("client", "Client", initial="Acme"),
        FormInput("receiver", "Who to", kind="person", initial=ADMIN),
        FormInput(
            "card", "Service", kind="select", options=[("employment", "Employment"), ("tax", "Tax")]
        ),
        FormInput("value", "Value", kind="number", required=False),
        FormInput("when", "First meeting", kind="date", required=False, initial="2026-12-01"),
        FormInput("note", "Note", kind="textarea", required=False),
    ],
    context={"referral": 7},
)


@pytest.mark.parametrize(
    ("action", "value", "command"),
    [
        ("card.show", {"card": "employment"}, "card employment"),
        ("help.show", {}, "help"),
        ("referral.form", {"card": "employment"}, None),
        ("referral.mine", {}, None),
        ("leaderboard.show", {}, None),
    ],
)
async def test_each_button_is_routed_by_its_action_id(
    slack: SlackDriver, ctx: Context, action: str, value: dict, command: str | None
) -> None:
    console = ConsoleChannel(ctx, PRIYA, "console-expected")
    expected = console.send(command) if command else console.press(action, value)

    assert await slack.press(action, value) == (200, "")

    delivered = slack.fake.of("chat.postMessage")
    if expected[0].form:
        assert slack.fake.of("views.open")
    else:
        [posted] = delivered
        assert posted["channel"] == PRIYA_DM
        assert mrkdwn(expected[0].text).startswith(section_texts(posted)[0])  # long cards split


async def test_a_button_payload_and_duplicate_action_ids_round_trip(
    slack: SlackDriver, probe: Probe
) -> None:
    probe.replies = [
        Reply(
            "pick",
            buttons=[Button("A", "probe.pick", {"n": 1}), Button("B", "probe.pick", {"n": 2})],
        )
    ]
    await slack.dm("probe")
    [posted] = slack.fake.of("chat.postMessage")
    first, second = action_buttons(posted)
    assert (first["action_id"], second["action_id"]) == ("probe.pick", "probe.pick~1")

    await slack.press(second["action_id"], second["value"])

    assert (probe.turns[-1].action, probe.turns[-1].payload) == ("probe.pick", {"n": 2})


async def test_a_button_on_an_ephemeral_message_answers_through_response_url(
    slack: SlackDriver,
) -> None:
    container = {
        "type": "message",
        "message_ts": "1.2",
        "channel_id": "C1",
        "is_ephemeral": True,
    }
    await slack.press("card.show", {"card": "employment"}, container=container)

    [(_, payload)] = slack.fake.responses
    assert payload["response_type"] == "ephemeral"
    assert "Employment" in section_texts(payload)[0]
    assert slack.fake.of("chat.postMessage") == []


async def test_a_button_in_app_home_answers_in_the_dm(slack: SlackDriver, probe: Probe) -> None:
    probe.replies = [Reply("done")]
    await slack.press("probe.go", {}, container={"type": "view", "view_id": "VHOME"})

    [opened] = slack.fake.of("conversations.open")
    assert opened["users"] == PRIYA_ID
    [posted] = slack.fake.of("chat.postMessage")
    assert (posted["channel"], section_texts(posted)) == (PRIYA_DM, ["done"])
    assert probe.turns[0].conversation == f"slack:{PRIYA_DM}"


async def open_modal(slack: SlackDriver, probe: Probe, text: str) -> dict[str, Any]:
    """The probe answers a press with `text` and the referral form: the modal it opens."""
    probe.replies = [Reply(text, form=REFERRAL_FORM)]
    await slack.press("probe.open", {})
    [opened] = slack.fake.of("views.open")
    return opened["view"]


async def test_a_form_opens_as_a_modal_and_its_submission_becomes_a_turn(
    slack: SlackDriver, probe: Probe
) -> None:
    view = await open_modal(slack, probe, "Who are you referring?")
    assert (view["type"], view["title"]["text"], view["submit"]["text"]) == (
        "modal",
        "Log a referral",
        "Submit",
    )
    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert inputs["client"]["element"]["initial_value"] == "Acme"
    assert inputs["receiver"]["element"]["type"] == "users_select"
    assert inputs["receiver"]["element"]["initial_user"] == ADMIN_ID
    assert [o["value"] for o in inputs["card"]["element"]["options"]] == ["employment", "tax"]
    assert inputs["value"]["element"]["type"] == "number_input"
    assert inputs["value"]["optional"] is True
    assert inputs["when"]["element"]["initial_date"] == "2026-12-01"
    assert inputs["note"]["element"]["multiline"] is True

    probe.replies = [Reply("Logged, thanks")]
    values = {
        "client": {"client": {"type": "plain_text_input", "value": "Acme Ltd"}},
        "receiver": {"receiver": {"type": "users_select", "selected_user": SAM_ID}},
        "card": {"card": {"type": "static_select", "selected_option": {"value": "employment"}}},
        "value": {"value": {"type": "number_input", "value": "20000"}},
        "when": {"when": {"type": "datepicker", "selected_date": None}},
        "note": {"note": {"type": "plain_text_input", "value": None}},
    }
    status, body = await slack.submit(view, values)

    assert (status, body) == (200, "")  # an empty ack closes the modal
    turn = probe.turns[-1]
    assert turn.action == "probe.submit"
    assert turn.payload == {
        "referral": 7,
        "client": "Acme Ltd",
        "receiver": "sam.patel@hartwellfinch.example",
        "card": "employment",
        "value": "20000",
        "when": "",
        "note": "",
    }
    assert turn.conversation == f"slack:{PRIYA_DM}"
    [posted] = slack.fake.of("chat.postMessage")
    assert (posted["channel"], section_texts(posted)) == (PRIYA_DM, ["Logged, thanks"])


async def test_a_form_shown_again_after_submit_updates_the_modal(
    slack: SlackDriver, probe: Probe
) -> None:
    view = await open_modal(slack, probe, "")
    probe.replies = [Reply("The client is missing", form=REFERRAL_FORM)]
    status, body = await slack.submit(view, {})

    answer = json.loads(body)
    assert (status, answer["response_action"]) == (200, "update")
    assert answer["view"]["blocks"][0]["text"]["text"] == "The client is missing"
    assert slack.fake.of("chat.postMessage") == []


async def test_an_expired_form_submission_is_answered_kindly(slack: SlackDriver) -> None:
    view = {"type": "modal", "callback_id": "crossbot_form", "private_metadata": "{}"}
    await slack.submit(view, {})

    [posted] = slack.fake.of("chat.postMessage")
    assert "expired" in section_texts(posted)[0]


async def test_a_form_without_a_trigger_becomes_a_button_that_opens_it(
    slack: SlackDriver, probe: Probe
) -> None:
    probe.replies = [Reply("Let's log it", form=REFERRAL_FORM)]
    await slack.dm("probe")  # a message event carries no trigger_id

    [posted] = slack.fake.of("chat.postMessage")
    [button] = action_buttons(posted)
    assert (button["action_id"], button["text"]["text"]) == (OPEN_FORM_ACTION, "Log a referral")

    await slack.press(button["action_id"], button["value"])

    [opened] = slack.fake.of("views.open")
    assert opened["view"]["title"]["text"] == "Log a referral"
    assert probe.turns == [probe.turns[0]]  # opening the form is not a turn


async def test_the_shortcut_opens_the_referral_form_with_the_message_text(
    slack: SlackDriver, probe: Probe, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot import conversation

    monkeypatch.setitem(conversation.ACTIONS, "referral.form", probe.on_action)
    form = Form("Log a referral", "referral.submit", [FormInput("text", "What happened")])
    probe.replies = [Reply("", form=form)]
    payload = {
        "type": "message_action",
        "callback_id": "log_referral",
        "trigger_id": "trigger.s1",
        "team": {"id": "T0001"},
        "user": {"id": PRIYA_ID},
        "channel": {"id": "C1", "name": "general"},
        "message": {"type": "message", "ts": "1.1", "text": "Acme needs TUPE advice &amp; fast"},
        "response_url": slack.fake.response_url("sc1"),
    }
    assert await slack.interact(payload) == (200, "")

    [turn] = probe.turns
    assert (turn.action, turn.payload) == (
        "referral.form",
        {"text": "Acme needs TUPE advice & fast"},
    )
    [opened] = slack.fake.of("views.open")
    assert opened["trigger_id"] == "trigger.s1"


async def test_the_shortcut_reaches_the_referral_feature(slack: SlackDriver) -> None:
    payload = {
        "type": "message_action",
        "callback_id": "log_referral",
        "trigger_id": "trigger.s1",
        "user": {"id": PRIYA_ID},
        "channel": {"id": "C1"},
        "message": {"type": "message", "ts": "1.1", "text": "Acme needs TUPE advice"},
        "response_url": slack.fake.response_url("sc1"),
    }
    await slack.interact(payload)

    assert slack.fake.responses or slack.fake.of("views.open")


async def test_facts_become_fields_and_charts_are_uploaded(
    slack: SlackDriver, probe: Probe
) -> None:
    png = b"\x89PNG\r\n\x1a\nfake"
    probe.replies = [
        Reply(
            "Standings",
            facts=[Fact("Tax", "12 pts"), Fact("Employment", "9 pts")],
            image=png,
            image_alt="leaderboard",
            kind="leaderboard",
        )
    ]
    await slack.dm("probe")

    [posted] = slack.fake.of("chat.postMessage")
    fields = [f["text"] for b in posted["blocks"] if "fields" in b for f in b["fields"]]
    assert fields == ["*Tax*\n12 pts", "*Employment*\n9 pts"]
    [start] = slack.fake.of("files.getUploadURLExternal")
    assert start["filename"] == "leaderboard.png"
    assert slack.fake.uploads == [png]
    [done] = slack.fake.of("files.completeUploadExternal")
    assert done["channel_id"] == PRIYA_DM


async def test_a_person_who_wrote_to_the_bot_is_told_things_in_that_dm(
    slack: SlackDriver, probe: Probe
) -> None:
    """Their DM with the bot is the channel their message came in: no conversations.open."""
    await slack.dm("hello", user=SAM_ID, channel="DSAMWITHBOT")
    probe.replies = [Reply("Sent to Sam"), Reply("Priya referred Acme to you", to_person=SAM)]
    await slack.dm("probe")

    assert slack.fake.of("conversations.open") == []
    posts = [(p["channel"], section_texts(p)) for p in slack.fake.of("chat.postMessage")]
    assert ("DSAMWITHBOT", ["Priya referred Acme to you"]) in posts


async def test_replies_for_other_people_are_delivered_as_dms(
    slack: SlackDriver, probe: Probe
) -> None:
    probe.replies = [
        Reply("Sent to Sam"),
        Reply("Priya referred Acme to you", to_person="sam.patel@hartwellfinch.example"),
        Reply("Owen, heads up", to_person=OWEN),  # no slack_id yet: looked up by email
        Reply("Bethan, heads up", to_person="bethan.morris@hartwellfinch.example"),
        Reply("A win!", to_channel="CWINS"),
    ]
    await slack.dm("probe")

    looked_up = [p["email"] for p in slack.fake.requested("users.lookupByEmail")]
    assert looked_up == [OWEN, "bethan.morris@hartwellfinch.example"]
    assert [p["users"] for p in slack.fake.of("conversations.open")] == [SAM_ID, OWEN_ID]
    posts = {p["channel"]: section_texts(p) for p in slack.fake.of("chat.postMessage")}
    assert posts[dm_channel(SAM_ID)] == ["Priya referred Acme to you"]
    assert posts[dm_channel(OWEN_ID)] == ["Owen, heads up"]
    assert posts["CWINS"] == ["A win!"]
    # Priya's own answer goes first; Bethan is not in this Slack workspace, so Priya is
    # then told rather than left to believe she was.
    here = [section_texts(p) for p in slack.fake.of("chat.postMessage") if p["channel"] == PRIYA_DM]
    assert here[0] == ["Sent to Sam"]
    assert "bethan.morris@hartwellfinch.example" in here[1][0]
