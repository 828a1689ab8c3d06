"""The documentation stays honest: every command, setting and template is real and documented."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import typer

from bot.cli import app
from bot.render import prompts_dir, render, template_names
from bot.settings import Settings
from tests.conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
# The documentation: the README (the two commands and the overview) and the pages under docs/.
DOCS = "\n".join(
    [README, *(p.read_text(encoding="utf-8") for p in sorted((REPO / "docs").rglob("*.md")))]
)


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


def test_every_cli_command_is_documented() -> None:
    missing = [name for name in cli_commands(app) if f"`{name}" not in DOCS]
    assert missing == []


def test_every_setting_is_documented() -> None:
    missing = [name for name in setting_names() if f"`{name}`" not in DOCS]
    assert missing == []


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


def test_help_template_renders() -> None:
    assert "Crossbot" in render("help", name="Priya", greeting=True, role="member")


def readme_shell_lines() -> list[str]:
    blocks = re.findall(r"```(?:sh|bash)?\n(.*?)```", README, re.S)
    lines = [line.split("  #")[0].strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line.startswith(("crossbot ", "printf "))]


def test_readme_examples_that_need_no_server_run_as_written(tmp_path: Path) -> None:
    """The README's offline examples (on the sample firm) run and exit 0."""
    runnable = [line for line in readme_shell_lines() if "--content content" in line]
    assert len(runnable) >= 2
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
        answers = [json.loads(out) for out in result.stdout.splitlines() if out.strip()]
        assert answers and all("matches" in answer for answer in answers)
