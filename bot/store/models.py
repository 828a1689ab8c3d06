"""The tables. Plain SQLModel classes; the queries live beside the concept that owns them.

A row that keeps the team (and office) its people are in today is built by a named constructor
(`Referral.between`, `PointEvent.earned_by`), so the copying is written once.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from bot.store import slack_tables  # noqa: F401  (registers the Slack install tables)


def utcnow() -> datetime:
    """Aware UTC now: every timestamp in the store is timezone-aware UTC."""
    return datetime.now(UTC)


def _json(default: Any = None) -> Any:
    factory = list if default is None else dict
    return Field(default_factory=factory, sa_column=Column(JSON, nullable=False))


class Team(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)


class Person(SQLModel, table=True):
    __table_args__ = (
        # Added by migration 0012: partial indexes, so that a board counts the people who
        # left and reads who opted in from the few rows concerned, not every person.
        Index(
            "ix_person_inactive",
            "id",
            sqlite_where=text("active = 0"),
            postgresql_where=text("NOT active"),
        ),
        Index(
            "ix_person_opted_in",
            "id",
            sqlite_where=text("leaderboard_opt_in = 1"),
            postgresql_where=text("leaderboard_opt_in"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, index=True)  # always lower case
    name: str
    team: str = Field(index=True)
    office: str = ""
    title: str = ""
    role: str = "member"  # member | ambassador | admin
    slack_id: str | None = Field(default=None, index=True)
    teams_id: str | None = Field(default=None, index=True)
    active: bool = True
    digest_opt_in: bool = False
    leaderboard_opt_in: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    # When a load last edited the row: Context's content check reads the latest (indexed).
    changed_at: datetime | None = Field(default=None, index=True)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name else ""


class ServiceCard(SQLModel, table=True):
    id: str = Field(primary_key=True)
    title: str
    team: str = Field(index=True)
    owners: list[str] = _json()
    aliases: list[str] = _json()
    sections: dict[str, str] = _json({})
    updated: date | None = None
    retired: bool = False
    loaded_at: datetime = Field(default_factory=utcnow)
    changed_at: datetime = Field(default_factory=utcnow)


class Client(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    aliases: list[str] = _json()
    sector: str = ""
    owner_id: int | None = Field(default=None, foreign_key="person.id")
    services: list[str] = _json()
    provisional: bool = False  # created from a referral, waiting for an admin to confirm
    retired: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    # When a load last edited the row: Context's content check reads the latest (indexed).
    changed_at: datetime | None = Field(default=None, index=True)


class Referral(SQLModel, table=True):
    # Added by migration 0013: the points rules count a pair's referrals in a campaign.
    __table_args__ = (Index("ix_referral_pair", "referrer_id", "receiver_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id", index=True)
    referrer_id: int = Field(foreign_key="person.id", index=True)
    receiver_id: int = Field(foreign_key="person.id", index=True)
    card_id: str | None = Field(default=None, foreign_key="servicecard.id")
    referrer_team: str = ""
    receiver_team: str = ""
    value: float | None = None
    currency: str | None = None
    won_value: float | None = None
    note: str = ""
    status: str = Field(default="new", index=True)
    # The confirmation that created it (unique): a repeated Confirm cannot create it twice.
    confirmation: str | None = Field(default=None, unique=True, index=True)
    reason: str = ""
    consent: str = "not_needed"  # not_needed | pending | given | talk_first | lapsed
    consent_reminded_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow, index=True)
    # Indexed by migration 0003_dashboard: "waiting longest" reads the oldest open ones first.
    updated_at: datetime = Field(default_factory=utcnow, index=True)

    @classmethod
    def between(cls, referrer: Person, receiver: Person, **fields: Any) -> Referral:
        """A referral from `referrer` to `receiver`, with the teams they are in today: a later
        move of team leaves the referral counted where it was made."""
        assert referrer.id is not None and receiver.id is not None
        return cls(
            referrer_id=referrer.id,
            receiver_id=receiver.id,
            referrer_team=referrer.team,
            receiver_team=receiver.team,
            **fields,
        )


class ReferralEvent(SQLModel, table=True):
    """The audit trail: one row per change of a referral, never updated."""

    # Added by migration 0003_dashboard: the funnel counts referrals per status from it alone.
    __table_args__ = (Index("ix_referralevent_funnel", "to_status", "referral_id"),)

    id: int | None = Field(default=None, primary_key=True)
    referral_id: int = Field(foreign_key="referral.id", index=True)
    actor_id: int | None = Field(default=None, foreign_key="person.id")
    at: datetime = Field(default_factory=utcnow, index=True)
    from_status: str | None = None
    to_status: str
    note: str = ""


class Story(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    author_id: int = Field(foreign_key="person.id", index=True)
    title: str
    body: str
    teams: list[str] = _json()
    referral_id: int | None = Field(default=None, foreign_key="referral.id")
    client_id: int | None = Field(default=None, foreign_key="client.id")
    value: float | None = None
    currency: str | None = None
    name_client: bool = False  # asked for; shown only once the owner approved
    client_approval: str = "not_asked"  # not_asked | pending | approved | declined
    status: str = Field(default="pending", index=True)  # pending|published|declined|withdrawn
    reviewed_by_id: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime = Field(default_factory=utcnow)
    published_at: datetime | None = Field(default=None, index=True)


class Campaign(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str
    starts_at: datetime = Field(index=True)  # aware UTC
    ends_at: datetime = Field(index=True)
    teams: list[str] = _json()  # empty = everyone
    offices: list[str] = _json()
    rules: dict[str, Any] = _json({})
    status: str = "scheduled"  # scheduled | running | ended
    created_by_id: int | None = Field(default=None, foreign_key="person.id")
    created_at: datetime = Field(default_factory=utcnow)


class PointEvent(SQLModel, table=True):
    """The points ledger: append-only; a reversal is a compensating row."""

    __table_args__ = (
        UniqueConstraint("key", name="uq_pointevent_key"),
        # Added by migration 0002: boards are one scan of the first; caps and pairs use the others.
        Index("ix_pointevent_board", "campaign_id", "person_id", "team", "office", "at", "points"),
        Index("ix_pointevent_cap", "person_id", "kind", "at"),
        Index("ix_pointevent_source", "campaign_id", "source"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str  # campaign:source:person:kind, so a replayed event never scores twice
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    team: str = Field(default="", index=True)
    office: str = ""
    kind: str
    points: int
    source: str = ""
    reverses_id: int | None = Field(default=None, foreign_key="pointevent.id")
    at: datetime = Field(default_factory=utcnow, index=True)

    @classmethod
    def earned_by(cls, person: Person, **fields: Any) -> PointEvent:
        """Points for `person`, counted for the team and office they are in when they earn
        them (the boards group the ledger by the row's own team and office)."""
        return cls(**cls.columns_earned_by(person, **fields))

    @staticmethod
    def columns_earned_by(person: Person, **fields: Any) -> dict[str, Any]:
        """`earned_by`'s columns, for a Core insert (`bot.store.new_values` adds the rest)."""
        assert person.id is not None
        return {"person_id": person.id, "team": person.team, "office": person.office, **fields}


class Idea(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int | None = Field(default=None, foreign_key="campaign.id", index=True)
    author_id: int = Field(foreign_key="person.id")
    text: str
    client_name: str = ""
    card_id: str | None = None
    why_now: str = ""
    referral_id: int | None = Field(default=None, foreign_key="referral.id")
    created_at: datetime = Field(default_factory=utcnow)


class IdeaVote(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("idea_id", "person_id", name="uq_ideavote"),)

    id: int | None = Field(default=None, primary_key=True)
    idea_id: int = Field(foreign_key="idea.id", index=True)
    person_id: int = Field(foreign_key="person.id")
    at: datetime = Field(default_factory=utcnow)


class Nudge(SQLModel, table=True):
    """A reminder sent (or due); `key` makes each reminder happen at most once.

    `kind` is the rule that made it. A nudge over the person's budget may be batched into
    their personal digest instead (`batched_at`); the person may snooze it for a week or
    say it is not relevant (`feedback`), which admins see counted per rule.
    """

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    kind: str
    subject: str = ""
    due_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
    # Added by migration 0009_nudges.
    data: dict[str, Any] = _json({})  # ids and labels for the digest line, never prose
    batched_at: datetime | None = None
    snoozed_until: datetime | None = None
    feedback: str = ""  # "" | snoozed | not_relevant
    feedback_at: datetime | None = None


class NudgeOptOut(SQLModel, table=True):
    """Someone who said `/crossbot nudges off` (no row: nudges are on)."""

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", unique=True)
    at: datetime = Field(default_factory=utcnow)


class JobRun(SQLModel, table=True):
    """Exactly-once scheduled work: a run claims (job, scheduled_for) before doing anything."""

    __table_args__ = (UniqueConstraint("job", "scheduled_for", name="uq_jobrun_slot"),)

    id: int | None = Field(default=None, primary_key=True)
    job: str
    scheduled_for: datetime
    status: str = "running"  # running | done | failed
    attempts: int = 1
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    error: str = ""
    result: dict[str, Any] = _json({})


class InboxItem(SQLModel, table=True):
    """One platform delivery, stored before it is acknowledged (`bot.inbox`).

    (platform, key) is the delivery claim: a retried or replayed delivery finds its row.
    A worker claims an item (`claimed_by`, `claimed_at`) before processing it; a claim older
    than the lease is taken over, so a dead process's work is finished by another.
    """

    __tablename__ = "inbox_item"
    __table_args__ = (
        UniqueConstraint("platform", "key", name="uq_inbox_item_key"),
        Index("ix_inbox_item_pending", "platform", "done_at", "claimed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    platform: str
    key: str
    body: dict[str, Any] = _json({})
    meta: dict[str, Any] = _json({})
    received_at: datetime = Field(default_factory=utcnow, index=True)
    claimed_by: str | None = None
    claimed_at: datetime | None = None
    attempts: int = 0
    done_at: datetime | None = None


class InboxSent(SQLModel, table=True):
    """A message sent for an inbox item (its n-th send), so a resumed item skips it."""

    __tablename__ = "inbox_sent"
    __table_args__ = (UniqueConstraint("item_id", "seq", name="uq_inbox_sent"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(index=True)
    seq: int
    at: datetime = Field(default_factory=utcnow)


class InboxDecision(SQLModel, table=True):
    """What the n-th turn of an inbox item decided to say, committed in the transaction of
    the state it changed, so a resumed item sends these replies instead of routing again."""

    __tablename__ = "inbox_decision"
    __table_args__ = (UniqueConstraint("item_id", "n", name="uq_inbox_decision"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(index=True)
    n: int
    replies: list[dict[str, Any]] = _json()


class StashEntry(SQLModel, table=True):
    """What a platform message cannot carry (a form, an oversized button value), by key,
    so any replica, or this one after a restart, can continue the conversation."""

    __tablename__ = "stash_entry"

    key: str = Field(primary_key=True)
    value: dict[str, Any] = _json({})
    created_at: datetime = Field(default_factory=utcnow, index=True)


class ConversationRef(SQLModel, table=True):
    """Where to post proactively (Teams needs a stored conversation reference)."""

    __table_args__ = (UniqueConstraint("platform", "key", name="uq_conversationref"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str
    key: str  # a person's email, or a channel / conversation id
    person_id: int | None = Field(default=None, foreign_key="person.id")
    reference: dict[str, Any] = _json({})
    updated_at: datetime = Field(default_factory=utcnow)


class DialogState(SQLModel, table=True):
    """A multi-step flow in progress, per person and conversation, so it survives restarts."""

    __table_args__ = (UniqueConstraint("person_id", "conversation", name="uq_dialogstate"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    conversation: str
    flow: str
    step: str = ""
    data: dict[str, Any] = _json({})
    updated_at: datetime = Field(default_factory=utcnow)


class DigestIssue(SQLModel, table=True):
    """One weekly digest that went out, and the card it spotlighted (for fair rotation)."""

    id: int | None = Field(default=None, primary_key=True)
    week_start: date = Field(unique=True)
    spotlight_card_id: str | None = None
    posted_at: datetime = Field(default_factory=utcnow)


class AskedQuestion(SQLModel, table=True):
    """A who-does question, the cards offered and any "not what I needed", for learning.

    Private: the text is shown only to admins and the owners of the cards it came closest
    to, in the weekly review; it is never logged.
    """

    id: int | None = Field(default=None, primary_key=True)
    asker_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    question: str
    cards: list[str] = _json()  # the cards offered, best first; empty for "no match"
    reason: str = ""  # why nothing fitted ("weak", "uncovered", ...); "" when answered
    feedback: str = ""  # "" | "missed" (the asker said it was not what they needed)
    note: str = ""  # what they needed, in their words (optional)
    feedback_at: datetime | None = None
    asked_at: datetime = Field(default_factory=utcnow, index=True)
    reported_at: datetime | None = Field(default=None, index=True)  # in a weekly review
    resolved_at: datetime | None = None  # an alias was added from it


class LearnedAlias(SQLModel, table=True):
    """An alias of a card added from a question; kept across content reloads."""

    __table_args__ = (UniqueConstraint("card_id", "key", name="uq_learnedalias_card_key"),)

    id: int | None = Field(default=None, primary_key=True)
    card_id: str = Field(foreign_key="servicecard.id", index=True)
    alias: str
    key: str  # the alias folded, so the same words are added once per card
    added_by_id: int | None = Field(default=None, foreign_key="person.id")
    added_at: datetime = Field(default_factory=utcnow)


class DashboardLink(SQLModel, table=True):
    """A one-time sign-in link for the dashboard; only the hash of its token is kept."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None


class DashboardSession(SQLModel, table=True):
    """A signed-in browser; in the database so that any replica serves it."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    csrf_token: str
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = None


class Firm(SQLModel, table=True):
    """The firm the loaded content describes (one row): name, currency, time zone."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = ""
    currency: str = "GBP"
    timezone: str = "Europe/London"
    loaded_at: datetime = Field(default_factory=utcnow)


class ChartImage(SQLModel, table=True):
    """A rendered chart, keyed by a digest of what it shows, so any replica reuses it."""

    key: str = Field(primary_key=True)
    png: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, index=True)
