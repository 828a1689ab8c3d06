"""initial tables"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from bot.store.migrations._shapes import (
    create_indexes,
    drop_indexed_table,
    id_column,
    string,
    utc_datetime,
)

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "digestissue",
        id_column(),
        sa.Column("week_start", sa.Date(), nullable=False),
        string("spotlight_card_id", nullable=True),
        utc_datetime("posted_at"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("week_start"),
    )
    op.create_table(
        "jobrun",
        id_column(),
        string("job"),
        utc_datetime("scheduled_for"),
        string("status"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        utc_datetime("started_at"),
        utc_datetime("finished_at", nullable=True),
        string("error"),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("job", "scheduled_for", name="uq_jobrun_slot"),
    )
    op.create_table(
        "person",
        id_column(),
        string("email"),
        string("name"),
        string("team"),
        string("office"),
        string("title"),
        string("role"),
        string("slack_id", nullable=True),
        string("teams_id", nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("digest_opt_in", sa.Boolean(), nullable=False),
        sa.Column("leaderboard_opt_in", sa.Boolean(), nullable=False),
        utc_datetime("created_at"),
        sa.PrimaryKeyConstraint("id"),
    )
    create_indexes("person", ["email", "slack_id", "team", "teams_id"], unique=["email"])

    op.create_table(
        "processedevent",
        id_column(),
        string("platform"),
        string("event_id"),
        utc_datetime("at"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform", "event_id", name="uq_processed_event"),
    )
    create_indexes("processedevent", ["at"])

    op.create_table(
        "servicecard",
        string("id"),
        string("title"),
        string("team"),
        sa.Column("owners", sa.JSON(), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("sections", sa.JSON(), nullable=False),
        sa.Column("updated", sa.Date(), nullable=True),
        sa.Column("retired", sa.Boolean(), nullable=False),
        utc_datetime("loaded_at"),
        utc_datetime("changed_at"),
        sa.PrimaryKeyConstraint("id"),
    )
    create_indexes("servicecard", ["team"])

    op.create_table(
        "team",
        id_column(),
        string("name"),
        sa.PrimaryKeyConstraint("id"),
    )
    create_indexes("team", ["name"], unique=["name"])

    op.create_table(
        "campaign",
        id_column(),
        string("name"),
        utc_datetime("starts_at"),
        utc_datetime("ends_at"),
        sa.Column("teams", sa.JSON(), nullable=False),
        sa.Column("offices", sa.JSON(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        string("status"),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        utc_datetime("created_at"),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    create_indexes("campaign", ["ends_at", "starts_at"])

    op.create_table(
        "client",
        id_column(),
        string("name"),
        sa.Column("aliases", sa.JSON(), nullable=False),
        string("sector"),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("services", sa.JSON(), nullable=False),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        utc_datetime("created_at"),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    create_indexes("client", ["name"], unique=["name"])

    op.create_table(
        "conversationref",
        id_column(),
        string("platform"),
        string("key"),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("reference", sa.JSON(), nullable=False),
        utc_datetime("updated_at"),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform", "key", name="uq_conversationref"),
    )
    op.create_table(
        "dialogstate",
        id_column(),
        sa.Column("person_id", sa.Integer(), nullable=False),
        string("conversation"),
        string("flow"),
        string("step"),
        sa.Column("data", sa.JSON(), nullable=False),
        utc_datetime("updated_at"),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("person_id", "conversation", name="uq_dialogstate"),
    )
    op.create_table(
        "nudge",
        id_column(),
        string("key"),
        sa.Column("person_id", sa.Integer(), nullable=False),
        string("kind"),
        string("subject"),
        utc_datetime("due_at"),
        utc_datetime("sent_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    create_indexes("nudge", ["person_id"])

    op.create_table(
        "pointevent",
        id_column(),
        string("key"),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        string("team"),
        string("office"),
        string("kind"),
        sa.Column("points", sa.Integer(), nullable=False),
        string("source"),
        sa.Column("reverses_id", sa.Integer(), nullable=True),
        utc_datetime("at"),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["reverses_id"],
            ["pointevent.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key", name="uq_pointevent_key"),
    )
    create_indexes("pointevent", ["at", "campaign_id", "person_id", "team"])

    op.create_table(
        "referral",
        id_column(),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("referrer_id", sa.Integer(), nullable=False),
        sa.Column("receiver_id", sa.Integer(), nullable=False),
        string("card_id", nullable=True),
        string("referrer_team"),
        string("receiver_team"),
        sa.Column("value", sa.Float(), nullable=True),
        string("currency", nullable=True),
        sa.Column("won_value", sa.Float(), nullable=True),
        string("note"),
        string("status"),
        string("reason"),
        string("consent"),
        utc_datetime("consent_reminded_at", nullable=True),
        utc_datetime("created_at"),
        utc_datetime("updated_at"),
        sa.ForeignKeyConstraint(
            ["card_id"],
            ["servicecard.id"],
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["client.id"],
        ),
        sa.ForeignKeyConstraint(
            ["receiver_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["referrer_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    create_indexes("referral", ["client_id", "created_at", "receiver_id", "referrer_id", "status"])

    op.create_table(
        "idea",
        id_column(),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=False),
        string("text"),
        string("client_name"),
        string("card_id", nullable=True),
        string("why_now"),
        sa.Column("referral_id", sa.Integer(), nullable=True),
        utc_datetime("created_at"),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referral.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    create_indexes("idea", ["campaign_id"])

    op.create_table(
        "referralevent",
        id_column(),
        sa.Column("referral_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        utc_datetime("at"),
        string("from_status", nullable=True),
        string("to_status"),
        string("note"),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referral.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    create_indexes("referralevent", ["at", "referral_id"])

    op.create_table(
        "story",
        id_column(),
        sa.Column("author_id", sa.Integer(), nullable=False),
        string("title"),
        string("body"),
        sa.Column("teams", sa.JSON(), nullable=False),
        sa.Column("referral_id", sa.Integer(), nullable=True),
        sa.Column("client_id", sa.Integer(), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        string("currency", nullable=True),
        sa.Column("name_client", sa.Boolean(), nullable=False),
        string("client_approval"),
        string("status"),
        sa.Column("reviewed_by_id", sa.Integer(), nullable=True),
        utc_datetime("created_at"),
        utc_datetime("published_at", nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["client.id"],
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referral.id"],
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    create_indexes("story", ["author_id", "published_at", "status"])

    op.create_table(
        "ideavote",
        id_column(),
        sa.Column("idea_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        utc_datetime("at"),
        sa.ForeignKeyConstraint(
            ["idea_id"],
            ["idea.id"],
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idea_id", "person_id", name="uq_ideavote"),
    )
    create_indexes("ideavote", ["idea_id"])


def downgrade() -> None:
    drop_indexed_table("ideavote", ["idea_id"])
    drop_indexed_table("story", ["status", "published_at", "author_id"])
    drop_indexed_table("referralevent", ["referral_id", "at"])
    drop_indexed_table("idea", ["campaign_id"])
    drop_indexed_table(
        "referral", ["status", "referrer_id", "receiver_id", "created_at", "client_id"]
    )
    drop_indexed_table("pointevent", ["team", "person_id", "campaign_id", "at"])
    drop_indexed_table("nudge", ["person_id"])
    op.drop_table("dialogstate")
    op.drop_table("conversationref")
    drop_indexed_table("client", ["name"])
    drop_indexed_table("campaign", ["starts_at", "ends_at"])
    drop_indexed_table("team", ["name"])
    drop_indexed_table("servicecard", ["team"])
    drop_indexed_table("processedevent", ["at"])
    drop_indexed_table("person", ["teams_id", "team", "slack_id", "email"])
    op.drop_table("jobrun")
    op.drop_table("digestissue")
