"""Applied migrations emit the same SQL, to the byte, as when they were applied.

Each revision's upgrade and downgrade SQL, rendered offline (`alembic upgrade --sql`) for
SQLite and PostgreSQL, is compared with the golden file
`tests/migrations_sql/<dialect>/<revision>.sql.golden`. An edit to a migration (or to
`bot/store/migrations/_shapes.py`, which they share) that changes what it emits fails here.
A new migration writes its golden file with `python -m tests.test_migrations_sql`.

A SQLite downgrade that rebuilds a table (dropping a column) needs a live table to reflect,
which `--sql` cannot render: its golden file says so, and the PostgreSQL one pins what that
downgrade does.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from bot.store.engine import alembic_config

GOLDEN = Path(__file__).resolve().parent / "migrations_sql"
DIALECTS = ("sqlite", "postgresql")
NEEDS_LIVE_TABLE = "-- (a batch table rebuild: --sql cannot render it without a live database)\n"


def golden_path(dialect: str, revision: str) -> Path:
    return GOLDEN / dialect / f"{revision}.sql.golden"


def rendered_sql(dialect: str) -> dict[str, str]:
    """Each revision's upgrade and downgrade SQL for `dialect`, rendered offline."""
    rendered = {}
    for script in ScriptDirectory.from_config(alembic_config()).walk_revisions():
        before = script.down_revision or "base"
        assert isinstance(before, str)  # the history has no merges
        upgrade = _offline(dialect, command.upgrade, f"{before}:{script.revision}")
        try:
            downgrade = _offline(dialect, command.downgrade, f"{script.revision}:{before}")
        except CommandError as error:
            if "cannot proceed in --sql mode" not in str(error):
                raise
            downgrade = NEEDS_LIVE_TABLE
        rendered[script.revision] = f"-- upgrade\n\n{upgrade}\n-- downgrade\n\n{downgrade}"
    return rendered


def _offline(dialect: str, run: Callable[..., None], steps: str) -> str:
    """What `alembic upgrade|downgrade --sql <steps>` writes for `dialect`."""
    config = alembic_config()
    config.attributes["dialect_name"] = dialect
    output = io.StringIO()
    config.output_buffer = output
    run(config, steps, sql=True)
    return output.getvalue()


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_migration_emits_its_golden_sql(dialect: str) -> None:
    rendered = rendered_sql(dialect)
    missing = [revision for revision in rendered if not golden_path(dialect, revision).exists()]
    assert not missing, f"no golden SQL for {missing}: python -m tests.test_migrations_sql"
    changed = [
        revision
        for revision, sql in rendered.items()
        if golden_path(dialect, revision).read_text(encoding="utf-8") != sql
    ]
    assert not changed, f"the {dialect} SQL of applied migrations changed: {changed}"


def write_missing_goldens() -> None:
    """Write the golden SQL of the revisions that have none; existing files stay as they are."""
    for dialect in DIALECTS:
        for revision, sql in rendered_sql(dialect).items():
            path = golden_path(dialect, revision)
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(sql, encoding="utf-8")
                print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    write_missing_goldens()
