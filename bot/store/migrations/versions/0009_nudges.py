"""nudges: batching, snooze, "not relevant" feedback, and opting out"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0009_nudges"
down_revision = "0008_slack_oauth"


def upgrade() -> None:
    with op.batch_alter_table("nudge", schema=None) as batch_op:
        # Server defaults fill the rows already there; the models set their own values.
        batch_op.add_column(sa.Column("data", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.add_column(
            sa.Column("batched_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("snoozed_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "feedback", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default=""
            )
        )
        batch_op.add_column(
            sa.Column("feedback_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
    op.create_table(
        "nudgeoptout",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("person_id"),
    )


def downgrade() -> None:
    op.drop_table("nudgeoptout")
    with op.batch_alter_table("nudge", schema=None) as batch_op:
        for name in ("feedback_at", "feedback", "snoozed_until", "batched_at", "data"):
            batch_op.drop_column(name)
