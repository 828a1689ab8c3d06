"""Content snapshots: a repeated `crossbot ask` skips the store, and never answers stale."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import text

from bot import search, snapshot
from bot._search.rarity import information
from bot.catalog import load_into, read_folder
from bot.store import Store
from bot.store.models import LearnedAlias
from bot.store.probe import content_version, sqlite_path
from tests.cli_run import crossbot
from tests.conftest import REPO
from tests.firm import edit
from tests.search_firm import write_firm

QUESTION = "who does TUPE?"
# What a question answered from a snapshot must not import: the store's side.
THE_STORE = ("sqlalchemy", "sqlmodel", "bot.store.models", "bot.store.engine", "bot.context")


class Firm:
    """A content folder loaded into a SQLite file, and `crossbot` run against it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.folder = write_firm(root / "firm")
        self.url = f"sqlite:///{root / 'firm.db'}"
        self.cache = root / "cache"
        self.load()

    def _env(self, cache: Path | None = None) -> dict[str, str]:
        return {
            "CROSSBOT_DATABASE_URL": self.url,
            "CROSSBOT_CONTENT_DIR": str(self.folder),
            "CROSSBOT_CACHE_DIR": str(cache or self.cache),
        }

    def load(self) -> None:
        """`crossbot load` of the folder (in this process: the questions are the point, each
        asked by a process of its own)."""
        assert crossbot("load", str(self.folder), cwd=self.root, env=self._env()).returncode == 0

    def run(self, *args: str, cache: Path | None = None, importtime: bool = False) -> Any:
        env = {**os.environ, "PYTHONPATH": str(REPO), **self._env(cache)}
        python = [sys.executable, *(["-X", "importtime"] if importtime else []), "-m", "bot"]
        return subprocess.run(
            [*python, *args], cwd=self.root, env=env, capture_output=True, text=True, timeout=120
        )

    def ask(self, cache: Path | None = None) -> dict[str, Any]:
        result = self.run("ask", "--json", QUESTION, cache=cache)
        assert result.returncode == 0, result.stderr
        answer: dict[str, Any] = json.loads(result.stdout)
        return answer

    def fresh(self) -> dict[str, Any]:
        """The answer built from scratch, with no snapshot to read."""
        return self.ask(cache=self.root / f"empty-{len(list(self.root.glob('empty-*')))}")

    def ask_traced(self, *args: str) -> tuple[dict[str, Any], set[str]]:
        """The answer, and every module the process imported."""
        result = self.run("ask", "--json", *args, QUESTION, importtime=True)
        assert result.returncode == 0, result.stderr
        lines = result.stderr.splitlines()
        imported = {
            line.rsplit("|", 1)[-1].strip() for line in lines if line.startswith("import time:")
        }
        return json.loads(result.stdout), imported

    def snapshots(self) -> list[Path]:
        return sorted(self.cache.glob("snapshot-*.pickle"))


@pytest.fixture
def firm(tmp_path: Path) -> Firm:
    return Firm(tmp_path)


def test_a_repeated_question_is_answered_from_the_snapshot_without_the_store(firm: Firm):
    first = firm.ask()
    assert first["matches"][0]["card"] == "employment"
    [saved] = firm.snapshots()
    again, imported = firm.ask_traced()
    assert again == first
    assert "bot.snapshot" in imported and "bot.dialogs.whodoes" in imported
    assert not imported & set(THE_STORE)
    assert "wordfreq" not in imported  # the words' frequencies were kept with the snapshot
    assert firm.snapshots() == [saved]


def test_a_loaded_change_is_answered_at_once(firm: Firm):
    firm.ask()
    edit(firm.folder / "people.csv", "Asha Rao,", "Asha Rao-Khan,")  # no change stamp
    firm.load()
    changed = firm.ask()
    assert changed["matches"][0]["owners"][0]["name"] == "Asha Rao-Khan"
    assert changed == firm.fresh()


def test_a_corrupt_snapshot_is_rebuilt_and_answers_the_same(firm: Firm):
    first = firm.ask()
    [saved] = firm.snapshots()
    saved.write_bytes(b"not a snapshot")
    assert firm.ask() == first
    again, imported = firm.ask_traced()  # a real snapshot again: read without the store
    assert again == first and not imported & set(THE_STORE)


def test_a_content_folder_is_answered_without_the_store_and_follows_its_edits(firm: Firm):
    built, imported = firm.ask_traced("--content", str(firm.folder))
    assert not imported & set(THE_STORE)  # reading a folder needs no database either
    assert built["matches"][0]["owners"][0]["name"] == "Asha Rao"
    edit(firm.folder / "people.csv", "Asha Rao,", "Asha Rao-Khan,")
    edited, _ = firm.ask_traced("--content", str(firm.folder))
    assert edited["matches"][0]["owners"][0]["name"] == "Asha Rao-Khan"


def test_snapshots_read_only_what_they_were_saved_under(tmp_path: Path):
    path = snapshot.path_for(tmp_path / "cache", "folder:/firm")
    assert snapshot.load(path, "k") is None  # missing
    snapshot.save(path, "k", {"cards": [1, 2]})
    assert snapshot.load(path, "k") == {"cards": [1, 2]}
    assert snapshot.load(path, "another") is None  # stale
    assert oct((tmp_path / "cache").stat().st_mode & 0o777) == oct(0o700)
    assert snapshot.key("a") != snapshot.key("b") and snapshot.key("a") == snapshot.key("a")
    assert snapshot.folder_stamp(tmp_path / "nowhere") == ""


def test_a_snapshot_that_cannot_be_written_is_skipped(tmp_path: Path):
    blocked = tmp_path / "a file, not a folder"
    blocked.write_text("x")
    path = snapshot.path_for(blocked, "folder:/firm")
    snapshot.save(path, "k", "value")  # no exception: the answer goes on without it
    assert snapshot.load(path, "k") is None


def test_word_frequencies_kept_by_a_snapshot_answer_without_wordfreq():
    word = "qzxvbnmw"  # no English word: wordfreq would say 0
    search.add_known_zipf({word: 3.5})
    assert search.known_zipf()[word] == 3.5
    assert information(word) == 7.0 - 3.5


def test_the_probe_reads_plain_sqlite_files_at_the_head_only(tmp_path: Path):
    assert content_version("sqlite://") is None
    assert content_version("sqlite:///:memory:") is None
    assert content_version("postgresql+psycopg://crossbot:secret@db/crossbot") is None
    assert content_version(f"sqlite:///{tmp_path / 'missing.db'}") is None
    assert sqlite_path("sqlite:////srv/crossbot.db?timeout=5") == Path("/srv/crossbot.db")
    url = f"sqlite:///{tmp_path / 'firm.db'}"
    store = Store(url)  # migrated: every query of the probe runs on this schema
    empty = content_version(url)
    assert empty is not None
    catalog, _ = read_folder(write_firm(tmp_path / "firm"))
    with store.write() as session:
        load_into(session, catalog)
    loaded = content_version(url)
    assert loaded is not None and loaded != empty
    with store.write() as session:
        session.add(LearnedAlias(card_id="employment", alias="sackings", key="sackings"))
    learned = content_version(url)
    assert learned is not None and learned not in (empty, loaded)
    with store.write() as session:
        session.exec(text("UPDATE alembic_version SET version_num = 'older'"))  # type: ignore[call-overload]
    assert content_version(url) is None  # a migration is due: the store runs it
    store.dispose()
