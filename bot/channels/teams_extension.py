"""The message extension's invokes: "Log as referral" on any message.

Teams sends these as `invoke` activities that want an answer in the HTTP response:

- `composeExtension/fetchTask` (the action was picked on a message): a task module with
  the card of the router's answer to the action, here the referral form filled in from
  the message (the same router action as Slack's message shortcut);
- `composeExtension/submitAction` (a card in the task module was submitted): the router's
  answer; a form goes back into the task module, anything else closes it and is sent as
  messages.

Only translation happens here: what the replies say is the router's business.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from botbuilder.core import CardFactory
from botbuilder.core.invoke_response import InvokeResponse
from botbuilder.schema import Activity, ActivityTypes
from botbuilder.schema.teams import (
    MessagingExtensionActionResponse,
    TaskModuleContinueResponse,
    TaskModuleTaskInfo,
)

from bot.channels.teams_cards import adaptive_card
from bot.channels.teams_package import MESSAGE_ACTIONS
from bot.messages import Reply

FETCH_TASK = "composeExtension/fetchTask"
SUBMIT_ACTION = "composeExtension/submitAction"
_TAG = re.compile(r"<[^>]+>")
_BREAK = re.compile(r"<br\s*/?>|</p>|</div>", re.I)


@dataclass
class ExtensionCall:
    """What an invoke asks for, in our terms: a router action and its payload."""

    action: str | None
    payload: dict[str, Any]


def read_invoke(activity: Activity) -> ExtensionCall | None:
    """The router action a message-extension invoke stands for (None: not one of ours)."""
    value = activity.value if isinstance(activity.value, dict) else {}
    if activity.name == FETCH_TASK:
        action = MESSAGE_ACTIONS.get(str(value.get("commandId") or ""))
        if action is None:
            return None
        return ExtensionCall(action, {"text": message_payload_text(value)})
    if activity.name == SUBMIT_ACTION:
        data = _object(value, "data")
        action = data.get("action") if isinstance(data.get("action"), str) else None
        payload = {k: v for k, v in data.items() if k not in ("action", "msteams")}
        return ExtensionCall(action, payload)
    return None


def message_payload_text(value: dict[str, Any]) -> str:
    """The plain text of the message the action was picked on (Teams sends it as HTML)."""
    body = _object(_object(value, "messagePayload"), "body")
    content = str(body.get("content") or "")
    if str(body.get("contentType") or "html").lower() == "html":
        content = _TAG.sub("", _BREAK.sub("\n", content))
    return html.unescape(content).replace("\xa0", " ").strip()


def task_card(reply: Reply) -> InvokeResponse:
    """Show `reply` as the task module's card (a form to fill in, or what went wrong)."""
    card = CardFactory.adaptive_card(adaptive_card(reply))
    info = TaskModuleTaskInfo(title=_title(reply), card=card)
    body = MessagingExtensionActionResponse(task=TaskModuleContinueResponse(value=info))
    return InvokeResponse(status=200, body=body)


def close_task() -> InvokeResponse:
    """Close the task module (what it led to is sent as messages)."""
    return InvokeResponse(status=200, body=MessagingExtensionActionResponse())


def invoke_response(response: InvokeResponse) -> Activity:
    """The activity that hands `response` to the adapter (sent as the HTTP answer)."""
    return Activity(type=ActivityTypes.invoke_response, value=response)


def _title(reply: Reply) -> str:
    return reply.form.title if reply.form else ""


def _object(value: dict[str, Any], key: str) -> dict[str, Any]:
    """`value[key]` when it is an object, else {} (a client may send anything)."""
    found = value.get(key)
    return found if isinstance(found, dict) else {}
