"""partial indexes on person: who left and who opted in, read by every leaderboard"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_people_partial_indexes"
down_revision = "0011_change_stamps"

# name -> (SQLite's condition, PostgreSQL's): each as SQLAlchemy writes it in a query, so
# that the planner sees the query's condition is the index's.
_INDEXES = {
    "ix_person_inactive": ("active = 0", "NOT active"),
    "ix_person_opted_in": ("leaderboard_opt_in = 1", "leaderboard_opt_in"),
}


def upgrade() -> None:
    for name, (on_sqlite, on_postgresql) in _INDEXES.items():
        op.create_index(
            name,
            "person",
            ["id"],
            unique=False,
            sqlite_where=sa.text(on_sqlite),
            postgresql_where=sa.text(on_postgresql),
        )


def downgrade() -> None:
    for name in reversed(list(_INDEXES)):
        op.drop_index(name, table_name="person")
