"""`Reply` → Block Kit, `Form` → modal, and Slack's inbound markup → plain text.

Pure functions, no I/O: the adapter in `bot.channels.slack` feeds them and sends the result.
Slack's limits (`slack_limits`: 3000 characters a section, 10 fields, 25 buttons, 100
options, 24-character titles...) are enforced here so that a long answer is split or cut
with "Show the whole card" rather than rejected by the API.
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any
from uuid import uuid4

from bot.channels import slack_limits as limits
from bot.messages import Button, Form, FormInput, Reply
from bot.render import Rendered, convert, render

FORM_CALLBACK = "crossbot_form"
OPEN_FORM_ACTION = "slack.open_form"
SHOW_WHOLE_ACTION = "slack.show_whole"  # the rest of a reply cut to fit one message
WHOLE_KIND = "slack_whole"  # a reply shown whole, split across messages, never cut
CHOICES_ACTION = "choices."  # action_id prefix of a menu whose options load as one types
STASHED = "~stash"  # a button value or modal metadata too big for Slack, kept in a `Stash`
SECTION_LIMIT = limits.SECTION_TEXT
FIELD_LIMIT = limits.FIELD_TEXT
FIELDS_PER_SECTION = limits.FIELDS_PER_SECTION
BUTTONS_PER_BLOCK = limits.ACTIONS_ELEMENTS
VALUE_LIMIT = limits.BUTTON_VALUE
METADATA_LIMIT = limits.PRIVATE_METADATA
MESSAGE_BLOCKS = limits.MESSAGE_BLOCKS
HOME_BLOCKS = limits.HOME_BLOCKS
_DUPLICATE_SUFFIX = re.compile(r"~\d+$")


class Stash:
    """A bounded in-memory store for things Slack cannot carry (oversized values, forms).

    The server uses `bot.channels.stash.StoredStash`, the same in the database; this one is
    lost on restart (a stale reference gets a friendly "please ask again").
    """

    def __init__(self, size: int = 2000) -> None:
        self._items: OrderedDict[str, Any] = OrderedDict()
        self._size = size

    def put(self, item: Any) -> str:
        key = uuid4().hex
        self._items[key] = item
        while len(self._items) > self._size:
            self._items.popitem(last=False)
        return key

    def get(self, key: str) -> Any:
        return self._items.get(key)


# --- text ----------------------------------------------------------------------------------
def escape(text: str) -> str:
    """Slack's three control characters, escaped as its docs require."""
    if "&" in text:  # first: the entities the other two become hold an `&`
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def escape_data(text: str) -> str:
    """Slack's one rule for data (names, notes, story text, form values): shown as written.

    `&`, `<` and `>` are escaped, so no link, mention or `<!channel>` can be formed; the
    formatting characters that could open or close bold, italics, strike or code are
    swapped for look-alikes (Slack has no escape for them). One inside a word
    (`priya_shah`) formats nothing in Slack and is kept.
    """
    text = escape(text)
    # Most data (a name, a client) has none of them: a scan is cheaper than a `sub`.
    return _FORMATTING.sub(_inert, text) if _FORMATTING.search(text) else text


_FORMATTING = re.compile(r"[*_~`]")
_LOOKALIKES = {"*": "\u2217", "_": "\u02cd", "~": "\u223c", "`": "\u02cb"}


def _inert(match: re.Match[str]) -> str:
    char, at, text = match[0], match.start(), match.string
    inside_word = 0 < at < len(text) - 1 and text[at - 1].isalnum() and text[at + 1].isalnum()
    return char if inside_word and char != "`" else _LOOKALIKES[char]


def mrkdwn(markdown: str, *, unmarked_is_data: bool = False) -> str:
    """Our light markdown as Slack mrkdwn, the data in it escaped (`escape_data`)."""
    if unmarked_is_data and not isinstance(markdown, Rendered):
        return escape_data(markdown)  # all data: what `convert` would give, without the round
    return convert(markdown, _mrkdwn_markup, escape_data, unmarked_is_data=unmarked_is_data)


