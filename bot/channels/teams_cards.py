"""Reply → Adaptive Card (schema 1.5) or markdown text, as Teams renders them.

The card half of the Teams channel (like Slack's `slack_blocks.py`): pure functions from
the neutral `Reply` to Bot Framework activities; `teams.py` sends what these build.
"""

from __future__ import annotations

import base64
import io
import re
from typing import Any

from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import Activity
from PIL import Image

from bot.messages import Button, Form, FormInput, Reply
from bot.render import convert, render

CARD_VERSION = "1.5"
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
# Teams rejects bot messages over about 28 KB counted in UTF-16 (2 bytes a character), so a
# chart's data: URI stays under 22 KB of it, leaving room for the rest of the card.
MAX_IMAGE_URI_CHARS = 11_000
# A choice set lists at most this many characters of choices (8 KB of the 28 KB a message
# may hold, in UTF-16), the one already chosen first.
MAX_STATIC_CHOICE_CHARS = 4_000
FILTERED_FROM = 6  # choices from which a choice set is a type-to-filter list


def escape_data(text: str) -> str:
    """Teams' one rule for data (names, notes, story text, form values): shown as written.

    `](`, `][` and `]:` are split so no inline or reference link can form, a `<` that
    could open an HTML tag becomes `‹`, and the characters that could open or close
    emphasis or code are swapped for look-alikes: Adaptive Card markdown has no reliable
    escape. An underscore inside a word (`priya_shah`) emphasises nothing.
    """
    text = _LINK_JOINS.sub(lambda m: m[0][0] + "\u200b" + m[0][1], text)
    return _FORMATTING.sub(_inert, _TAG_OPEN.sub("\u2039", text))


_LINK_JOINS = re.compile(r"\][(\[:]")
_TAG_OPEN = re.compile(r"<(?=[A-Za-z/!?])")
_FORMATTING = re.compile(r"[*_~`]")
_LOOKALIKES = {"*": "\u2217", "_": "\u02cd", "~": "\u223c", "`": "\u02cb"}


def _inert(match: re.Match[str]) -> str:
    char, at, text = match[0], match.start(), match.string
    inside_word = 0 < at < len(text) - 1 and text[at - 1].isalnum() and text[at + 1].isalnum()
    return char if inside_word and char == "_" else _LOOKALIKES[char]


def teams_markdown(text: str, *, unmarked_is_data: bool = False) -> str:
    """Our light markdown in the subset Teams renders, the data in it escaped."""
    return convert(text, _teams_markup, escape_data, unmarked_is_data=unmarked_is_data)


def _teams_markup(text: str) -> str:
    """A template's markdown for Teams (no inline code, no headings)."""
    text = re.sub(r"`([^`]+)`", r"\1", text)
    return re.sub(r"^#{1,6}\s+(.+)$", r"**\1**", text, flags=re.M)


def _text_blocks(text: str) -> list[dict[str, Any]]:
    paragraphs = [p.strip("\n") for p in re.split(r"\n\s*\n", teams_markdown(text)) if p.strip()]
    return [
        {"type": "TextBlock", "text": p, "wrap": True, "spacing": "Medium" if n else "None"}
        for n, p in enumerate(paragraphs)
    ]


def _submit(button: Button) -> dict[str, Any]:
    action: dict[str, Any] = {
        "type": "Action.Submit",
        "title": button.label,
        "data": {**button.value, "action": button.action},
    }
    if button.style:
        action["style"] = "positive" if button.style == "primary" else "destructive"
    return action


def _input(field: FormInput) -> dict[str, Any]:
    element: dict[str, Any] = {"id": field.name, "label": field.label, "isRequired": field.required}
    if field.required:
        element["errorMessage"] = render("teams_required_field", label=field.label)
    if field.kind == "select":
        element.update(_choice_set(field))
    elif field.kind == "number":
        element["type"] = "Input.Number"
    elif field.kind == "date":
        element["type"] = "Input.Date"
    else:  # text, textarea and person (a name or an email; the router resolves it)
        element["type"] = "Input.Text"
        element["isMultiline"] = field.kind == "textarea"
    if field.initial:
        element["value"] = field.initial
    if field.placeholder and element["type"] != "Input.ChoiceSet":
        element["placeholder"] = field.placeholder
    return element


