"""change stamps: when a load last edited a person or a client (renames reach the caches)"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0011_change_stamps"
down_revision = "0010_outbox"


def upgrade() -> None:
    for table in ("person", "client"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("changed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
            )
            batch_op.create_index(f"ix_{table}_changed_at", ["changed_at"], unique=False)


def downgrade() -> None:
    for table in ("client", "person"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{table}_changed_at")
            batch_op.drop_column("changed_at")
