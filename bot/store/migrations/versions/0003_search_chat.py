"""who-does learning: the questions asked (with feedback) and aliases learnt from them"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0003_search_chat"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "askedquestion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asker_id", sa.Integer(), nullable=True),
        sa.Column("question", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("cards", sa.JSON(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("feedback", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("feedback_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("asked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("reported_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("resolved_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["asker_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_askedquestion_asker_id", "askedquestion", ["asker_id"])
    op.create_index("ix_askedquestion_asked_at", "askedquestion", ["asked_at"])
    op.create_index("ix_askedquestion_reported_at", "askedquestion", ["reported_at"])
    op.create_table(
        "learnedalias",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("card_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("alias", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("added_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["added_by_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["card_id"], ["servicecard.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("card_id", "key", name="uq_learnedalias_card_key"),
    )
    op.create_index("ix_learnedalias_card_id", "learnedalias", ["card_id"])


def downgrade() -> None:
    op.drop_index("ix_learnedalias_card_id", table_name="learnedalias")
    op.drop_table("learnedalias")
    op.drop_index("ix_askedquestion_reported_at", table_name="askedquestion")
    op.drop_index("ix_askedquestion_asked_at", table_name="askedquestion")
    op.drop_index("ix_askedquestion_asker_id", table_name="askedquestion")
    op.drop_table("askedquestion")
