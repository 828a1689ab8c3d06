"""campaign indexes: leaderboards as one covering-index scan, caps and pair checks direct

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 21:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


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
