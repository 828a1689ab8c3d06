"""The documentation stays honest: every command, setting and template is real and documented."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import typer
import yaml

from bot.cli import app
from bot.render import labels, prompts_dir, render, template_names
from bot.settings import Settings
from tests import docs_prompts
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
DOCS_DIR = REPO / "docs"
PAGES = {p.name: p.read_text(encoding="utf-8") for p in sorted(DOCS_DIR.glob("*.md"))}
DOCS = "\n".join(PAGES.values())
README_MAX_LINES = 200


def cli_commands(typer_app: typer.Typer, prefix: str = "crossbot") -> list[str]:
    names = [
        f"{prefix} {c.name or c.callback.__name__}"
        for c in typer_app.registered_commands
        if c.callback is not None
    ]
    for group in typer_app.registered_groups:
        assert group.typer_instance is not None and group.name
        names += cli_commands(group.typer_instance, f"{prefix} {group.name}")
    return names


def setting_names() -> list[str]:
    names = []
    for field in Settings.model_fields.values():
        alias = field.alias or field.validation_alias
        names.append(alias if isinstance(alias, str) else alias.choices[0])  # type: ignore[union-attr]
    return names


def test_every_cli_command_is_in_the_cli_reference() -> None:
    missing = [name for name in cli_commands(app) if f"`{name}" not in PAGES["cli.md"]]
    assert missing == []


def test_every_setting_is_in_the_configuration_reference() -> None:
    missing = [name for name in setting_names() if f"`{name}`" not in PAGES["configuration.md"]]
    assert missing == []


def test_every_template_is_listed_on_the_prompts_page() -> None:
    """docs/prompts.md's table is generated; regenerate it with `python -m tests.docs_prompts`."""
    assert PAGES["prompts.md"] == docs_prompts.rewritten(PAGES["prompts.md"])


def test_every_module_is_on_the_architecture_page() -> None:
    modules = [
        path.relative_to(REPO).as_posix()
        for path in sorted((REPO / "bot").rglob("*.py"))
        if path.name not in ("__init__.py", "__main__.py") or path.parent.name != "bot"
    ]
    modules = [m for m in modules if "/migrations/" not in m and not m.endswith("__main__.py")]
    missing = [m for m in modules if f"`{m}`" not in PAGES["architecture.md"]]
    assert missing == []


def test_every_page_is_in_the_site_navigation() -> None:
    nav = yaml.safe_load((REPO / "mkdocs.yml").read_text(encoding="utf-8"))["nav"]

    def pages(entries: list[Any]) -> list[str]:
        found: list[str] = []
        for entry in entries:
            value = next(iter(entry.values())) if isinstance(entry, dict) else entry
            found += pages(value) if isinstance(value, list) else [value]
        return found

    assert sorted(pages(nav)) == sorted(PAGES)


def test_readme_is_an_overview_that_links_to_pages_that_exist() -> None:
    assert len(README.splitlines()) <= README_MAX_LINES
    linked = re.findall(r"\]\(docs/([a-z0-9-]+\.md)", README)
    assert linked and [name for name in linked if name not in PAGES] == []


def test_every_template_is_used_by_the_code() -> None:
    code = "\n".join(p.read_text(encoding="utf-8") for p in (REPO / "bot").rglob("*.py"))
    unused = [name for name in template_names() if f'"{name}"' not in code]
    assert unused == []


def test_every_template_the_code_names_exists() -> None:
    code = "\n".join(p.read_text(encoding="utf-8") for p in (REPO / "bot").rglob("*.py"))
    named = set(re.findall(r'render\(\s*"([a-z0-9_]+)"', code))
    assert named - set(template_names()) == set()
    assert prompts_dir().is_dir()


def test_readme_commands_are_the_ones_ci_runs() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "pip install -e . && crossbot demo" in README
    assert "pip install -e '.[test]' && pytest" in README
    assert re.search(r"^pytest$", ci, re.M)


def test_every_label_the_code_names_exists_and_every_label_is_used() -> None:
    """Button, form and field labels live in prompts/labels.yaml, beside the sentences."""
    code = "\n".join(p.read_text(encoding="utf-8") for p in (REPO / "bot").rglob("*.py"))
    named = set(re.findall(r'(?<![.\w])label\(\s*"([a-z0-9_]+)"', code))
    assert named - set(labels()) == set()
    assert set(labels()) - named == set()


def test_buttons_and_form_fields_take_their_labels_from_the_labels_file() -> None:
    literal = re.compile(r'\b(?:Button|Fact|Form)\(\s*(?:title=)?"|\bFormInput\(\s*"[^"]+",\s*"')
    code = {
        path.relative_to(REPO).as_posix(): path.read_text(encoding="utf-8")
        for path in (REPO / "bot").rglob("*.py")
    }
    assert [name for name, text in code.items() if literal.search(text)] == []


def test_help_template_renders() -> None:
    assert "Crossbot" in render("help", name="Priya", greeting=True, role="member")


def shell_lines(text: str) -> list[str]:
    """Commands in the page's shell blocks, continuation lines joined, comments dropped."""
    blocks, block, language = [], [], None
    for line in text.splitlines():
        fence = re.match(r"^\s*```(\w*)", line)
        if fence and language is None:
            language, block = fence.group(1), []
        elif fence:
            if language in ("", "sh", "bash", "console"):
                blocks.append("\n".join(block))
            language = None
        elif language is not None:
            block.append(line.strip())
    joined = [block.replace("\\\n", " ") for block in blocks]
    lines = [line.split("  #")[0].strip() for block in joined for line in block.splitlines()]
    return [line for line in lines if line.startswith(("crossbot ", "printf ", "echo "))]


def test_documented_examples_that_need_no_server_run_as_written(tmp_path: Path) -> None:
    """Every offline example in the docs (those on the sample firm) runs and exits 0."""
    runnable = [
        line for page in PAGES.values() for line in shell_lines(page) if "--content content" in line
    ]
    assert len(runnable) >= 4
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "crossbot"
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} -m bot "$@"\n')
    shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "PYTHONPATH": str(REPO)}
    for line in runnable:
        result = subprocess.run(
            line, shell=True, cwd=REPO, env=env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, (line, result.stderr)
        assert result.stdout.strip(), line
        if "--json" in line:
            answers = [json.loads(out) for out in result.stdout.splitlines() if out.strip()]
            key = "matches" if " ask " in f" {line} " else "client"
            assert answers and all(key in answer for answer in answers), line
