"""dashboard: one-time sign-in links, browser sessions, referrals by last update"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0004_dashboard"
down_revision = "0003_search_chat"


def _create_token_table(name: str, *columns: sa.Column[object]) -> None:
    """A table of hashed bearer tokens, each a person's, found by hash or by person.

    `columns` come after id, token_hash and person_id, in the order given.
    """
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
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
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    )
    _create_token_table(
        "dashboardsession",
        sa.Column("csrf_token", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("ended_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
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
