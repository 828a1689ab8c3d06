"""Slack's size limits in one place, and how a reply too long for one message is cut.

The numbers are Slack's documented Block Kit limits (api.slack.com/reference/block-kit):
`slack_blocks` builds every payload within them, and `fit_text` decides how much of a long
reply one message shows. Two budgets are ours, not Slack's: Slack documents no total size
for a message, but refuses very long ones (`msg_too_long`) and folds anything past a few
screens behind "See more", so a message carries at most `MESSAGE_CHARS` characters of text
and one reply shows at most `REPLY_CHARS` before "Show the whole card".
"""

from __future__ import annotations

MESSAGE_BLOCKS = 50
MODAL_BLOCKS = 100
HOME_BLOCKS = 100
SECTION_TEXT = 3000
FIELD_TEXT = 2000
FIELDS_PER_SECTION = 10
HEADER_TEXT = 150
ACTIONS_ELEMENTS = 25
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
OPTION_TEXT = 75
OPTION_VALUE = 150
SELECT_OPTIONS = 100
INPUT_LABEL = 2000
PLACEHOLDER = 150
VIEW_TITLE = 24
PRIVATE_METADATA = 3000
FALLBACK_TEXT = 3000  # the notification text; Slack truncates `text` at 40,000
# Ours (see above): text per message, and per reply before it is cut.
MESSAGE_CHARS = 12_000
REPLY_CHARS = 8_000
# What chat.postMessage answers when a payload is still too big or malformed.
REFUSALS = frozenset({"invalid_blocks", "invalid_blocks_format", "msg_too_long", "too_many_blocks"})


def fit_text(pieces: list[str], budget: int = REPLY_CHARS) -> tuple[list[str], bool]:
    """The leading pieces (sections) whose text fits `budget`, and whether any were left out.

    The first piece is always kept: a section is never longer than `SECTION_TEXT`.
    """
    kept: list[str] = []
    used = 0
    for piece in pieces:
        if kept and used + len(piece) > budget:
            return kept, True
        kept.append(piece)
        used += len(piece)
    return kept, False


def block_chars(block: dict[str, object]) -> int:
    """The characters of text a block carries (its section text and fields)."""
    total = 0
    text = block.get("text")
    if isinstance(text, dict):
        total += len(str(text.get("text", "")))
    fields = block.get("fields")
    if isinstance(fields, list):
        total += sum(len(str(f.get("text", ""))) for f in fields if isinstance(f, dict))
    return total


def split_messages(blocks: list[dict[str, object]]) -> list[list[dict[str, object]]]:
    """Blocks as consecutive messages of at most `MESSAGE_BLOCKS` blocks and `MESSAGE_CHARS`
    characters; a message never starts with a divider."""
    messages: list[list[dict[str, object]]] = []
    current: list[dict[str, object]] = []
    used = 0
    for block in blocks:
        size = block_chars(block)
        if current and (len(current) >= MESSAGE_BLOCKS or used + size > MESSAGE_CHARS):
            messages.append(current)
            current, used = [], 0
        if not current and block.get("type") == "divider":
            continue
        current.append(block)
        used += size
    if current or not messages:
        messages.append(current)
    return messages
