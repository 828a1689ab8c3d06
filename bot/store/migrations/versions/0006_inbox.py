"""inbox: deliveries stored before the ack, sent-message keys, the stash, referral confirmations"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0006_inbox"
down_revision = "0005_referral_parse"

_TEXT = sqlmodel.sql.sqltypes.AutoString
_WHEN = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "inbox_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", _TEXT(), nullable=False),
        sa.Column("key", _TEXT(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        sa.Column("received_at", _WHEN(), nullable=False),
        sa.Column("claimed_by", _TEXT(), nullable=True),
        sa.Column("claimed_at", _WHEN(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("done_at", _WHEN(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform", "key", name="uq_inbox_item_key"),
    )
    op.create_index(
        "ix_inbox_item_pending", "inbox_item", ["platform", "done_at", "claimed_at"], unique=False
    )
    op.create_index("ix_inbox_item_received_at", "inbox_item", ["received_at"], unique=False)
    op.create_table(
        "inbox_sent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", _WHEN(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("item_id", "seq", name="uq_inbox_sent"),
    )
    op.create_index("ix_inbox_sent_item_id", "inbox_sent", ["item_id"], unique=False)
    op.create_table(
        "stash_entry",
        sa.Column("key", _TEXT(), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("created_at", _WHEN(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_stash_entry_created_at", "stash_entry", ["created_at"], unique=False)
    with op.batch_alter_table("processedevent", schema=None) as batch_op:
        batch_op.drop_index("ix_processedevent_at")
    op.drop_table("processedevent")
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.add_column(sa.Column("confirmation", _TEXT(), nullable=True))
        batch_op.create_index("ix_referral_confirmation", ["confirmation"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.drop_index("ix_referral_confirmation")
        batch_op.drop_column("confirmation")
    op.create_table(
        "processedevent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", _TEXT(), nullable=False),
        sa.Column("event_id", _TEXT(), nullable=False),
        sa.Column("at", _WHEN(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform", "event_id", name="uq_processed_event"),
    )
    op.create_index("ix_processedevent_at", "processedevent", ["at"], unique=False)
    op.drop_table("stash_entry")
    op.drop_table("inbox_sent")
    op.drop_table("inbox_item")
