"""manifest.json and the adapter agree: everything declared is handled, and vice versa,
with exactly the scopes the adapter's Web API calls and events need."""

from __future__ import annotations

import json
import re

import pytest

from bot.channels import slack as slack_channel
from tests.conftest import REPO
from tests.slack.conftest import PRIYA_ID, SlackDriver

MANIFEST = json.loads((REPO / "manifest.json").read_text())
FEATURES = MANIFEST["features"]
SETTINGS = MANIFEST["settings"]

# Slack's documented scope for each Web API method and event the adapter uses.
METHOD_SCOPES = {
    "chat_postMessage": {"chat:write"},
    "chat_postEphemeral": {"chat:write"},
    "conversations_open": {"im:write"},
    "users_info": {"users:read", "users:read.email"},  # the email needs the second
    "users_lookupByEmail": {"users:read.email"},
    "files_upload_v2": {"files:write"},
    "views_open": set(),
    "views_publish": set(),
    "conversations_history": {"im:history"},  # a resumed post looks only in DMs
    "conversations_replies": {"im:history"},
}
EVENT_SCOPES = {"app_mention": {"app_mentions:read"}, "message.im": {"im:history"}}


def _manifest_commands() -> set[str]:
    return {c["command"] for c in FEATURES["slash_commands"]}


def _manifest_shortcuts() -> set[str]:
    return {s["callback_id"] for s in FEATURES["shortcuts"]}


def test_declared_and_registered_commands_events_shortcuts_match(slack: SlackDriver) -> None:
    registered = slack.channel.registered
    assert {n for kind, n in registered if kind == "command"} == _manifest_commands()
    assert {n for kind, n in registered if kind == "event"} == set(
        SETTINGS["event_subscriptions"]["bot_events"]
    )
    assert {n for kind, n in registered if kind == "shortcut"} == _manifest_shortcuts()
    assert any(kind == "interactivity" for kind, _ in registered)
    assert SETTINGS["interactivity"]["is_enabled"] is True
    assert FEATURES["app_home"]["home_tab_enabled"] is True
    assert FEATURES["app_home"]["messages_tab_enabled"] is True
    assert FEATURES["bot_user"]["display_name"]


def test_every_request_url_is_our_endpoint() -> None:
    urls = [c["url"] for c in FEATURES["slash_commands"]]
    urls += [
        SETTINGS["event_subscriptions"]["request_url"],
        SETTINGS["interactivity"]["request_url"],
        SETTINGS["interactivity"]["message_menu_options_url"],
    ]
    assert all(url.endswith("/slack/events") for url in urls)


def test_scopes_are_exactly_what_the_adapter_uses() -> None:
    source = (REPO / "bot" / "channels" / "slack.py").read_text()
    methods = set(re.findall(r"\.client\.([a-z]+_[A-Za-z0-9_]+)\(", source))
    methods |= set(re.findall(r"inbox\.once\(\s*self\.client\.([a-z]+_[A-Za-z0-9_]+),", source))
    assert methods == set(METHOD_SCOPES), "a new Web API call needs its scope in the manifest"
    needed = set().union(*METHOD_SCOPES.values())
    for event in SETTINGS["event_subscriptions"]["bot_events"]:
        needed |= EVENT_SCOPES.get(event, set())
    needed.add("commands")  # slash commands and shortcuts
    declared = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    assert declared == needed == set(slack_channel.SCOPES)


async def test_an_undeclared_event_is_not_handled(slack: SlackDriver) -> None:
    status, _ = await slack.event({"type": "reaction_added", "user": PRIYA_ID})

    assert status == 404  # so the checks below would notice a missing handler


@pytest.mark.parametrize("command", sorted(_manifest_commands()))
async def test_every_declared_command_is_handled(slack: SlackDriver, command: str) -> None:
    status, _ = await slack.command(command, "help")

    assert status == 200
    assert slack.fake.responses or slack.fake.of("views.open")


@pytest.mark.parametrize("event", sorted(SETTINGS["event_subscriptions"]["bot_events"]))
async def test_every_declared_event_is_handled(slack: SlackDriver, event: str) -> None:
    kind = event.split(".")[0]
    payload = {"type": kind, "user": PRIYA_ID, "channel": "C1", "text": "hi", "ts": "1.1"}
    if event == "message.im":
        payload |= {"channel_type": "im", "channel": "DX"}
    if event == "app_home_opened":
        payload |= {"tab": "home"}
    status, _ = await slack.event(payload)

    assert status == 200
    assert slack.fake.of("chat.postMessage") or slack.fake.of("views.publish")


@pytest.mark.parametrize("callback_id", sorted(_manifest_shortcuts()))
async def test_every_declared_shortcut_is_handled(slack: SlackDriver, callback_id: str) -> None:
    payload = {
        "type": "message_action",
        "callback_id": callback_id,
        "trigger_id": "t1",
        "user": {"id": PRIYA_ID},
        "channel": {"id": "C1"},
        "message": {"type": "message", "ts": "1.1", "text": "Acme needs help"},
        "response_url": slack.fake.response_url("s"),
    }
    status, _ = await slack.interact(payload)

    assert status == 200
    assert slack.fake.responses or slack.fake.of("views.open")
