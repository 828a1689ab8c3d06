"""What a process imports: no cycle between the scheduler and its jobs, nothing heavy early."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import REPO


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