# Compiled once; each is applied only when the text holds what it looks for (most
# templates have no heading, link or strike, and a `sub` that finds nothing still scans).
_BULLET = re.compile(r"^(\s*)[-*] ", re.M)
_HEADING = re.compile(r"^#{1,6}\s+(.+)$", re.M)
_LINK_MD = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.S)
_STRIKE = re.compile(r"~~(.+?)~~")


def _mrkdwn_link(match: re.Match[str]) -> str:
    return f"<{match[2]}|{match[1].replace('|', '/')}>"


def _mrkdwn_markup(markdown: str) -> str:
    """A template's markdown as mrkdwn: `**b**`→`*b*`, `[t](u)`→`<u|t>`, bullets, escaping."""
    text = escape(markdown)
    if "- " in text or "* " in text:
        text = _BULLET.sub(r"\1• ", text)
    if "#" in text:
        text = _HEADING.sub(r"**\1**", text)
    if "](" in text:
        text = _LINK_MD.sub(_mrkdwn_link, text)
    if "**" in text:
        text = _BOLD.sub(r"*\1*", text)
    return _STRIKE.sub(r"~\1~", text) if "~~" in text else text


def plain(markdown: str) -> str:
    """The notification text of a message: markdown stripped, data escaped."""
    return convert(markdown, _plain_markup, escape_data)


def _plain_markup(markdown: str) -> str:
    text = _BOLD.sub(r"\1", markdown) if "**" in markdown else markdown
    if "](" in text:
        text = _LINK_MD.sub(r"\1 (\2)", text)
    return escape(text.replace("`", ""))


def _plain_text(text: str, limit: int) -> dict[str, Any]:
    text = " ".join(text.split()) or "…"
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return {"type": "plain_text", "text": text, "emoji": True}


def _chunks(text: str, limit: int) -> list[str]:
    """Split at paragraph, then line, then hard boundaries so each piece fits.

    Blank pieces are dropped: Slack refuses a section with empty text.
    """
    pieces: list[str] = []
    text = text.strip("\n")
    while len(text) > limit:
        cut = text.rfind("\n\n", 0, limit)
        if cut <= 0:
            cut = text.rfind("\n", 0, limit)
        if cut <= 0:
            cut = limit
        if text[:cut].strip():
            pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip("\n")
    if text.strip():
        pieces.append(text)
    return pieces


def sections(markdown: str) -> list[dict[str, Any]]:
    return _sections(_chunks(mrkdwn(markdown), SECTION_LIMIT))


def _sections(pieces: list[str]) -> list[dict[str, Any]]:
    return [
        # verbatim: Slack does not turn bare URLs or #channel names into links.
        {"type": "section", "text": {"type": "mrkdwn", "text": piece, "verbatim": True}}
        for piece in pieces
    ]


# --- messages ------------------------------------------------------------------------------
def button_value(value: dict[str, Any], stash: Stash) -> str:
    encoded = json.dumps(value, separators=(",", ":"), default=str)
    if len(encoded) > VALUE_LIMIT:
        encoded = json.dumps({STASHED: stash.put(value)})
    return encoded


def read_value(raw: str | None, stash: Stash) -> dict[str, Any]:
    """A button value back into our payload (`{}` when it is not ours or has expired)."""
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {}
    if isinstance(value, dict) and STASHED in value:
        value = stash.get(str(value[STASHED])) or {}
    return value if isinstance(value, dict) else {}


def action_id(raw: str) -> str:
    """Our action id from Slack's (duplicates in one block carry a `~n` suffix)."""
    return _DUPLICATE_SUFFIX.sub("", raw)


def _buttons(buttons: list[Button], stash: Stash) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for start in range(0, len(buttons), BUTTONS_PER_BLOCK):
        seen: set[str] = set()
        elements = []
        for n, button in enumerate(buttons[start : start + BUTTONS_PER_BLOCK]):
            # Slack rejects two equal action_ids in one block ("card.show" for three cards).
            aid = button.action if button.action not in seen else f"{button.action}~{n}"
            seen.add(button.action)
            element: dict[str, Any] = {
                "type": "button",
                "text": _plain_text(button.label, 75),
                "action_id": aid,
                "value": button_value(button.value, stash),
            }
            if button.style:
                element["style"] = button.style
            elements.append(element)
        blocks.append({"type": "actions", "elements": elements})
    return blocks


