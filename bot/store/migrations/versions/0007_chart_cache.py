"""chart cache: rendered charts shared by every replica"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store.migrations._shapes import create_indexes, drop_indexed_table, string, utc_datetime

revision = "0007_chart_cache"
down_revision = "0006_inbox"


def upgrade() -> None:
    op.create_table(
        "chartimage",
        string("key"),
        sa.Column("png", sa.LargeBinary(), nullable=False),
        utc_datetime("created_at"),
        sa.PrimaryKeyConstraint("key"),
    )
    create_indexes("chartimage", ["created_at"])


def downgrade() -> None:
    drop_indexed_table("chartimage", ["created_at"])
