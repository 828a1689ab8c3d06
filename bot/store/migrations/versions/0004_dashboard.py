"""dashboard: one-time sign-in links, browser sessions, referrals by last update"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store.migrations._shapes import id_column, string, utc_datetime

revision = "0004_dashboard"
down_revision = "0003_search_chat"


def _create_token_table(name: str, *columns: sa.Column[object]) -> None:
    """A table of hashed bearer tokens, each a person's, found by hash or by person.

    `columns` come after id, token_hash and person_id, in the order given.
    """
    op.create_table(
        name,
        id_column(),
        string("token_hash"),
        sa.Column("person_id", sa.Integer(), nullable=False),
        *columns,
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index(f"ix_{name}_person_id", name, ["person_id"])


def upgrade() -> None:
    _create_token_table(
        "dashboardlink",
        utc_datetime("created_at"),
        utc_datetime("expires_at"),
        utc_datetime("used_at", nullable=True),
    )
    _create_token_table(
        "dashboardsession",
        string("csrf_token"),
        utc_datetime("created_at"),
        utc_datetime("last_seen_at"),
        utc_datetime("ended_at", nullable=True),
    )
    op.create_index("ix_referral_updated_at", "referral", ["updated_at"])
    op.create_index("ix_referralevent_funnel", "referralevent", ["to_status", "referral_id"])


def downgrade() -> None:
    op.drop_index("ix_referralevent_funnel", table_name="referralevent")
    op.drop_index("ix_referral_updated_at", table_name="referral")
    op.drop_index("ix_dashboardsession_person_id", table_name="dashboardsession")
    op.drop_table("dashboardsession")
    op.drop_index("ix_dashboardlink_person_id", table_name="dashboardlink")
    op.drop_table("dashboardlink")
