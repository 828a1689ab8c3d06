"""What content a database holds, read without SQLAlchemy: the key of a content snapshot.

A fresh `crossbot ask` would spend about a second importing SQLAlchemy, SQLModel and the
models only to learn that the cards have not changed since the last question. This module
reads, with the standard library's `sqlite3` and read-only, the figures `Context`'s content
check reads (count and latest change of the cards and learned aliases, the firm row) and,
since people and clients carry no change stamp, a digest of every row of theirs that a
catalog holds. Anything it cannot read plainly (PostgreSQL, an in-memory database, a
missing file, a database that is not at the migrations' head) answers None, and the caller
opens the store the ordinary way, which also migrates.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from pathlib import Path
from typing import Any

MIGRATIONS = Path(__file__).parent / "migrations"
_REVISION = re.compile(r"^revision\b[^=]*=\s*[\"']([^\"']+)[\"']", re.M)
_DOWN_REVISION = re.compile(r"^down_revision\b[^=]*=(.*)$", re.M)
# The rows of bot/store/models.py that make up a catalog (a test checks every name).
CONTENT_QUERIES = (
    "SELECT count(*), max(changed_at) FROM servicecard",
    "SELECT count(*), max(id) FROM learnedalias",
    "SELECT id, email, name, team, office, title, role, slack_id, teams_id, active"
    " FROM person ORDER BY id",
    "SELECT id, name, aliases, sector, owner_id, services, retired FROM client ORDER BY id",
    "SELECT name, currency, timezone FROM firm",
)


def script_heads() -> set[str]:
    """The revisions no migration file names as its `down_revision` (alembic's heads)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        revision, down = _REVISION.search(text), _DOWN_REVISION.search(text)
        if revision is None or down is None:
            return set()
        revisions.add(revision[1])
        parents.update(re.findall(r"[\"']([^\"']+)[\"']", down[1]))
    return revisions - parents


def sqlite_path(url: str) -> Path | None:
    """The file of a `sqlite:///…` URL; None for an in-memory database or another server."""
    match = re.fullmatch(r"sqlite(?:\+pysqlite)?:///([^?]+)(\?.*)?", url)
    if match is None or match[1] == ":memory:":
        return None
    return Path(match[1]).expanduser()


def content_version(url: str) -> tuple[Any, ...] | None:
    """(the resolved file, its migration heads, a digest of its content); None when not
    plainly readable."""
    path = sqlite_path(url)
    if path is None or not path.is_file():
        return None
    heads = script_heads()
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return None
    try:
        applied = {row[0] for row in connection.execute("SELECT version_num FROM alembic_version")}
        if not heads or applied != heads:
            return None  # a migration is due: the store runs it
        digest = hashlib.sha256()
        for query in CONTENT_QUERIES:
            digest.update(repr(connection.execute(query).fetchall()).encode())
    except sqlite3.Error:
        return None
    finally:
        connection.close()
    return (str(path.resolve()), tuple(sorted(applied)), digest.hexdigest())
