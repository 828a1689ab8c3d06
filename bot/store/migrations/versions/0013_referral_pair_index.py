"""an index on referral (referrer_id, receiver_id, created_at): the points rules' pair look-ups"""

from __future__ import annotations

from alembic import op

revision = "0013_referral_pair_index"
down_revision = "0012_people_partial_indexes"


def upgrade() -> None:
    # The pair cap and the reciprocal flag count a pair's referrals in a campaign's window.
    # With only one-column indexes, PostgreSQL's generic plan for that prepared statement
    # scanned `ix_referral_created_at` over the whole window: every referral of the campaign.
    op.create_index(
        "ix_referral_pair", "referral", ["referrer_id", "receiver_id", "created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_referral_pair", table_name="referral")
