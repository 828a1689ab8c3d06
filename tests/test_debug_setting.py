"""`CROSSBOT_DEBUG=1` does what the crash message says: the traceback, in the log."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import SAMPLE_CONTENT
from tests.test_cli import crossbot


def test_a_crash_says_how_to_see_details_and_the_setting_shows_them(tmp_path: Path) -> None:
    env = {"CROSSBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'd.db'}"}
    crossbot("load", str(SAMPLE_CONTENT), cwd=tmp_path, env=env)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    crash = ("report", "--out", str(blocker / "report"))  # a folder inside a file: unexpected

    quiet = crossbot(*crash, cwd=tmp_path, env=env)
    loud = crossbot(*crash, cwd=tmp_path, env={**env, "CROSSBOT_DEBUG": "1"})

    assert quiet.returncode == loud.returncode == 1
    assert "CROSSBOT_DEBUG=1" in quiet.stderr and "Traceback" not in quiet.stderr
    assert "Traceback" in loud.stderr and "CROSSBOT_DEBUG=1" not in loud.stderr
    assert "nothing was changed" in loud.stderr
