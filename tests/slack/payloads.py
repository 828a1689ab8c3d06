"""What Slack posts to the bot, built in one place: an event's envelope, a DM event, a
button press and a slash command, as the request bodies Slack sends.

The Slack tests' driver (`tests/slack/conftest.py`) and the load benchmarks
(`benchmarks/load.py`, `benchmarks/receiver_pieces.py`, `benchmarks/slack_throughput.py`)
all send these, signed by `sign`. Only the standard library, slack_sdk's signer and the
fake's names are imported, so a benchmark's client stays light.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from tests.slack.fake_slack import BOT_USER, TEAM

SECRET = "test-signing-secret"


def sign(body: str, timestamp: int | None = None, secret: str = SECRET) -> dict[str, str]:
    """Slack's v0 request signature headers for `body`, signed at `timestamp` (else now)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}


def dm_channel(user: str) -> str:
    """The DM channel the fake Slack opens with a user."""
    return "D" + user.lstrip("U")


def event_envelope(event: dict[str, Any], event_id: str, n: int, team: str = TEAM) -> str:
    """The Events API envelope Slack posts around `event` (the `n`th: its time), as JSON."""
    return json.dumps(
        {
            "token": "legacy",
            "team_id": team,
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": 1_700_000_000 + n,
            "authorizations": [{"team_id": team, "user_id": BOT_USER, "is_bot": True}],
            "event": event,
        }
    )


def dm_event(text: str, user: str, n: int, **extra: Any) -> dict[str, Any]:
    """The `message` event of `user` writing `text` to the bot (the `n`th: its ts);
    `extra` adds event fields."""
    return {
        "type": "message",
        "channel_type": "im",
        "channel": dm_channel(user),
        "user": user,
        "text": text,
        "ts": f"1700000100.{n:06d}",
        **extra,
    }


def button_payload(
    action: str,
    value: dict[str, Any] | str | None,
    user: str,
    trigger: str,
    response_url: str,
    container: dict[str, Any] | None = None,
    team: str = TEAM,
) -> dict[str, Any]:
    """The `block_actions` payload Slack posts when `user` presses button `action` on a
    message in their DM (or in `container`: another message, or the App Home view)."""
    container = container or {
        "type": "message",
        "message_ts": "1700000000.000001",
        "channel_id": dm_channel(user),
        "is_ephemeral": False,
    }
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": team},
        "user": {"id": user, "team_id": team},
        "api_app_id": "A1",
        "trigger_id": trigger,
        "container": container,
        "actions": [
            {
                "type": "button",
                "action_id": action,
                "block_id": "b1",
                "text": {"type": "plain_text", "text": "x"},
                "value": value if isinstance(value, str) else json.dumps(value or {}),
                "action_ts": "1700000000.1",
            }
        ],
    }
    if container["type"] == "message":
        payload["channel"] = {"id": container["channel_id"]}
        payload["message"] = {"ts": container["message_ts"], "type": "message"}
        payload["response_url"] = response_url
    else:
        payload["view"] = {"id": "VHOME", "type": "home"}
    return payload


def interaction_body(payload: dict[str, Any]) -> str:
    """The form body Slack posts an interaction payload in (a press, a modal submitted)."""
    return urlencode({"payload": json.dumps(payload)})


def command_body(
    command: str,
    text: str,
    user: str,
    channel: str,
    trigger: str,
    response_url: str,
    team: str = TEAM,
) -> str:
    """The form body of slash command `command` typed by `user` in `channel`."""
    return urlencode(
        {
            "token": "legacy",
            "team_id": team,
            "channel_id": channel,
            "channel_name": "directmessage" if channel.startswith("D") else "general",
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "response_url": response_url,
            "trigger_id": trigger,
            "api_app_id": "A1",
        }
    )
