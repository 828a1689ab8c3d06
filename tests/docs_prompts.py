"""The table of templates in docs/prompts.md, generated from `prompts/` so it cannot go stale.

`python -m tests.docs_prompts` rewrites the table; `tests/test_docs.py` fails when it is out
of date.
"""

from __future__ import annotations

import re
from itertools import groupby
from pathlib import Path

from bot.render import prompts_dir, template_names

PAGE = Path(__file__).resolve().parent.parent / "docs" / "prompts.md"
BEGIN, END = "<!-- templates:begin -->", "<!-- templates:end -->"
_JINJA = re.compile(r"\{%.*?%\}|\{#.*?#\}", re.S)
_VALUE = re.compile(r"\{\{\s*(.*?)\s*\}\}", re.S)
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")  # a link's text: its target is a value


def first_line(name: str) -> str:
    """The template's first words, with Jinja tags dropped and values shown as `‹name›`."""
    text = (prompts_dir() / f"{name}.md.j2").read_text(encoding="utf-8")
    text = _VALUE.sub(lambda m: "‹" + m.group(1).split("|")[0].strip() + "›", _JINJA.sub("", text))
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    line = _LINK.sub(r"\1", line).replace("|", "\\|").replace("`", "'")
    return line if len(line) <= 90 else line[:89].rstrip() + "…"


def table() -> str:
    """The generated part of the page: one section per prefix, a row per template."""
    parts = []
    names = sorted(template_names())
    for prefix, group in groupby(names, key=lambda name: name.split("_")[0]):
        parts.append(f"### {prefix}\n\n| template | begins |\n| --- | --- |")
        parts += [f"| `{name}` | {first_line(name)} |" for name in group]
        parts.append("")
    return "\n".join(parts)


def rewritten(page: str) -> str:
    head, rest = page.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{table()}\n{END}{tail}"


if __name__ == "__main__":
    PAGE.write_text(rewritten(PAGE.read_text(encoding="utf-8")), encoding="utf-8")
