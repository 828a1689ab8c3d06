"""outbox: a turn's replies stored with the state change it made (inbox_decision)"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store.migrations._shapes import id_column

revision = "0010_outbox"
down_revision = "0009_nudges"


def upgrade() -> None:
    op.create_table(
        "inbox_decision",
        id_column(),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("replies", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("item_id", "n", name="uq_inbox_decision"),
    )
    op.create_index("ix_inbox_decision_item_id", "inbox_decision", ["item_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_inbox_decision_item_id", table_name="inbox_decision")
    op.drop_table("inbox_decision")
