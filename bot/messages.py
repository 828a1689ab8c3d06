"""The neutral message model every channel speaks: `Turn` in, `Reply` out, `Messenger` to push.

Adapters in `bot/channels/` translate platform events into `Turn`s and `Reply`s into
Block Kit, Adaptive Cards or plain text; nothing below them knows which platform it serves.
"""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol


@dataclass
class Turn:
    """One thing a person said or did.

    `person` is the email of the speaker (adapters map platform ids to it). `conversation`
    names where it happened ("console", "slack:D123", "teams:a:1x..."), so dialogue state is
    kept per person and conversation. A button press or form submit carries `action` (an
    action id such as "referral.accept") and `payload` (the button value or form values).
    """

    person: str
    conversation: str = "console"
    text: str = ""
    action: str | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    platform: str = "console"
    is_direct: bool = True
    event_id: str | None = None


@dataclass
class Button:
    label: str
    action: str
    value: dict[str, Any] = field(default_factory=dict)
    style: Literal["primary", "danger"] | None = None


@dataclass
class Fact:
    """A label and a value shown side by side (Slack fields, a Teams FactSet)."""

    label: str
    value: str


@dataclass
class FormInput:
    name: str
    label: str
    kind: Literal["text", "textarea", "number", "date", "select", "person"] = "text"
    required: bool = True
    initial: str = ""
    options: list[tuple[str, str]] = field(default_factory=list)  # (value, label)
    placeholder: str = ""
    # A search-backed source of the options (`conversation.CHOICES`), for platforms that
    # load them as the person types when there are too many for one menu.
    choices: str = ""


@dataclass
class Form:
    """A form to fill in (a Slack modal, a Teams Adaptive Card with inputs)."""

    title: str
    submit_action: str
    inputs: list[FormInput]
    submit_label: str = "Submit"
    context: dict[str, Any] = field(default_factory=dict)


@dataclass
class Reply:
    """Something the bot says.

    `text` is light markdown (`**bold**`, `_italic_`, `[label](url)`, `- ` bullets); adapters
    convert and escape it. With `to_person` (an email) or `to_channel` the reply is delivered
    there instead of the conversation the turn came from: that is how the relationship owner
    and the receiver of a referral get told. `private` asks for an ephemeral reply where the
    platform has one.
    """

    text: str
    facts: list[Fact] = field(default_factory=list)
    buttons: list[Button] = field(default_factory=list)
    form: Form | None = None
    image: bytes | None = None
    image_alt: str = ""
    to_person: str | None = None
    to_channel: str | None = None
    private: bool = False
    kind: str = ""  # the template it came from, for tests and logs


def form_to_data(form: Form) -> dict[str, Any]:
    """A form as JSON data (for the stash and the outbox)."""
    return asdict(form)


def form_from_data(data: dict[str, Any]) -> Form:
    """The form `form_to_data` stored."""
    inputs = [
        FormInput(**{**field, "options": [tuple(o) for o in field.get("options") or []]})
        for field in data.get("inputs") or []
    ]
    return Form(**{**data, "inputs": inputs})


def reply_to_data(reply: Reply) -> dict[str, Any]:
    """A reply as JSON data (a chart's image as base64)."""
    data = asdict(reply)
    if reply.image is not None:
        data["image"] = base64.b64encode(reply.image).decode("ascii")
    return data


def reply_from_data(data: dict[str, Any]) -> Reply:
    """The reply `reply_to_data` stored."""
    image, form = data.get("image"), data.get("form")
    return Reply(
        **{
            **data,
            "facts": [Fact(**f) for f in data.get("facts") or []],
            "buttons": [Button(**b) for b in data.get("buttons") or []],
            "form": form_from_data(form) if form else None,
            "image": base64.b64decode(image) if image else None,
        }
    )


class Messenger(Protocol):
    """The outbound port: how the scheduler and notifications reach people and channels.

    The domain never calls it: it returns `Reply`s (addressed with `to_person` /
    `to_channel` when they go elsewhere) and the caller, an adapter or a scheduled job,
    delivers them through its platform's `Messenger`.
    """

    async def post(self, channel: str, reply: Reply) -> None: ...

    async def dm(self, person: str, reply: Reply) -> None:
        """Send a direct message to a person, by email; raise `Unreachable` if impossible."""
        ...


class Unreachable(Exception):
    """A person or channel the platform cannot reach (e.g. never talked to the bot in Teams)."""