def _choice_set(field: FormInput) -> dict[str, Any]:
    """A dropdown; a long one filters as people type, and lists what fits in a message."""
    choices = [{"title": label, "value": value} for value, label in field.options]
    element: dict[str, Any] = {
        "type": "Input.ChoiceSet",
        "style": "filtered" if len(choices) >= FILTERED_FROM else "compact",
        "choices": choices,
    }
    if sum(len(c["title"]) + len(c["value"]) + 24 for c in choices) <= MAX_STATIC_CHOICE_CHARS:
        return element
    initial = [c for c in choices if c["value"] == field.initial]
    kept, used = list(initial), sum(len(c["title"]) + len(c["value"]) + 24 for c in initial)
    for choice in choices:
        used += len(choice["title"]) + len(choice["value"]) + 24
        if used > MAX_STATIC_CHOICE_CHARS:
            break
        if choice not in initial:
            kept.append(choice)
    element["choices"] = kept
    return element


def _form(form: Form) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    title = teams_markdown(form.title, unmarked_is_data=True)
    body = [{"type": "TextBlock", "text": title, "weight": "Bolder", "wrap": True}]
    body += [_input(field) for field in form.inputs]
    submit = {
        "type": "Action.Submit",
        "title": form.submit_label,
        "style": "positive",
        "data": {**form.context, "action": form.submit_action},
    }
    return body, submit


def image_uri(png: bytes, limit: int = MAX_IMAGE_URI_CHARS) -> str:
    """A PNG as a data: URI, re-encoded smaller until it fits inside a Teams message."""
    uri = "data:image/png;base64," + base64.b64encode(png).decode()
    if len(uri) <= limit:
        return uri
    with Image.open(io.BytesIO(png)) as original:
        image = original.convert("RGB").quantize(colors=64)
        while True:
            buffer = io.BytesIO()
            image.save(buffer, format="PNG", optimize=True)
            uri = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
            if len(uri) <= limit or image.width < 160:
                return uri
            size = (int(image.width * 0.8), int(image.height * 0.8))
            image = image.resize(size)


def adaptive_card(reply: Reply) -> dict[str, Any]:
    """The Adaptive Card (schema 1.5) for a reply with facts, buttons, a form or a chart."""
    body = _text_blocks(reply.text)
    if reply.facts:
        facts = [
            {
                "title": teams_markdown(f.label, unmarked_is_data=True),
                "value": teams_markdown(f.value, unmarked_is_data=True),
            }
            for f in reply.facts
        ]
        body.append({"type": "FactSet", "facts": facts})
    if reply.image:
        body.append(
            {
                "type": "Image",
                "url": image_uri(reply.image),
                "altText": reply.image_alt,
                "size": "Stretch",
            }
        )
    actions = [_submit(button) for button in reply.buttons]
    if reply.form:
        inputs, submit = _form(reply.form)
        body += inputs
        actions.insert(0, submit)
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": CARD_SCHEMA,
        "version": CARD_VERSION,
        "body": body,
        "msteams": {"width": "Full"},
    }
    if actions:
        card["actions"] = actions
    return card


def to_activity(reply: Reply) -> Activity:
    """A card when there is something to show or press, markdown text otherwise."""
    if reply.facts or reply.buttons or reply.form or reply.image:
        activity = MessageFactory.attachment(CardFactory.adaptive_card(adaptive_card(reply)))
        activity.summary = _summary(reply.text)
        return activity
    activity = MessageFactory.text(teams_markdown(reply.text))
    activity.text_format = "markdown"
    return activity


def _summary(text: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "")
    return re.sub(r"[*_`\[\]]|\(http\S*\)", "", first).strip()[:120]
