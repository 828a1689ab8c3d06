"""who-does learning: the questions asked (with feedback) and aliases learnt from them"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store.migrations._shapes import id_column, string, utc_datetime

revision = "0003_search_chat"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "askedquestion",
        id_column(),
        sa.Column("asker_id", sa.Integer(), nullable=True),
        string("question"),
        sa.Column("cards", sa.JSON(), nullable=False),
        string("reason"),
        string("feedback"),
        string("note"),
        utc_datetime("feedback_at", nullable=True),
        utc_datetime("asked_at"),
        utc_datetime("reported_at", nullable=True),
        utc_datetime("resolved_at", nullable=True),
        sa.ForeignKeyConstraint(["asker_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_askedquestion_asker_id", "askedquestion", ["asker_id"])
    op.create_index("ix_askedquestion_asked_at", "askedquestion", ["asked_at"])
    op.create_index("ix_askedquestion_reported_at", "askedquestion", ["reported_at"])
    op.create_table(
        "learnedalias",
        id_column(),
        string("card_id"),
        string("alias"),
        string("key"),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        utc_datetime("added_at"),
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
