"""campaign indexes: leaderboards as one covering-index scan, caps and pair checks direct"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    # Every column a board reads, in GROUP BY order, so SQLite never touches the table.
    op.create_index(
        "ix_pointevent_board",
        "pointevent",
        ["campaign_id", "person_id", "team", "office", "at", "points"],
    )
    op.create_index("ix_pointevent_cap", "pointevent", ["person_id", "kind", "at"])
    op.create_index("ix_pointevent_source", "pointevent", ["campaign_id", "source"])


def downgrade() -> None:
    op.drop_index("ix_pointevent_source", table_name="pointevent")
    op.drop_index("ix_pointevent_cap", table_name="pointevent")
    op.drop_index("ix_pointevent_board", table_name="pointevent")
