"""The terminal channel: `crossbot chat` and `crossbot demo`, and the harness tests drive.

Like errbot's test backend, it is a real channel: text goes in as a `Turn`, `Reply`s come
out as plain text. Buttons are pressed by typing their label (or number); a form asks for
its fields one line at a time, so a piped script can fill it in too.
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
from bot.render import convert

CONVERSATION = "console"


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


def format_reply(reply: Reply, names: dict[str, str] | None = None) -> str:
    """One reply as terminal text."""
    lines: list[str] = []
    if reply.to_person or reply.to_channel:
        target = reply.to_channel or (names or {}).get(reply.to_person or "", reply.to_person)
        lines.append(f"  ↳ to {target}:")
    lines += _plain(reply.text).splitlines()
    lines += [f"  {fact.label}: {fact.value}" for fact in reply.facts]
    if reply.image:
        lines.append(f"  [chart: {reply.image_alt or 'image'}]")
    if reply.buttons:
        labels = "  ".join(f"[{n}. {b.label}]" for n, b in enumerate(reply.buttons, 1))
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
        """Say something; typing a button's label or number presses it."""
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
        wanted = text.strip().strip("[]").casefold()
        for n, button in enumerate(self.buttons, 1):
            if wanted in (button.label.casefold(), str(n)):
                return button
        return None


def run(
    channel: ConsoleChannel,
    lines: Iterator[str],
    out: IO[str] = sys.stdout,
    prompt: str = "",
    names: dict[str, str] | None = None,
) -> None:
    """Feed lines to the bot until they run out, printing every reply."""
    for line in lines:
        text = line.rstrip("\n")
        replies = channel.send(text)
        while True:
            for reply in replies:
                print(format_reply(reply, names), file=out)
                print(file=out)
            if channel.form is None:
                break
            values = _fill(channel.form, lines, out)
            if values is None:
                return
            replies = channel.submit(values)
        if prompt:
            print(prompt, end="", file=out, flush=True)


def _fill(form: Form, lines: Iterator[str], out: IO[str]) -> dict[str, str] | None:
    values: dict[str, str] = {}
    for field_ in form.inputs:
        hint = f" [{field_.initial}]" if field_.initial else ""
        optional = "" if field_.required else " (optional)"
        print(f"{field_.label}{optional}{hint}: ", end="", file=out, flush=True)
        answer = next(lines, None)
        if answer is None:
            return None
        values[field_.name] = answer.strip() or field_.initial
    return values
