"""Every sentence the bot says, rendered from `prompts/*.md.j2`.

Templates get data, not prose. StrictUndefined makes a missing variable an error in tests
rather than a silent gap in a message; escaping for each platform happens in the adapters.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context

from bot.money import format_money

PROMPTS = Path(__file__).resolve().parent.parent / "prompts"
_PACKAGED = Path(__file__).resolve().parent / "prompts"


def prompts_dir() -> Path:
    """The folder of templates: the repo's `prompts/`, or the copy inside an installed wheel."""
    return PROMPTS if PROMPTS.is_dir() else _PACKAGED


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(prompts_dir())),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,  # templates don't change under a running bot: no stat per render
    )
    env.filters["money"] = _money_filter
    env.filters["plural"] = plural
    return env


def render(template: str, /, **data: Any) -> str:
    """Render `prompts/<template>.md.j2` with `data`, tidying blank lines."""
    text = environment().get_template(f"{template}.md.j2").render(**data)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def template_names() -> list[str]:
    return sorted(p.name.removesuffix(".md.j2") for p in prompts_dir().glob("*.md.j2"))


def money(value: float | int | None, currency: str | None = None) -> str:
    """£20k-style amounts in the firm's terms (see `bot.money.format_money`)."""
    return format_money(value, currency)


@pass_context
def _money_filter(_: Context, value: float | int | None, currency: str | None = None) -> str:
    """`money` for templates, evaluated at render time: Jinja would otherwise fold
    `{{ 20000 | money }}` into the firm currency of the first render."""
    return money(value, currency)


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count} {word}"
