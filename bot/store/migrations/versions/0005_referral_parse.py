"""firm: the loaded firm's name, currency and time zone (from firm.yaml)"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store.migrations._shapes import id_column, string, utc_datetime

revision = "0005_referral_parse"
down_revision = "0004_dashboard"


def upgrade() -> None:
    op.create_table(
        "firm",
        id_column(),
        string("name"),
        string("currency"),
        string("timezone"),
        utc_datetime("loaded_at"),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("firm")
