"""The points ledger: awards, anti-gaming rules, reversals and reciprocal-pair flags.

The referral, story and idea modules call the `award_for_*` functions inside their own
transactions, so a point is written in the same transaction as the event that earned it.
Every award is a `PointEvent` whose key names (campaign, source, person, kind): a retried or
replayed event finds its key taken and scores nothing. Nothing is ever deleted from the
ledger; an admin's reversal is a compensating row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Executable, Result, String, bindparam, case, cast, func, literal, or_
from sqlmodel import Session, col, select

from bot.campaigns._lifecycle import is_participant, running_campaign_to_read
from bot.campaigns._rules import (
    _NOT_DUPLICATE_OF,
    _STEP_ORDER,
    _STEPS,
    FLAG_KIND,
    REVERSAL,
    CampaignError,
    rules_of,
    win_bonus,
)
from bot.local_time import day_bounds
from bot.messages import Reply
from bot.people import admins
from bot.render import render
from bot.settings import get_settings
from bot.store import detached, insert_unless_taken, locked, new_values
from bot.store.models import (
    Campaign,
    Idea,
    Nudge,
    Person,
    PointEvent,
    Referral,
    ReferralEvent,
    Story,
)


@dataclass(frozen=True)
class _Scoring:
    """What every award of one event is worked out in: the transaction's session, the
    running campaign and its rules, and the moment of the event."""

    session: Session
    campaign: Campaign
    rules: dict[str, Any]
    now: datetime


def award_for_referral_event(
    session: Session,
    referral: Referral,
    event: ReferralEvent,
    now: datetime,
    people: Mapping[int, Person] | None = None,
) -> list[PointEvent]:
    """Points earned by a referral's change of status, if a campaign is running.

    Logging earns the referrer a token amount. Accepted, first meeting and won score only
    when the receiver confirms the step (the event's actor is the receiver); the receiver
    earns a share for doing the work. Self-referrals, own-team referrals (unless the rules
    allow them), duplicates and pairs over their cap score nothing. `people`: the
    referrer and receiver when read already this turn (else they are read here).
    """
    if event.to_status == "new" and event.from_status is None:
        kind = "logged"
        _link_idea(session, referral)
    else:
        kind = _STEPS.get(event.to_status, "")
    campaign = running_campaign_to_read(session, now)
    if not kind or campaign is None or referral.id is None:
        return []
    if kind != "logged" and not _confirmed(session, referral, event):
        return []  # waits for the receiver to confirm the step
    if kind == "logged" and referral.created_at < campaign.starts_at:
        return []
    scoring = _Scoring(session, campaign, rules_of(campaign), now)
    known = people or {}
    referrer = known.get(referral.referrer_id) or session.get(Person, referral.referrer_id)
    receiver = known.get(referral.receiver_id) or session.get(Person, referral.receiver_id)
    if referrer is None or receiver is None:
        return []
    shares = _shares(scoring, referral, kind, referrer, receiver)
    checks = _read_checks(scoring, referral, referrer, receiver, shares)
    _flag_reciprocal(scoring, referrer, receiver, checks)
    if _blocked(scoring, referral, referrer, receiver, checks):
        return []
    source = f"referral:{referral.id}"
    rows = [
        _award_row(scoring, person, step_kind, points, source, checks.day_counts.get(n))
        for n, (person, step_kind, points) in enumerate(shares)
    ]
    return _insert_awards(session, [row for row in rows if row is not None])


def _shares(
    scoring: _Scoring, referral: Referral, kind: str, referrer: Person, receiver: Person
) -> list[tuple[Person, str, int]]:
    """(person, kind, points) of every award the event may make, in the order made."""
    rules = scoring.rules
    shares: list[tuple[Person, str, int]] = []
    # A step implies the ones before it (a win was accepted); keys stop any double count.
    kinds = [kind] if kind == "logged" else _STEP_ORDER[: _STEP_ORDER.index(kind) + 1]
    for step_kind in kinds:
        bonus = win_bonus(rules, referral.won_value or referral.value) if step_kind == "won" else 0
        shares.append((referrer, step_kind, int(rules["points"].get(step_kind, 0)) + bonus))
        if step_kind != "logged":
            shares.append((receiver, step_kind, int(rules["receiver_points"].get(step_kind, 0))))
    return shares


def _confirmed(session: Session, referral: Referral, event: ReferralEvent) -> bool:
    """A step counts when the receiver (or an admin on their behalf) recorded it."""
    if event.actor_id is None:
        return False
    if event.actor_id == referral.receiver_id:
        return True
    actor = session.get(Person, event.actor_id)
    return actor is not None and actor.is_admin and actor.id != referral.referrer_id


def award_for_story(session: Session, story: Story, now: datetime) -> list[PointEvent]:
    """Points for a story when it is published, if a campaign is running."""
    if story.status != "published" or story.id is None:
        return []
    return _award_simple(session, story.author_id, "story", f"story:{story.id}", now)


def award_for_idea(session: Session, idea: Idea, now: datetime) -> list[PointEvent]:
    """Points for a new idea, if a campaign is running."""
    if idea.id is None:
        return []
    return _award_simple(session, idea.author_id, "idea", f"idea:{idea.id}", now)


def _award_simple(
    session: Session, person_id: int, kind: str, source: str, now: datetime
) -> list[PointEvent]:
    campaign = running_campaign_to_read(session, now)
    person = session.get(Person, person_id)
    if campaign is None or person is None:
        return []
    scoring = _Scoring(session, campaign, rules_of(campaign), now)
    award = _award(scoring, person, kind, int(scoring.rules["points"].get(kind, 0)), source)
    return [award] if award else []


def _key_taken(session: Session, key: str) -> bool:
    """Whether the ledger already holds the award (or reversal) with this unique key."""
    return session.exec(select(PointEvent.id).where(PointEvent.key == key)).first() is not None


def point_key(campaign_id: int, source: str, person_id: int, kind: str) -> str:
    return f"{campaign_id}:{source}:{person_id}:{kind}"


def _award(
    scoring: _Scoring, person: Person, kind: str, points: int, source: str
) -> PointEvent | None:
    """One ledger row, unless it exists already, is worth nothing, or passes a cap."""
    row = _award_row(scoring, person, kind, points, source)
    awards = _insert_awards(scoring.session, [row] if row is not None else [])
    return awards[0] if awards else None


def _award_row(
    scoring: _Scoring,
    person: Person,
    kind: str,
    points: int,
    source: str,
    counted: int | None = None,
) -> dict[str, Any] | None:
    """The columns of an award, unless it is worth nothing or passes a cap. `counted`: the
    person's awards of `kind` today, when read already (`_read_checks`)."""
    campaign = scoring.campaign
    assert campaign.id is not None and person.id is not None
    if points <= 0 or not is_participant(campaign, person):
        return None
    if _over_daily_cap(scoring, person.id, kind, counted):
        return None
    earned = PointEvent.columns_earned_by(
        person,
        key=point_key(campaign.id, source, person.id, kind),
        campaign_id=campaign.id,
        kind=kind,
        points=points,
        source=source,
        at=scoring.now,
    )
    return new_values(PointEvent, **earned)


def _insert_awards(session: Session, rows: list[dict[str, Any]]) -> list[PointEvent]:
    """Insert the awards (one statement for them all), each unless its key is taken (a
    replay, or a concurrent writer that took it first): the awards inserted, in order."""
    if not rows:
        return []
    statement = _insert_award_statement(session.get_bind().dialect.name)
    # Several rows: SQLAlchemy sends them as one INSERT … VALUES (…), (…) RETURNING.
    result = session.connection().execute(statement, rows if len(rows) > 1 else rows[0])
    inserted = {key: award_id for award_id, key in result}
    return [
        detached(PointEvent, {**row, "id": inserted[row["key"]]})
        for row in rows
        if row["key"] in inserted
    ]


@cache
def _insert_award_statement(dialect: str) -> Executable:
    table = PointEvent.__table__  # type: ignore[attr-defined]
    statement: Any = insert_unless_taken(PointEvent, "key", dialect)
    return statement.returning(table.c.key)  # with the id: which rows went in


def _run(session: Session, statement: Executable, values: dict[str, Any]) -> Result[Any]:
    """A Core statement on the session's connection: rows of plain values, without the
    ORM's result machinery (half the cost of `session.exec` for the award's look-ups)."""
    return session.connection().execute(statement, values)


# The statements every award runs, built once at import: SQLAlchemy then neither rebuilds
# them nor works out their cache keys per turn.
_DAY = select(func.count(col(PointEvent.id))).where(
    PointEvent.campaign_id == bindparam("campaign"),
    PointEvent.points > 0,
    PointEvent.at >= bindparam("start"),
    PointEvent.at < bindparam("end"),
)
_DAY_COUNT = _DAY.where(
    PointEvent.person_id == bindparam("person"), PointEvent.kind == bindparam("kind")
)


def _over_daily_cap(
    scoring: _Scoring, person_id: int, kind: str, counted: int | None = None
) -> bool:
    cap = _daily_cap(scoring, kind)
    if cap is None:
        return False
    if counted is None:
        start, end = day_bounds(scoring.now, get_settings_zone())
        values = {"campaign": scoring.campaign.id, "person": person_id, "kind": kind}
        counted = _run(scoring.session, _DAY_COUNT, {**values, "start": start, "end": end}).one()[0]
    return int(counted) >= int(cap)


def _daily_cap(scoring: _Scoring, kind: str) -> Any:
    return scoring.rules.get("daily_cap", {}).get(kind)


def get_settings_zone() -> ZoneInfo:
    """The firm's zone for day boundaries inside a transaction that has no context."""
    return get_settings().zone


def _blocked(
    scoring: _Scoring, referral: Referral, referrer: Person, receiver: Person, checks: _Checks
) -> bool:
    """The anti-gaming rules: self, own team, duplicate, pair cap."""
    if referrer.id == receiver.id:
        return True
    referrer_team = referral.referrer_team or referrer.team
    if not scoring.rules.get("own_team_scores") and referrer_team == _receiver_team(
        referral, receiver
    ):
        return True
    if referral.status == "duplicate" or checks.duplicate:
        return True
    return _pair_capped(scoring, checks)


def _receiver_team(referral: Referral, receiver: Person) -> str:
    return referral.receiver_team or receiver.team


@dataclass(frozen=True)
class _Checks:
    """What the anti-gaming rules and the daily caps of one referral event read, in one
    statement (`_read_checks`): one round trip instead of one per rule and per award."""

    there: int = 0  # referrals from the referrer to the receiver this campaign
    back_again: int = 0  # and from the receiver to the referrer
    duplicate: bool = False
    within: bool = False  # this referral scored already: its later steps score
    paired: bool = False  # the pair made other referrals
    pair_scored: int = 0  # how many of those scored
    day_counts: dict[int, int] = field(default_factory=dict)  # share index -> today's awards


def _read_checks(
    scoring: _Scoring,
    referral: Referral,
    referrer: Person,
    receiver: Person,
    shares: list[tuple[Person, str, int]],
) -> _Checks:
    """Every read the rules of this event need, as the separate reads gave them. The day
    counts are read before any of the event's awards is inserted: each share is a
    different (person, kind), so no award of the event counts towards another's cap."""
    rules, campaign = scoring.rules, scoring.campaign
    reciprocal = bool(rules.get("reciprocal_flag_at")) and referrer.id != receiver.id
    pair = rules.get("pair_cap") is not None
    capped = [
        n
        for n, (person, kind, points) in enumerate(shares)
        if points > 0 and is_participant(campaign, person) and _daily_cap(scoring, kind) is not None
    ]
    by_card = bool(referral.card_id)
    statement = _checks_statement(reciprocal, by_card, pair, len(capped))
    window = timedelta(days=int(rules.get("duplicate_window_days", 90)))
    start, end = day_bounds(scoring.now, get_settings_zone())
    values: dict[str, Any] = {
        "a": referral.referrer_id,
        "b": referral.receiver_id,
        "starts": campaign.starts_at,
        "ends": campaign.ends_at,
        "client": referral.client_id,
        "referral": referral.id or 0,
        "since": referral.created_at - window,
        "target": referral.card_id or _receiver_team(referral, receiver),
        "mine": f"referral:{referral.id}",
        "campaign": campaign.id,
        "start": start,
        "end": end,
    }
    for i, n in enumerate(capped):
        person, kind, _points = shares[n]
        values |= {f"person{i}": person.id, f"kind{i}": kind}
    row = list(_run(scoring.session, statement, values).one())
    there, back_again = (int(row.pop(0)), int(row.pop(0))) if reciprocal else (0, 0)
    duplicate = bool(row.pop(0))
    within, paired, scored = (bool(row[0]), bool(row[1]), int(row[2])) if pair else (0, 0, 0)
    counts = dict(zip(capped, (int(c) for c in row[3 if pair else 0 :]), strict=True))
    return _Checks(there, back_again, duplicate, bool(within), bool(paired), scored, counts)


@cache
def _checks_statement(reciprocal: bool, by_card: bool, pair: bool, caps: int) -> Executable:
    """The one statement of `_read_checks`, built once for each shape of rules."""
    columns: list[Any] = []
    if reciprocal:
        columns += [_PAIR_COUNT.where(_A_TO_B).scalar_subquery()]
        columns += [_PAIR_COUNT.where(_B_TO_A).scalar_subquery()]
    columns.append((_EARLIER_FOR_CARD if by_card else _EARLIER_FOR_TEAM).exists())
    if pair:
        columns += list(_PAIR_CAP.selected_columns)
    for i in range(caps):
        day = _DAY.where(
            PointEvent.person_id == bindparam(f"person{i}"),
            PointEvent.kind == bindparam(f"kind{i}"),
        )
        columns.append(day.scalar_subquery())
    return select(*columns)


_EARLIER = select(Referral.id).where(
    Referral.client_id == bindparam("client"),
    col(Referral.id) < bindparam("referral"),
    Referral.created_at >= bindparam("since"),
    col(Referral.status).not_in(_NOT_DUPLICATE_OF),
)
_EARLIER_FOR_CARD = _EARLIER.where(Referral.card_id == bindparam("target"))
_EARLIER_FOR_TEAM = _EARLIER.where(Referral.receiver_team == bindparam("target"))


# Referrals from one of two people (`a`, `b`) to the other, and either way.
_A_TO_B = (col(Referral.referrer_id) == bindparam("a")) & (
    col(Referral.receiver_id) == bindparam("b")
)
_B_TO_A = (col(Referral.referrer_id) == bindparam("b")) & (
    col(Referral.receiver_id) == bindparam("a")
)
_BETWEEN = or_(_A_TO_B, _B_TO_A)
# The referrals of a pair (with its direction added) in the campaign's window. The window
# is counted, not searched: as a WHERE condition it let PostgreSQL's generic plan (the
# statement is prepared) scan `ix_referral_created_at` over the whole window, every
# referral of the campaign, when the table's statistics were those of an empty one, as in
# a new database's first campaign; now only the pair's indexes can serve it.
_IN_WINDOW = (Referral.created_at >= bindparam("starts")) & (
    Referral.created_at < bindparam("ends")
)
_PAIR_COUNT = select(func.count(case((_IN_WINDOW, col(Referral.id)))))


def _pair_referral_ids(session: Session, a: int, b: int) -> list[int]:
    rows = session.exec(select(Referral.id).where(_BETWEEN), params={"a": a, "b": b})
    return [r for r in rows if r is not None]


def _pair_cap_statement() -> Any:
    """Whether this referral scored already, whether the pair made others, and how many of
    those scored (their ledger sources, "referral:<id>", built in SQL): one statement."""
    others = select(Referral.id).where(_BETWEEN, Referral.id != bindparam("referral"))
    scored_in = (PointEvent.campaign_id == bindparam("campaign"), PointEvent.points > 0)
    sources = select(literal("referral:") + cast(Referral.id, String)).where(
        _BETWEEN, Referral.id != bindparam("referral")
    )
    already = select(PointEvent.id).where(PointEvent.source == bindparam("mine"), *scored_in)
    scored = select(func.count(func.distinct(PointEvent.source))).where(
        col(PointEvent.source).in_(sources), *scored_in
    )
    return select(already.exists(), others.exists(), scored.scalar_subquery())


_PAIR_CAP = _pair_cap_statement()


def _pair_capped(scoring: _Scoring, checks: _Checks) -> bool:
    cap = scoring.rules.get("pair_cap")
    if cap is None:
        return False
    if checks.within or not checks.paired:
        return False  # this referral is within the cap already; its later steps score
    return checks.pair_scored >= int(cap)


def _flag_reciprocal(
    scoring: _Scoring, referrer: Person, receiver: Person, checks: _Checks
) -> None:
    """Back-and-forth between two people: queue a note to every admin (once per pair)."""
    session, campaign, now = scoring.session, scoring.campaign, scoring.now
    threshold = scoring.rules.get("reciprocal_flag_at")
    if not threshold or referrer.id is None or receiver.id is None or referrer.id == receiver.id:
        return
    if min(checks.there, checks.back_again) < int(threshold):
        return
    low, high = sorted((referrer.id, receiver.id))
    for admin in admins(session):
        key = f"{FLAG_KIND}:{campaign.id}:{low}:{high}:{admin.id}"
        if admin.id is None or session.exec(select(Nudge.id).where(Nudge.key == key)).first():
            continue
        session.add(
            Nudge(key=key, person_id=admin.id, kind=FLAG_KIND, subject=f"{low}:{high}", due_at=now)
        )


def reverse_award(
    session: Session, point_id: int, reason: str, by: Person, now: datetime
) -> PointEvent:
    """An admin's reversal: a compensating row, never a deletion (the award's row locked, so
    the same reversal sent twice at once finds the first)."""
    original = locked(session, PointEvent, point_id)
    if original is None:
        raise CampaignError("no_such_award", point_id=point_id)
    if original.reverses_id is not None or original.kind == REVERSAL:
        raise CampaignError("cannot_reverse_reversal", point_id=point_id)
    key = f"{original.campaign_id}:{REVERSAL}:{original.id}"
    if _key_taken(session, key):
        raise CampaignError("already_reversed", point_id=point_id)
    reversal = PointEvent(
        **original.model_dump(include={"campaign_id", "person_id", "team", "office"}),
        key=key,
        kind=REVERSAL,
        points=-original.points,
        source=f"reversed by #{by.id}: {reason}"[:250],  # an id, not an email: forgettable
        reverses_id=original.id,
        at=now,
    )
    session.add(reversal)
    session.flush()
    return reversal


def pending_flags(session: Session, now: datetime) -> list[Reply]:
    """The reciprocal-pair notes queued for admins, as DMs; marks them sent."""
    replies: list[Reply] = []
    flags = session.exec(select(Nudge).where(Nudge.kind == FLAG_KIND, col(Nudge.sent_at).is_(None)))
    for flag in flags:
        admin = session.get(Person, flag.person_id)
        low, high = (int(x) for x in flag.subject.split(":"))
        a, b = session.get(Person, low), session.get(Person, high)
        if admin is None or a is None or b is None:
            continue
        count = len(_pair_referral_ids(session, low, high))
        text = render("campaign_flag", first=a, second=b, count=count)
        replies.append(Reply(text, to_person=admin.email, kind="campaign_flag"))
        flag.sent_at = now
        session.add(flag)
    return replies


# -- ideas that became referrals (linked when the referral is logged) -------------------


_UNLINKED_IDEA = (
    select(Idea.id)
    .where(col(Idea.referral_id).is_(None), Idea.text == bindparam("text"))
    .order_by(col(Idea.id).desc())
)


def _link_idea(session: Session, referral: Referral) -> None:
    """A referral logged from an idea's pre-filled form carries the idea's text as its note."""
    if not referral.note or referral.id is None:
        return
    text = " ".join(referral.note.split())
    idea_id = _run(session, _UNLINKED_IDEA, {"text": text}).scalar()
    if idea_id is not None:
        link_idea_to_referral(session, idea_id, referral.id)


def link_idea_to_referral(session: Session, idea_id: int, referral_id: int) -> None:
    """Called by the referral flow once a referral made from an idea is saved; an idea
    becomes one referral, whichever replica saves two at once (the row is locked)."""
    idea = locked(session, Idea, idea_id)
    if idea is not None and idea.referral_id is None:
        idea.referral_id = referral_id
        session.add(idea)
