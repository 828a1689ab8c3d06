"""Every sentence the bot says, rendered from `prompts/*.md.j2`.

Templates get data, not prose. StrictUndefined makes a missing variable an error in tests
rather than a silent gap in a message.

Every value a template interpolates is data (a client's name, a note, a story), never
markup: `render` returns a `Rendered` string that remembers where those values are, and
each adapter converts the template's own markdown while escaping the data spans in its
platform's syntax (`convert`). So a client called `[Log in](https://evil.example)` is
shown as written, never as a link. Markdown that is meant as markup (a service card's own
sections, written by the firm's admins) goes through the `markdown` filter.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context

from bot.money import format_money

# Private-use characters: around a data value while a template renders, and as numbered
# placeholders while an adapter converts the template's markup.
_OPEN, _CLOSE = "\ue000", "\ue001"
_HOLE_OPEN, _HOLE_CLOSE = "\ue002", "\ue003"
_MARKS = re.compile("[\ue000-\ue003]")
_HOLE = re.compile("\ue002(\\d+)\ue003")

PROMPTS = Path(__file__).resolve().parent.parent / "prompts"
_PACKAGED = Path(__file__).resolve().parent / "prompts"


@lru_cache(maxsize=1)
def prompts_dir() -> Path:
    """The folder of templates: the repo's `prompts/`, or the copy inside an installed wheel.

    Decided once a process, as `environment()` decides it: every label asked for its folder
    and each `is_dir` was a stat."""
    return PROMPTS if PROMPTS.is_dir() else _PACKAGED


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(prompts_dir())),
        undefined=StrictUndefined,
        autoescape=False,
        finalize=_mark,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,  # templates don't change under a running bot: no stat per render
    )
    env.filters["money"] = _money_filter
    env.filters["plural"] = plural
    env.filters["markdown"] = markdown
    return env


class Rendered(str):
    """Text from a template that knows which of its spans are data (`spans`, start/end).

    It is a plain `str` to everything else (tests, logs, the database, the terminal).
    """

    spans: tuple[tuple[int, int], ...]

    def __new__(cls, text: str, spans: Iterable[tuple[int, int]] = ()) -> Rendered:
        made = super().__new__(cls, text)
        made.spans = tuple(spans)
        return made

    @classmethod
    def from_marked(cls, marked: str) -> Rendered:
        """Read the data marks `render` put around values; stray marks are dropped."""
        text: list[str] = []
        spans: list[tuple[int, int]] = []
        size, start = 0, -1
        for piece in re.split("([\ue000\ue001])", marked):
            if piece == _OPEN:
                start = size if start < 0 else start
            elif piece == _CLOSE:
                if start >= 0 and size > start:
                    spans.append((start, size))
                start = -1
            elif piece:
                piece = _MARKS.sub("", piece)
                text.append(piece)
                size += len(piece)
        return cls("".join(text), spans)

    def marked(self) -> str:
        """The text with its data spans marked again (for a rendered value in a template)."""
        out, at = [], 0
        for start, end in self.spans:
            out += [self[at:start], _OPEN, self[start:end], _CLOSE]
            at = end
        out.append(self[at:])
        return "".join(out)

    def __add__(self, other: str) -> Rendered:  # type: ignore[override]
        return join("", [self, other])


def join(separator: str, parts: Iterable[str]) -> Rendered:
    """`separator.join(parts)` keeping the data spans of rendered parts."""
    return Rendered.from_marked(separator.join(_as_marked(part) for part in parts))


def _as_marked(text: str) -> str:
    return text.marked() if isinstance(text, Rendered) else _MARKS.sub("", text)


def _mark(value: Any) -> str:
    """Jinja's finalize: every interpolated value is marked as data."""
    if isinstance(value, Rendered):
        return value.marked()
    text = str(value)
    if _OPEN in text:  # a macro's or a `set` block's output: already marked inside
        return text
    return f"{_OPEN}{text}{_CLOSE}" if text else ""


def markdown(text: str | None) -> Rendered:
    """Template filter: this value is markup the firm wrote (a card's sections), not data."""
    return Rendered(_MARKS.sub("", text or ""))


def render(template: str, /, **data: Any) -> Rendered:
    """Render `prompts/<template>.md.j2` with `data`, tidying blank lines."""
    marked = environment().get_template(f"{template}.md.j2").render(**data)
    return Rendered.from_marked(re.sub(r"\n{3,}", "\n\n", marked).strip())


def convert(
    text: str,
    markup: Callable[[str], str],
    data: Callable[[str], str],
    *,
    unmarked_is_data: bool = False,
) -> str:
    """Text for one platform: the template's markup through `markup`, each data span
    through `data` (the platform's escaping). Each adapter calls this with its own rule.

    Text that was not rendered from a template has no spans: it is all markup, or all
    data with `unmarked_is_data` (facts, labels and values built from data).
    """
    spans = getattr(text, "spans", None)
    if spans is None:
        spans = ((0, len(text)),) if unmarked_is_data and text else ()
    # A rendered text holds no marks (`from_marked` drops them): nothing to strip, and
    # without spans no placeholder to fill.
    unmark = _MARKS.sub if _MARKS.search(text) else _unchanged
    if not spans:
        return markup(unmark("", text))
    pieces: list[str] = []
    template: list[str] = []
    at = 0
    for start, end in spans:
        template += [unmark("", text[at:start]), f"{_HOLE_OPEN}{len(pieces)}{_HOLE_CLOSE}"]
        pieces.append(text[start:end])
        at = end
    template.append(unmark("", text[at:]))
    converted = markup("".join(template))
    return _HOLE.sub(lambda m: data(pieces[int(m[1])]), converted)


def _unchanged(_: str, text: str) -> str:
    """`_MARKS.sub`'s stand-in for a text with no marks."""
    return text


LABELS = "labels.yaml"


@lru_cache(maxsize=1)
def labels() -> dict[str, str]:
    """Every button, form and field label, by name, from `prompts/labels.yaml` (read once)."""
    return {
        str(k): str(v)
        for k, v in (yaml.safe_load((prompts_dir() / LABELS).read_text("utf-8")) or {}).items()
    }


def label(key: str, /, **values: object) -> str:
    """One label; `{field}`s in it are filled from `values` (an idea's number, say)."""
    text = labels()[key]
    return text.format(**values) if values else text


def template_names() -> list[str]:
    return sorted(p.name.removesuffix(".md.j2") for p in prompts_dir().glob("*.md.j2"))


def money(value: float | int | None, currency: str | None = None, exact: bool = False) -> str:
    """£20k-style amounts in the firm's terms (see `bot.money.format_money`)."""
    return format_money(value, currency, exact=exact)


@pass_context
def _money_filter(
    _: Context, value: float | int | None, currency: str | None = None, exact: bool = False
) -> str:
    """`money` for templates, evaluated at render time: Jinja would otherwise fold
    `{{ 20000 | money }}` into the firm currency of the first render. `exact=True` for an
    amount someone recorded ("£12,345"), not an estimate."""
    return money(value, currency, exact)


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count} {word}"
