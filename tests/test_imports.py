"""What a process imports: no cycle between the scheduler and its jobs, nothing heavy early."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, SAMPLE_CONTENT


def _modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running `code`."""
    probe = f"{code}\nimport sys\nprint('\\n'.join(sys.modules))"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return set(result.stdout.split())


def test_the_scheduler_does_not_import_the_jobs_it_runs():
    """No import cycle: `bot.scheduler` knows nothing of the features; the server hands it JOBS."""
    loaded = _modules_after("import bot.scheduler")
    assert "bot.scheduler" in loaded
    assert "bot.jobs" not in loaded and "bot.campaigns" not in loaded


# Heavy or unneeded for a question: drawing, migrations, the router and its dialogs, the web.
NOT_FOR_A_QUESTION = (
    "matplotlib",
    "alembic",
    "bot.conversation",
    "bot.campaigns",
    "bot.dialogs.campaign",
    "bot.digest",
    "bot.charts",
    "aiohttp",
)


def test_importing_the_cli_leaves_the_heavy_modules_alone():
    loaded = _modules_after("import bot.cli")
    assert "bot.cli" in loaded
    assert not loaded & set(NOT_FOR_A_QUESTION)
    # The store's side (a second of start-up) waits for a command that opens the database.
    assert not loaded & {"sqlalchemy", "sqlmodel", "bot.store.models", "bot.context"}


def test_the_server_and_router_import_no_matplotlib_or_alembic():
    loaded = _modules_after("import bot.server, bot.conversation, bot.jobs")
    assert "bot.dialogs.campaign" in loaded  # the router knows every dialog
    assert "matplotlib" not in loaded and "alembic" not in loaded


def test_a_question_on_a_migrated_database_imports_only_what_it_needs(tmp_path: Path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env["CROSSBOT_DATABASE_URL"] = f"sqlite:///{tmp_path / 'ask.db'}"
    env["CROSSBOT_CONTENT_DIR"] = str(SAMPLE_CONTENT)

    def crossbot(*args: str, python: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, *python, "-m", "bot", *args]
        return subprocess.run(
            command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )

    assert crossbot("load", str(SAMPLE_CONTENT)).returncode == 0  # migrates: alembic runs here
    asked = crossbot("ask", "--json", "who handles TUPE?", python=("-X", "importtime"))
    assert asked.returncode == 0, asked.stderr
    assert json.loads(asked.stdout)["matches"]  # a real answer
    imported = {
        line.rsplit("|", 1)[-1].strip()
        for line in asked.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "bot.dialogs.whodoes" in imported
    assert not imported & set(NOT_FOR_A_QUESTION)
