"""The terminal channel: `crossbot chat` and `crossbot demo`, and the harness tests drive.

Like errbot's test backend, it is a real channel: text goes in as a `Turn`, `Reply`s come
out as plain text. Buttons are pressed by typing their number (as shown, counted across
the whole answer) or their label when no other button shares it; a form asks for its
fields one line at a time, so a piped script can fill it in too (`cancel` drops it).
`quit` or `exit` leaves.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from bot.context import Context
from bot.conversation import handle
from bot.messages import Button, Form, Reply, Turn
from bot.render import convert, render

CONVERSATION = "console"
QUIT_WORDS = frozenset({"quit", "exit"})
CANCEL_WORDS = frozenset({"cancel"})


def _plain(markdown: str) -> str:
    """A template's markdown as plain text; data (names, notes...) is printed as written."""
    return convert(markdown, _plain_markup, _as_written)


def _as_written(data: str) -> str:
    return data


def _plain_markup(markdown: str) -> str:
    text = re.sub(r"\*\*(.+?)\*\*", r"\1", markdown)
    text = re.sub(r"(?<!\w)_(.+?)_(?!\w)", r"\1", text)
    text = re.sub(r"\[(.+?)\]\((.+?)\)", r"\1 (\2)", text)
    return text.replace("`", "")


def format_reply(reply: Reply, names: dict[str, str] | None = None, first: int | None = 1) -> str:
    """One reply as terminal text; its buttons are numbered from `first` (None: not numbered,
    for a reply that went to someone else and can't be pressed here)."""
    lines: list[str] = []
    if reply.to_person or reply.to_channel:
        target = reply.to_channel or (names or {}).get(reply.to_person or "", reply.to_person)
        lines.append(f"  ↳ to {target}:")
    lines += _plain(reply.text).splitlines()
    lines += [f"  {fact.label}: {fact.value}" for fact in reply.facts]
    if reply.image:
        lines.append(f"  [chart: {reply.image_alt or 'image'}]")
    if reply.buttons:
        if first is None:
            labels = "  ".join(f"[{b.label}]" for b in reply.buttons)
        else:
            labels = "  ".join(f"[{n}. {b.label}]" for n, b in enumerate(reply.buttons, first))
        lines.append(labels)
    if reply.form:
        lines.append(f"  (form: {reply.form.title})")
    indent = "    " if reply.to_person or reply.to_channel else ""
    return "\n".join(indent + line if n else line for n, line in enumerate(lines))


@dataclass
class ConsoleChannel:
    """A conversation between one person and the bot in the terminal."""

    ctx: Context
    person: str
    conversation: str = CONVERSATION
    buttons: list[Button] = field(default_factory=list)
    form: Form | None = None

    def send(self, text: str) -> list[Reply]:
        """Say something; typing a button's number, or its label if no other button has
        it, presses it."""
        numbers = self._same_label(text)
        if len(numbers) > 1:
            label = self.buttons[numbers[0] - 1].label
            text = render("console_which_button", label=label, numbers=numbers)
            return [Reply(text, kind="console_which_button")]
        button = self._button(text)
        if button is not None:
            return self.press(button.action, button.value)
        return self._turn(Turn(person=self.person, conversation=self.conversation, text=text))

    def press(self, action: str, payload: dict[str, Any] | None = None) -> list[Reply]:
        turn = Turn(self.person, self.conversation, action=action, payload=dict(payload or {}))
        return self._turn(turn)

    def submit(self, values: dict[str, Any]) -> list[Reply]:
        """Submit the form the bot last showed, with these values."""
        if self.form is None:
            return []
        form, self.form = self.form, None
        return self.press(form.submit_action, {**form.context, **values})

    def _turn(self, turn: Turn) -> list[Reply]:
        replies = handle(turn, self.ctx)
        mine = [r for r in replies if not (r.to_person or r.to_channel)]
        if mine:
            self.buttons = [b for r in mine for b in r.buttons]
            self.form = next((r.form for r in mine if r.form), None)
        return replies

    def _button(self, text: str) -> Button | None:
        wanted = text.strip().strip("[]").rstrip(".").casefold()
        for n, button in enumerate(self.buttons, 1):
            if wanted in (button.label.casefold(), str(n)):
                return button
        return None

    def _same_label(self, text: str) -> list[int]:
        """The numbers of the buttons labelled `text` (more than one: typing it is ambiguous)."""
        wanted = text.strip().strip("[]").casefold()
        return [n for n, b in enumerate(self.buttons, 1) if b.label.casefold() == wanted]


def run(
    channel: ConsoleChannel,
    lines: Iterator[str],
    out: IO[str] | None = None,
    prompt: str = "",
    names: dict[str, str] | None = None,
) -> None:
    """Feed lines to the bot until they run out (or say `quit`), printing every reply (to
    `out`, else to the `sys.stdout` of the moment: a default bound at import would escape
    `contextlib.redirect_stdout`)."""
    out = out or sys.stdout
    for line in lines:
        text = line.rstrip("\n")
        if text.strip().casefold() in QUIT_WORDS:
            return
        replies = channel.send(text)
        while True:
            _print(replies, out, names)
            if channel.form is None:
                break
            values = _fill(channel.form, lines, out)
            if values is None:
                return
            if values is CANCELLED:
                channel.form = None
                replies = [Reply(render("cancelled", had_flow=True), kind="cancelled")]
                continue
            replies = channel.submit(values)
        if prompt:
            print(prompt, end="", file=out, flush=True)


def _print(replies: list[Reply], out: IO[str], names: dict[str, str] | None) -> None:
    """Replies as text, buttons numbered across the answer the way `send` counts them."""
    number = 1
    for reply in replies:
        elsewhere = bool(reply.to_person or reply.to_channel)
        print(format_reply(reply, names, None if elsewhere else number), file=out)
        print(file=out)
        if not elsewhere:
            number += len(reply.buttons)


CANCELLED: dict[str, str] = {}  # `_fill`'s answer when the form was cancelled


def _fill(form: Form, lines: Iterator[str], out: IO[str]) -> dict[str, str] | None:
    """The form's values, one line each; None when the lines ran out, `CANCELLED` on cancel."""
    values: dict[str, str] = {}
    for field_ in form.inputs:
        hint = f" [{field_.initial}]" if field_.initial else ""
        optional = "" if field_.required else " (optional)"
        print(f"{field_.label}{optional}{hint}: ", end="", file=out, flush=True)
        answer = next(lines, None)
        if answer is None:
            return None
        if answer.strip().casefold() in CANCEL_WORDS:
            return CANCELLED
        values[field_.name] = answer.strip() or field_.initial
    return values
