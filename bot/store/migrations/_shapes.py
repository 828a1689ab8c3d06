"""The column and index shapes that Crossbot's migrations share.

The migrations in `versions/` were first written out by Alembic's autogenerate, one
`sa.Column(...)` and one `batch_op.create_index(...)` at a time; these helpers say the same
things once. They live outside `versions/` because Alembic reads every module there as a
revision. Applied migrations must keep emitting the SQL they emitted when they were
applied: `tests/test_migrations_sql.py` compares each revision's SQL, for SQLite and
PostgreSQL, with its golden file, so a change here that changes a byte fails there.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


def id_column() -> sa.Column[int]:
    """The integer `id` column of a table whose primary key it is."""
    return sa.Column("id", sa.Integer(), nullable=False)


def string(name: str, nullable: bool = False) -> sa.Column[str]:
    """A text column as SQLModel declares a `str` field (`AutoString`)."""
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(), nullable=nullable)


def utc_datetime(name: str, nullable: bool = False) -> sa.Column[object]:
    """A moment column as SQLModel declares an aware `datetime` field (`UTCDateTime`)."""
    return sa.Column(name, sqlmodel.sql.sqltypes.UTCDateTime(), nullable=nullable)


def create_indexes(table: str, columns: Sequence[str], unique: Collection[str] = ()) -> None:
    """One index `ix_<table>_<column>` per column, in the order given; unique for `unique`."""
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in columns:
            name = batch_op.f(f"ix_{table}_{column}")
            batch_op.create_index(name, [column], unique=column in unique)


def drop_indexed_table(table: str, columns: Sequence[str]) -> None:
    """Drop the indexes `ix_<table>_<column>`, in the order given, then the table."""
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in columns:
            batch_op.drop_index(batch_op.f(f"ix_{table}_{column}"))
    op.drop_table(table)
