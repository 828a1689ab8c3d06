"""chart cache: rendered charts shared by every replica"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0007_chart_cache"
down_revision = "0006_inbox"


def upgrade() -> None:
    op.create_table(
        "chartimage",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("png", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("chartimage", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chartimage_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("chartimage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chartimage_created_at"))
    op.drop_table("chartimage")
