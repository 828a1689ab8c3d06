"""User text never becomes live formatting in Slack: a client name is shown as typed."""

from __future__ import annotations

import json
import re

from tests.slack.conftest import ADMIN_ID, PRIYA_ID, SAM_ID, SlackDriver, dm_channel

EVIL = "[Re-verify your Slack login](https://evil.example/login) Ltd"


def _texts(payload: dict) -> list[str]:
    """Every mrkdwn text of a message: its sections, its fields, its fallback text."""
    texts = [payload.get("text") or ""]
    for block in (
        json.loads(payload["blocks"]) if isinstance(payload["blocks"], str) else payload["blocks"]
    ):
        if block.get("text"):
            texts.append(block["text"]["text"])
        texts += [f["text"] for f in block.get("fields") or []]
    return texts


async def test_a_client_name_with_a_link_reaches_receiver_and_admins_inert(
    slack: SlackDriver,
) -> None:
    metadata = json.dumps({"a": "referral.submit"})
    view = {"type": "modal", "callback_id": "crossbot_form", "private_metadata": metadata}
    values = {
        "client": {"client": {"type": "plain_text_input", "value": EVIL}},
        "receiver": {"receiver": {"type": "users_select", "selected_user": SAM_ID}},
        "service": {"service": {"type": "static_select", "selected_option": {"value": "tax"}}},
        "note": {"note": {"type": "plain_text_input", "value": "*urgent* `now` ~maybe~"}},
    }
    status, _ = await slack.submit(view, values, user=PRIYA_ID)

    assert status == 200
    posts = {p["channel"]: _texts(p) for p in slack.fake.of("chat.postMessage")}
    assert dm_channel(SAM_ID) in posts and dm_channel(ADMIN_ID) in posts
    for channel in (dm_channel(SAM_ID), dm_channel(ADMIN_ID)):
        text = "\n".join(posts[channel])
        assert "Re-verify your Slack login" in text  # the name is there, as typed
        assert "<https://evil.example" not in text  # ...but never as a Slack link
        assert not re.search(r"<[^>]*evil\.example", text)
    receiver = "\n".join(posts[dm_channel(SAM_ID)])
    assert "urgent" in receiver and "*urgent*" not in receiver and "`now`" not in receiver
    for payload in slack.fake.of("chat.postMessage"):
        for block in payload["blocks"]:
            if block.get("type") == "section" and block.get("text"):
                assert block["text"]["verbatim"] is True  # no auto-linked bare URLs either