def reply_blocks(reply: Reply, stash: Stash) -> list[dict[str, Any]]:
    """One reply as blocks: its text, its facts as fields, its buttons as an actions block.

    A text longer than one message should carry (`slack_limits.REPLY_CHARS`) is cut at a
    paragraph, with a "Show the whole card" button that posts all of it (`WHOLE_KIND`).
    """
    pieces = _chunks(mrkdwn(reply.text), SECTION_LIMIT)
    buttons = reply.buttons
    if reply.kind != WHOLE_KIND:
        pieces, cut = limits.fit_text(pieces)
        if cut:
            label = render("slack_show_whole", kind=reply.kind)
            whole = {"text": reply.text, "kind": reply.kind}
            buttons = [Button(label, SHOW_WHOLE_ACTION, whole), *buttons]
    blocks = _sections(pieces)
    fields = [
        {
            "type": "mrkdwn",
            "text": _field(fact.label, fact.value),
            "verbatim": True,
        }
        for fact in reply.facts
    ]
    for start in range(0, len(fields), FIELDS_PER_SECTION):
        blocks.append({"type": "section", "fields": fields[start : start + FIELDS_PER_SECTION]})
    return blocks + _buttons(buttons, stash)


def _field(label: str, value: str) -> str:
    label = mrkdwn(label, unmarked_is_data=True)
    return f"*{label}*\n{mrkdwn(value, unmarked_is_data=True)}"[:FIELD_LIMIT]


def message_blocks(replies: Iterable[Reply], stash: Stash) -> list[list[dict[str, Any]]]:
    """Several replies as as few messages as Slack allows (`slack_limits.split_messages`)."""
    return limits.split_messages(_divided(replies, stash))


def _divided(replies: Iterable[Reply], stash: Stash) -> list[dict[str, Any]]:
    """Each reply's blocks, a divider between one reply and the next."""
    blocks: list[dict[str, Any]] = []
    for reply in replies:
        if blocks:
            blocks.append({"type": "divider"})
        blocks += reply_blocks(reply, stash)
    return blocks


def fallback_text(replies: Iterable[Reply]) -> str:
    return "\n\n".join(plain(r.text) for r in replies if r.text)[:SECTION_LIMIT]


def home_view(replies: list[Reply], stash: Stash) -> dict[str, Any]:
    """The App Home tab: the replies the `home.show` action produced, one after the other."""
    blocks = _divided(replies, stash)
    return {"type": "home", "blocks": blocks[:HOME_BLOCKS]}


# --- forms ---------------------------------------------------------------------------------
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _element(field: FormInput, slack_ids: dict[str, str]) -> dict[str, Any]:
    element: dict[str, Any]
    if field.kind == "select" and field.options:
        element = _select(field)
    elif field.kind == "person":
        element = {"type": "users_select"}
        if field.initial in slack_ids:
            element["initial_user"] = slack_ids[field.initial]
    elif field.kind == "date":
        element = {"type": "datepicker"}
        if _DATE.match(field.initial):
            element["initial_date"] = field.initial
    elif field.kind == "number":
        element = {"type": "number_input", "is_decimal_allowed": True}
        if re.fullmatch(r"-?\d+(\.\d+)?", field.initial):
            element["initial_value"] = field.initial
    else:
        element = {"type": "plain_text_input", "multiline": field.kind == "textarea"}
        if field.initial:
            element["initial_value"] = field.initial
    if field.placeholder and field.kind not in ("number",):
        element["placeholder"] = _plain_text(field.placeholder, 150)
    element.setdefault("action_id", field.name)
    return element


def _select(field: FormInput) -> dict[str, Any]:
    """A menu: its options listed when they fit in one (100), else loaded as one types.

    Up to 100 the menu needs no round trip and works even if the options URL does not;
    beyond, `external_select` asks our options handler (`CHOICES_ACTION` + the source).
    """
    every = [_option(value, label) for value, label in field.options]
    chosen = [o for o in every if o["value"] == field.initial]
    element: dict[str, Any]
    if len(every) > limits.SELECT_OPTIONS and field.choices:
        element = {"type": "external_select", "min_query_length": 0}
        element["action_id"] = CHOICES_ACTION + field.choices
    else:
        element = {"type": "static_select", "options": every[: limits.SELECT_OPTIONS]}
        chosen = [o for o in chosen if o in element["options"]]
    if chosen:
        element["initial_option"] = chosen[0]
    return element


def _option(value: str, label: str) -> dict[str, Any]:
    return {"text": _plain_text(label, limits.OPTION_TEXT), "value": value[: limits.OPTION_VALUE]}


def options_payload(options: list[tuple[str, str]]) -> dict[str, Any]:
    """The answer to an options request: at most 100 (value, label) pairs."""
    return {"options": [_option(v, lab) for v, lab in options[: limits.SELECT_OPTIONS]]}


def modal_view(
    form: Form,
    text: str,
    metadata: dict[str, Any],
    stash: Stash,
    slack_ids: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A form as a modal; `metadata` (the submit action and context) rides in private_metadata.

    `slack_ids` maps the emails of person fields' initial values to Slack user ids.
    """
    encoded = json.dumps(metadata, separators=(",", ":"), default=str)
    if len(encoded) > METADATA_LIMIT:
        encoded = json.dumps({STASHED: stash.put(metadata)})
    inputs = [
        {
            "type": "input",
            "block_id": field.name,
            "optional": not field.required,
            "label": _plain_text(field.label, 2000),
            "element": _element(field, slack_ids or {}),
        }
        for field in form.inputs
    ]
    return {
        "type": "modal",
        "callback_id": FORM_CALLBACK,
        "title": _plain_text(form.title, 24),
        "submit": _plain_text(form.submit_label, 24),
        "private_metadata": encoded,
        "blocks": (sections(text) if text else [])[: limits.MODAL_BLOCKS - len(inputs)] + inputs,
    }


def read_metadata(raw: str | None, stash: Stash) -> dict[str, Any]:
    return read_value(raw, stash)


def form_values(state: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """A submitted modal's values by input name, and the Slack user ids of person fields."""
    values: dict[str, str] = {}
    users: dict[str, str] = {}
    for name, actions in (state or {}).items():
        for answer in actions.values():
            kind = answer.get("type")
            if kind == "users_select":
                if answer.get("selected_user"):
                    users[name] = answer["selected_user"]
                values[name] = ""
            elif kind in ("static_select", "external_select"):
                values[name] = (answer.get("selected_option") or {}).get("value", "")
            elif kind == "datepicker":
                values[name] = answer.get("selected_date") or ""
            else:
                values[name] = answer.get("value") or ""
    return values, users


# --- inbound text --------------------------------------------------------------------------
_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>")
_CHANNEL = re.compile(r"<#[CG][A-Z0-9]+\|([^>]*)>")
_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!(here|channel|everyone)(?:\|[^>]*)?>")


def mentioned_users(text: str) -> list[str]:
    return [m[1] for m in _USER.finditer(text or "")]


def inbound_text(text: str, names: Callable[[str], str | None], strip_user: str = "") -> str:
    """Slack's markup as the plain text a person meant to type.

    `<@U1>` becomes the person's name (`names`), `strip_user` (the bot) is removed,
    links lose their brackets, `&amp;`/`&lt;`/`&gt;` are unescaped.
    """

    def user(match: re.Match[str]) -> str:
        if match[1] == strip_user:
            return ""
        return names(match[1]) or match[2] or match[1]

    def link(match: re.Match[str]) -> str:
        url, label = match[1], match[2]
        if url.startswith("mailto:"):
            return label or url.removeprefix("mailto:")
        return url if not label or label == url else f"{label} ({url})"

    text = text or ""
    if "<" in text:  # every markup of Slack's is in angle brackets; most messages have none
        text = _USER.sub(user, text)
        text = _CHANNEL.sub(lambda m: f"#{m[1]}", text)
        text = _LINK.sub(link, text)
        text = _SPECIAL.sub(lambda m: f"@{m[1]}", text)
    if "&" in text:
        text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    # "@Crossbot, who does tax?" → "who does tax?"
    return _LEADING.sub("", text).strip()


_LEADING = re.compile(r"^[\s,:;]+")
