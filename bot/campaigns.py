"""Cross-selling weeks: campaigns, the points ledger, ideas and leaderboards.

The referral, story and idea modules call the `award_for_*` functions inside their own
transactions, so a point is written in the same transaction as the event that earned it.
Every award is a `PointEvent` whose key names (campaign, source, person, kind): a retried or
replayed event finds its key taken and scores nothing. Nothing is ever deleted from the
ledger; an admin's reversal is a compensating row.

Leaderboards are one GROUP BY over the ledger (see migration 0002 for the covering index);
the announcements the scheduler posts are plain functions returning `Reply`s.
"""

from __future__ import annotations

import copy
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, or_
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.messages import Reply
from bot.people import admins
from bot.render import render
from bot.settings import Settings, get_settings
from bot.store.models import (
    Campaign,
    Client,
    Idea,
    IdeaVote,
    Nudge,
    PointEvent,
    Referral,
    ReferralEvent,
    ServiceCard,
    Story,
)
from bot.store.models import Person as PersonRow

# -- rules -------------------------------------------------------------------------------

KINDS = ("logged", "accepted", "meeting", "won", "idea", "story")
REVERSAL = "reversal"

DEFAULT_RULES: dict[str, Any] = {
    # Points to the referrer for each step; logging alone earns a token amount.
    "points": {"logged": 1, "accepted": 5, "meeting": 10, "won": 25, "idea": 2, "story": 10},
    # Points to the receiver for doing the work (they confirm the step).
    "receiver_points": {"accepted": 2, "meeting": 5, "won": 10},
    # A win's bonus by value band: [minimum value, bonus], highest band that fits wins.
    "win_bonus": [[10_000, 10], [50_000, 25], [250_000, 50]],
    # At most this many awards per person per action per day (firm time zone).
    "daily_cap": {"logged": 3, "accepted": 10, "meeting": 10, "won": 10, "idea": 5, "story": 2},
    # At most this many referrals between the same two people score in one campaign.
    "pair_cap": 3,
    "own_team_scores": False,
    # Flag a pair to admins when each has referred to the other at least this many times.
    "reciprocal_flag_at": 2,
    # An earlier referral of the same client to the same team within this window = duplicate.
    "duplicate_window_days": 90,
}

PRESETS: dict[str, dict[str, Any]] = {
    "standard": {},
    "ideas": {"points": {"idea": 5}, "daily_cap": {"idea": 10}},
    "wins": {"points": {"won": 40}, "win_bonus": [[10_000, 15], [50_000, 40], [250_000, 80]]},
    "open": {"own_team_scores": True},
}

# Referral statuses that are steps worth points (the receiver confirms them).
_STEPS = {"accepted": "accepted", "meeting": "meeting", "won": "won"}
_STEP_ORDER = ["accepted", "meeting", "won"]
_PROGRESSED = ("accepted", "meeting", "proposal", "won")
_NOT_DUPLICATE_OF = ("declined", "duplicate", "withdrawn")
ENCOURAGE_KIND = "campaign_encourage"
FLAG_KIND = "campaign_flag"


class CampaignError(Exception):
    """A request that cannot be done as asked; `code` names the template branch to render."""

    def __init__(self, code: str, **data: Any) -> None:
        super().__init__(code)
        self.code = code
        self.data = data


def rules_for(preset: str = "standard", overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The full rules of a preset: defaults, then the preset, then explicit overrides."""
    if preset not in PRESETS:
        raise CampaignError("unknown_preset", preset=preset, presets=list(PRESETS))
    rules = copy.deepcopy(DEFAULT_RULES)
    for layer in (PRESETS[preset], overrides or {}):
        for name, value in layer.items():
            if isinstance(value, dict) and isinstance(rules.get(name), dict):
                rules[name] = {**rules[name], **value}
            else:
                rules[name] = copy.deepcopy(value)
    rules["preset"] = preset
    return rules


def rules_of(campaign: Campaign) -> dict[str, Any]:
    """A campaign's rules, filled in with defaults for anything it does not say."""
    stored = dict(campaign.rules or {})
    preset = str(stored.pop("preset", "standard"))
    return rules_for(preset if preset in PRESETS else "standard", stored)


def win_bonus(rules: dict[str, Any], value: float | None) -> int:
    bonus = 0
    for minimum, points in sorted(rules.get("win_bonus", [])):
        if value is not None and value >= minimum:
            bonus = int(points)
    return bonus


# -- time --------------------------------------------------------------------------------


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The start of `day` in the firm's time zone, as aware UTC."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def day_bounds(moment: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    day = local_day(moment, zone)
    return local_midnight(day, zone), local_midnight(day + timedelta(days=1), zone)


_MONTHS = {
    m: n
    for n, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for m in names
}


def parse_day(text: str, today: date) -> date | None:
    """A date as people type it: 2026-12-01, 1/12/2026, 1 Dec (2026), today, tomorrow."""
    value = text.strip().lower().rstrip(".")
    if value in ("today", "now"):
        return today
    if value == "tomorrow":
        return today + timedelta(days=1)
    try:
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", value):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := re.fullmatch(r"(\d{1,2})[/.](\d{1,2})[/.](\d{2,4})", value):
            year = int(m[3]) + (2000 if len(m[3]) == 2 else 0)
            return date(year, int(m[2]), int(m[1]))
        if m := re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\.?(?:\s+(\d{4}))?", value):
            month = _MONTHS.get(m[2])
            if month is None:
                return None
            return date(int(m[3]) if m[3] else today.year, month, int(m[1]))
    except ValueError:
        return None
    return None


# -- campaigns ---------------------------------------------------------------------------


def running_campaign(session: Session, now: datetime) -> Campaign | None:
    """The campaign whose window holds `now` (whether or not its start was announced yet)."""
    return session.exec(
        select(Campaign)
        .where(Campaign.status != "ended", Campaign.starts_at <= now, Campaign.ends_at > now)
        .order_by(col(Campaign.starts_at).desc())
    ).first()


def upcoming_campaign(session: Session, now: datetime) -> Campaign | None:
    return session.exec(
        select(Campaign)
        .where(Campaign.status == "scheduled", Campaign.starts_at > now)
        .order_by(col(Campaign.starts_at))
    ).first()


def latest_campaign(session: Session, now: datetime) -> Campaign | None:
    """The running campaign, else the one that ended last (its final standings)."""
    running = running_campaign(session, now)
    if running is not None:
        return running
    return session.exec(
        select(Campaign)
        .where(Campaign.starts_at <= now, Campaign.status != "scheduled")
        .order_by(col(Campaign.ends_at).desc())
    ).first()


def campaign_history(session: Session) -> list[Campaign]:
    return list(session.exec(select(Campaign).order_by(col(Campaign.starts_at).desc())))


def create_campaign(
    session: Session,
    *,
    name: str,
    start: date,
    end: date,
    now: datetime,
    zone: ZoneInfo,
    teams: list[str] | None = None,
    offices: list[str] | None = None,
    preset: str = "standard",
    created_by: PersonRow | None = None,
) -> Campaign:
    """Schedule a campaign from `start` to `end` inclusive (firm dates); validated first."""
    name = " ".join(name.split())
    if not name:
        raise CampaignError("no_name")
    if len(name) > 80:
        raise CampaignError("name_too_long", limit=80)
    today = local_day(now, zone)
    if end < start:
        raise CampaignError("end_before_start", start=start, end=end)
    if start < today:
        raise CampaignError("start_in_past", start=start, today=today)
    teams, offices = _check_names(session, teams or [], offices or [])
    rules = rules_for(preset)
    starts_at, ends_at = local_midnight(start, zone), local_midnight(end + timedelta(days=1), zone)
    _check_overlap(session, starts_at, ends_at, None)
    campaign = Campaign(
        name=name,
        starts_at=starts_at,
        ends_at=ends_at,
        teams=teams,
        offices=offices,
        rules=rules,
        status="scheduled",
        created_by_id=created_by.id if created_by else None,
        created_at=now,
    )
    session.add(campaign)
    session.flush()
    return campaign


def _check_names(session: Session, teams: list[str], offices: list[str]) -> tuple[list, list]:
    people = list(session.exec(select(PersonRow.team, PersonRow.office).where(PersonRow.active)))
    known_teams = {t.casefold(): t for t, _ in people}
    known_offices = {o.casefold(): o for _, o in people if o}
    unknown = [t for t in teams if t.casefold() not in known_teams]
    unknown += [o for o in offices if o.casefold() not in known_offices]
    if unknown:
        raise CampaignError(
            "unknown_names",
            unknown=unknown,
            teams=sorted(set(known_teams.values())),
            offices=sorted(set(known_offices.values())),
        )
    return (
        sorted({known_teams[t.casefold()] for t in teams}),
        sorted({known_offices[o.casefold()] for o in offices}),
    )


def split_names(text: str, session: Session) -> tuple[list[str], list[str]]:
    """ "Tax, Employment, Leeds" → (teams, offices): each name is a team or an office."""
    names = [n.strip() for n in re.split(r"[,;\n]", text or "") if n.strip()]
    people = list(session.exec(select(PersonRow.team, PersonRow.office).where(PersonRow.active)))
    offices = {o.casefold() for _, o in people if o}
    teams = [n for n in names if n.casefold() not in offices]
    return teams, [n for n in names if n.casefold() in offices]


def _check_overlap(
    session: Session, starts_at: datetime, ends_at: datetime, ignore_id: int | None
) -> None:
    clash = session.exec(
        select(Campaign).where(
            Campaign.status != "ended",
            Campaign.starts_at < ends_at,
            Campaign.ends_at > starts_at,
            Campaign.id != (ignore_id or -1),
        )
    ).first()
    if clash is not None:
        raise CampaignError("overlap", other=clash.name)


def extend_campaign(
    session: Session, campaign: Campaign, new_end: date, now: datetime, zone: ZoneInfo
) -> Campaign:
    """Move the last day of a campaign later (inclusive, firm date)."""
    if campaign.status == "ended":
        raise CampaignError("already_ended", name=campaign.name)
    current_end = local_day(campaign.ends_at - timedelta(seconds=1), zone)
    if new_end <= current_end:
        raise CampaignError("extend_not_later", end=current_end)
    ends_at = local_midnight(new_end + timedelta(days=1), zone)
    _check_overlap(session, campaign.starts_at, ends_at, campaign.id)
    campaign.ends_at = ends_at
    session.add(campaign)
    return campaign


def last_day(campaign: Campaign, zone: ZoneInfo) -> date:
    return local_day(campaign.ends_at - timedelta(seconds=1), zone)


def is_participant(campaign: Campaign, person: PersonRow | Member) -> bool:
    """Whether `person` takes part: their team and office are in (empty = everyone)."""
    if not person.active:
        return False
    if campaign.teams and person.team not in campaign.teams:
        return False
    return not (campaign.offices and person.office not in campaign.offices)


@dataclass(frozen=True)
class Member:
    """The few columns of a person that boards need (cheaper than whole rows at scale)."""

    id: int
    email: str
    name: str
    team: str
    office: str
    leaderboard_opt_in: bool
    active: bool = True


_MEMBER_COLUMNS: tuple[Any, ...] = (
    col(PersonRow.id),
    col(PersonRow.email),
    col(PersonRow.name),
    col(PersonRow.team),
    col(PersonRow.office),
    col(PersonRow.leaderboard_opt_in),
    col(PersonRow.active),
)


def participants(session: Session, campaign: Campaign) -> list[Member]:
    rows = session.execute(sa_select(*_MEMBER_COLUMNS).where(col(PersonRow.active))).all()
    members = [Member(*row) for row in rows]
    return [m for m in members if is_participant(campaign, m)]


# -- awards ------------------------------------------------------------------------------


def award_for_referral_event(
    session: Session, referral: Referral, event: ReferralEvent, now: datetime
) -> list[PointEvent]:
    """Points earned by a referral's change of status, if a campaign is running.

    Logging earns the referrer a token amount. Accepted, first meeting and won score only
    when the receiver confirms the step (the event's actor is the receiver); the receiver
    earns a share for doing the work. Self-referrals, own-team referrals (unless the rules
    allow them), duplicates and pairs over their cap score nothing.
    """
    if event.to_status == "new" and event.from_status is None:
        kind = "logged"
        _link_idea(session, referral)
    else:
        kind = _STEPS.get(event.to_status, "")
    campaign = running_campaign(session, now)
    if not kind or campaign is None or referral.id is None:
        return []
    if kind != "logged" and not _confirmed(session, referral, event):
        return []  # waits for the receiver to confirm the step
    if kind == "logged" and referral.created_at < campaign.starts_at:
        return []
    rules = rules_of(campaign)
    referrer = session.get(PersonRow, referral.referrer_id)
    receiver = session.get(PersonRow, referral.receiver_id)
    if referrer is None or receiver is None:
        return []
    _flag_reciprocal(session, campaign, rules, referrer, receiver, now)
    if _blocked(session, campaign, rules, referral, referrer, receiver):
        return []
    source = f"referral:{referral.id}"
    awards: list[PointEvent | None] = []
    # A step implies the ones before it (a win was accepted); keys stop any double count.
    kinds = [kind] if kind == "logged" else _STEP_ORDER[: _STEP_ORDER.index(kind) + 1]
    for step_kind in kinds:
        bonus = win_bonus(rules, referral.won_value or referral.value) if step_kind == "won" else 0
        shares = [(referrer, int(rules["points"].get(step_kind, 0)) + bonus)]
        if step_kind != "logged":
            shares.append((receiver, int(rules["receiver_points"].get(step_kind, 0))))
        awards += [
            _award(session, campaign, rules, person, step_kind, points, source, now)
            for person, points in shares
        ]
    return [a for a in awards if a is not None]


def _confirmed(session: Session, referral: Referral, event: ReferralEvent) -> bool:
    """A step counts when the receiver (or an admin on their behalf) recorded it."""
    if event.actor_id is None:
        return False
    if event.actor_id == referral.receiver_id:
        return True
    actor = session.get(PersonRow, event.actor_id)
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
    campaign = running_campaign(session, now)
    person = session.get(PersonRow, person_id)
    if campaign is None or person is None:
        return []
    rules = rules_of(campaign)
    award = _award(
        session, campaign, rules, person, kind, int(rules["points"].get(kind, 0)), source, now
    )
    return [award] if award else []


def _key_taken(session: Session, key: str) -> bool:
    """Whether the ledger already holds the award (or reversal) with this unique key."""
    return session.exec(select(PointEvent.id).where(PointEvent.key == key)).first() is not None


def point_key(campaign_id: int, source: str, person_id: int, kind: str) -> str:
    return f"{campaign_id}:{source}:{person_id}:{kind}"


def _award(
    session: Session,
    campaign: Campaign,
    rules: dict[str, Any],
    person: PersonRow,
    kind: str,
    points: int,
    source: str,
    now: datetime,
) -> PointEvent | None:
    """One ledger row, unless it exists already, is worth nothing, or passes a cap."""
    assert campaign.id is not None and person.id is not None
    if points <= 0 or not is_participant(campaign, person):
        return None
    key = point_key(campaign.id, source, person.id, kind)
    if _key_taken(session, key):
        return None  # a replay: this event already scored
    if _over_daily_cap(session, campaign, rules, person.id, kind, now):
        return None
    award = PointEvent(
        key=key,
        campaign_id=campaign.id,
        person_id=person.id,
        team=person.team,
        office=person.office,
        kind=kind,
        points=points,
        source=source,
        at=now,
    )
    try:
        # A savepoint: a concurrent writer that took the key first costs only this row.
        with session.begin_nested():
            session.add(award)
    except IntegrityError:
        return None
    return award


def _over_daily_cap(
    session: Session,
    campaign: Campaign,
    rules: dict[str, Any],
    person_id: int,
    kind: str,
    now: datetime,
) -> bool:
    cap = rules.get("daily_cap", {}).get(kind)
    if cap is None:
        return False
    start, end = day_bounds(now, get_settings_zone())
    count = session.exec(
        select(func.count(col(PointEvent.id))).where(
            PointEvent.campaign_id == campaign.id,
            PointEvent.person_id == person_id,
            PointEvent.kind == kind,
            PointEvent.points > 0,
            PointEvent.at >= start,
            PointEvent.at < end,
        )
    ).one()
    return int(count) >= int(cap)


def get_settings_zone() -> ZoneInfo:
    """The firm's zone for day boundaries inside a transaction that has no context."""
    return get_settings().zone


def _blocked(
    session: Session,
    campaign: Campaign,
    rules: dict[str, Any],
    referral: Referral,
    referrer: PersonRow,
    receiver: PersonRow,
) -> bool:
    """The anti-gaming rules: self, own team, duplicate, pair cap."""
    if referrer.id == receiver.id:
        return True
    referrer_team = referral.referrer_team or referrer.team
    receiver_team = referral.receiver_team or receiver.team
    if not rules.get("own_team_scores") and referrer_team == receiver_team:
        return True
    if referral.status == "duplicate" or _is_duplicate(session, rules, referral, receiver_team):
        return True
    return _pair_capped(session, campaign, rules, referral)


def _is_duplicate(
    session: Session, rules: dict[str, Any], referral: Referral, receiver_team: str
) -> bool:
    """An earlier live referral of the same client to the same service or team."""
    since = referral.created_at - timedelta(days=int(rules.get("duplicate_window_days", 90)))
    same_target = (
        Referral.card_id == referral.card_id
        if referral.card_id
        else Referral.receiver_team == receiver_team
    )
    earlier = session.exec(
        select(Referral.id).where(
            Referral.client_id == referral.client_id,
            Referral.id != referral.id,
            col(Referral.id) < (referral.id or 0),
            Referral.created_at >= since,
            col(Referral.status).not_in(_NOT_DUPLICATE_OF),
            same_target,
        )
    ).first()
    return earlier is not None


def _pair_referral_ids(session: Session, a: int, b: int) -> list[int]:
    rows = session.exec(
        select(Referral.id).where(
            or_(
                (col(Referral.referrer_id) == a) & (col(Referral.receiver_id) == b),
                (col(Referral.referrer_id) == b) & (col(Referral.receiver_id) == a),
            )
        )
    )
    return [r for r in rows if r is not None]


def _pair_capped(
    session: Session, campaign: Campaign, rules: dict[str, Any], referral: Referral
) -> bool:
    cap = rules.get("pair_cap")
    if cap is None:
        return False
    ids = _pair_referral_ids(session, referral.referrer_id, referral.receiver_id)
    sources = [f"referral:{i}" for i in ids if i != referral.id]
    if not sources:
        return False
    mine = f"referral:{referral.id}"
    already = session.exec(
        select(PointEvent.id).where(
            PointEvent.campaign_id == campaign.id, PointEvent.source == mine, PointEvent.points > 0
        )
    ).first()
    if already is not None:
        return False  # this referral is within the cap already; its later steps score
    scored = session.exec(
        select(func.count(func.distinct(PointEvent.source))).where(
            PointEvent.campaign_id == campaign.id,
            col(PointEvent.source).in_(sources),
            PointEvent.points > 0,
        )
    ).one()
    return int(scored) >= int(cap)


def _flag_reciprocal(
    session: Session,
    campaign: Campaign,
    rules: dict[str, Any],
    referrer: PersonRow,
    receiver: PersonRow,
    now: datetime,
) -> None:
    """Back-and-forth between two people: queue a note to every admin (once per pair)."""
    threshold = rules.get("reciprocal_flag_at")
    if not threshold or referrer.id is None or receiver.id is None or referrer.id == receiver.id:
        return
    counts = {}
    for a, b in ((referrer.id, receiver.id), (receiver.id, referrer.id)):
        counts[(a, b)] = session.exec(
            select(func.count(col(Referral.id))).where(
                Referral.referrer_id == a,
                Referral.receiver_id == b,
                Referral.created_at >= campaign.starts_at,
                Referral.created_at < campaign.ends_at,
            )
        ).one()
    if min(counts.values()) < int(threshold):
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
    session: Session, point_id: int, reason: str, by: PersonRow, now: datetime
) -> PointEvent:
    """An admin's reversal: a compensating row, never a deletion."""
    original = session.get(PointEvent, point_id)
    if original is None:
        raise CampaignError("no_such_award", point_id=point_id)
    if original.reverses_id is not None or original.kind == REVERSAL:
        raise CampaignError("cannot_reverse_reversal", point_id=point_id)
    key = f"{original.campaign_id}:{REVERSAL}:{original.id}"
    if _key_taken(session, key):
        raise CampaignError("already_reversed", point_id=point_id)
    reversal = PointEvent(
        key=key,
        campaign_id=original.campaign_id,
        person_id=original.person_id,
        team=original.team,
        office=original.office,
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
        admin = session.get(PersonRow, flag.person_id)
        low, high = (int(x) for x in flag.subject.split(":"))
        a, b = session.get(PersonRow, low), session.get(PersonRow, high)
        if admin is None or a is None or b is None:
            continue
        count = len(_pair_referral_ids(session, low, high))
        text = render("campaign_flag", first=a, second=b, count=count)
        replies.append(Reply(text, to_person=admin.email, kind="campaign_flag"))
        flag.sent_at = now
        session.add(flag)
    return replies


# -- leaderboards ------------------------------------------------------------------------


@dataclass
class Standing:
    """One row of a board. `movement` is places gained since yesterday (None: new today)."""

    key: str
    name: str
    points: int
    rank: int = 0
    movement: int | None = None
    headcount: int = 0
    per_head: float = 0.0
    per_head_rank: int = 0
    per_head_movement: int | None = None
    person_id: int | None = None
    opted_in: bool = True
    team: str = ""
    new: bool = False  # on the board today, not at the end of yesterday


@dataclass
class Boards:
    campaign: Campaign
    people: list[Standing] = field(default_factory=list)  # everyone who scored, ranked
    teams: list[Standing] = field(default_factory=list)  # by points per head
    offices: list[Standing] = field(default_factory=list)

    def person(self, person_id: int | None) -> Standing | None:
        return next((s for s in self.people if s.person_id == person_id), None)

    def team(self, name: str) -> Standing | None:
        return next((s for s in self.teams if s.key == name), None)

    @property
    def public_people(self) -> list[Standing]:
        return [s for s in self.people if s.opted_in]

    @property
    def teams_by_points(self) -> list[Standing]:
        return sorted(self.teams, key=lambda s: (s.rank, s.name))


def _ranks(values: dict[str, float]) -> dict[str, int]:
    """Competition ranking (1, 2, 2, 4) over positive scores; zero scores share last place."""
    ordered = sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))
    ranks: dict[str, int] = {}
    previous: float | None = None
    rank = 0
    for position, (key, value) in enumerate(ordered, 1):
        if value != previous:
            rank, previous = position, value
        ranks[key] = rank
    return ranks


def _movement(key: str, today: dict[str, int], yesterday: dict[str, int]) -> int | None:
    if key not in yesterday:
        return None
    return yesterday[key] - today[key]


def compute_boards(
    session: Session,
    campaign: Campaign,
    now: datetime,
    zone: ZoneInfo,
    since: datetime | None = None,
) -> Boards:
    """People, team and office standings at `now`, with movement since the end of yesterday
    (or since `since`).

    One aggregate query over the ledger (grouped by person, team and office; the covering
    index makes it an index scan); everything after that is over a few thousand rows.
    """
    baseline = since or local_midnight(local_day(now, zone), zone)
    cutoff = max(baseline, campaign.starts_at)
    started_today = cutoff <= campaign.starts_at
    rows = session.execute(
        sa_select(
            col(PointEvent.person_id),
            col(PointEvent.team),
            col(PointEvent.office),
            func.sum(PointEvent.points),
            func.sum(case((col(PointEvent.at) < cutoff, PointEvent.points), else_=0)),
        )
        .where(col(PointEvent.campaign_id) == campaign.id)
        .group_by(col(PointEvent.person_id), col(PointEvent.team), col(PointEvent.office))
    ).all()
    people = {p.id: p for p in participants(session, campaign)}
    per_person: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    per_team: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    per_office: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for person_id, team, office, total, before in rows:
        for bucket, key in ((per_person, person_id), (per_team, team), (per_office, office)):
            bucket[key][0] += int(total or 0)
            bucket[key][1] += int(before or 0)
    heads_team: dict[str, int] = defaultdict(int)
    heads_office: dict[str, int] = defaultdict(int)
    for person in people.values():
        heads_team[person.team] += 1
        if person.office:
            heads_office[person.office] += 1
    boards = Boards(campaign=campaign)
    boards.people = _people_board(session, per_person, people, started_today)
    boards.teams = _group_board(per_team, heads_team, started_today)
    boards.offices = _group_board(per_office, heads_office, started_today)
    return boards


def _people_board(
    session: Session,
    sums: dict[int, list[int]],
    people: dict[int, Member],
    started_today: bool,
) -> list[Standing]:
    missing = {pid for pid in sums if pid not in people}
    if missing:  # scored earlier, since left the campaign's teams: still on the board
        query = sa_select(*_MEMBER_COLUMNS).where(col(PersonRow.id).in_(missing))
        people.update({row[0]: Member(*row) for row in session.execute(query).all()})
    scored = {str(pid): float(v[0]) for pid, v in sums.items() if v[0] > 0}
    before = {str(pid): float(v[1]) for pid, v in sums.items() if v[1] > 0 and not started_today}
    today_ranks, yesterday_ranks = _ranks(scored), _ranks(before)
    board = []
    for key, rank in today_ranks.items():
        person = people[int(key)]
        board.append(
            Standing(
                key=person.email,
                name=person.name,
                points=int(scored[key]),
                rank=rank,
                movement=_movement(key, today_ranks, yesterday_ranks),
                new=not started_today and key not in yesterday_ranks,
                person_id=person.id,
                opted_in=person.leaderboard_opt_in,
                team=person.team,
            )
        )
    return sorted(board, key=lambda s: (s.rank, s.name))


def _group_board(
    sums: dict[str, list[int]], heads: dict[str, int], started_today: bool
) -> list[Standing]:
    names = [n for n in set(sums) | set(heads) if n]
    totals = {n: float(sums.get(n, [0, 0])[0]) for n in names}
    totals_before = {n: float(sums.get(n, [0, 0])[1]) for n in names}
    per_head = {n: totals[n] / max(heads.get(n, 0), 1) for n in names}
    per_head_before = {n: totals_before[n] / max(heads.get(n, 0), 1) for n in names}
    ranks, ranks_before = _ranks(totals), _ranks(totals_before)
    head_ranks, head_ranks_before = _ranks(per_head), _ranks(per_head_before)
    board = [
        Standing(
            key=n,
            name=n,
            points=int(totals[n]),
            rank=ranks[n],
            movement=None if started_today else ranks_before[n] - ranks[n],
            headcount=heads.get(n, 0),
            per_head=round(per_head[n], 2),
            per_head_rank=head_ranks[n],
            per_head_movement=None if started_today else head_ranks_before[n] - head_ranks[n],
        )
        for n in names
    ]
    return sorted(board, key=lambda s: (s.per_head_rank, s.rank, s.name))


def team_race(
    session: Session, campaign: Campaign, now: datetime, zone: ZoneInfo, top: int = 6
) -> tuple[list[date], dict[str, list[float]]]:
    """Cumulative points per head for the leading teams at the end of each campaign day."""
    first = local_day(campaign.starts_at, zone)
    last = min(local_day(now, zone), last_day(campaign, zone))
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)] or [first]
    cutoffs = [local_midnight(d + timedelta(days=1), zone) for d in days]
    columns = [
        func.sum(case((col(PointEvent.at) < c, PointEvent.points), else_=0)) for c in cutoffs
    ]
    rows = session.execute(
        sa_select(col(PointEvent.team), *columns)
        .where(col(PointEvent.campaign_id) == campaign.id, col(PointEvent.at) <= now)
        .group_by(col(PointEvent.team))
    ).all()
    heads: dict[str, int] = defaultdict(int)
    for person in participants(session, campaign):
        heads[person.team] += 1
    series = {
        row[0]: [float(v or 0) / max(heads.get(row[0], 0), 1) for v in row[1:]]
        for row in rows
        if row[0]
    }
    leaders = sorted(series, key=lambda t: (-series[t][-1], t))[:top]
    return days, {t: series[t] for t in leaders}


def movement_word(movement: int | None) -> str:
    """A compact marker for templates: ▲2, ▼1, =, or nothing (no yesterday to compare)."""
    if movement is None:
        return ""
    if movement > 0:
        return f"▲{movement}"
    if movement < 0:
        return f"▼{-movement}"
    return "="


def set_opt_in(session: Session, person: PersonRow, on: bool) -> None:
    row = session.get(PersonRow, person.id)
    if row is not None:
        row.leaderboard_opt_in = on
        session.add(row)


# -- ideas -------------------------------------------------------------------------------


@dataclass
class ParsedIdea:
    client_name: str = ""
    card_id: str | None = None
    why_now: str = ""


_WHY = re.compile(
    r"\b(because|as|since|now that|given that|after|following)\b\s+(.+)$", re.I | re.S
)
_CAPITALISED = re.compile(r"\b([A-Z][\w&'.-]*(?:\s+(?:&\s+)?[A-Z][\w&'.-]*)*)")
_NOT_CLIENTS = frozenset(
    "I We They It R&D VAT The A An Idea Maybe Perhaps What How Why If Our My Their Should "
    "Could Might Think Just So".split()
)


def parse_idea(session: Session, text: str) -> ParsedIdea:
    """Light reading of an idea: the client (known or capitalised), the service, why now."""
    idea = ParsedIdea()
    why = _WHY.search(text)
    if why:
        idea.why_now = why.group(2).strip().rstrip(".")
    head = text[: why.start()] if why else text
    lowered = head.casefold()
    for client in session.exec(select(Client).where(col(Client.retired).is_(False))):
        if any(n and re.search(rf"\b{re.escape(n.casefold())}\b", lowered) for n in _names(client)):
            idea.client_name = client.name
            break
    if not idea.client_name:
        for match in _CAPITALISED.finditer(head):
            words = match.group(1).split()
            while words and words[0] in _NOT_CLIENTS:
                words.pop(0)
            if words:
                idea.client_name = " ".join(words)
                break
    idea.card_id = _best_card(session, head)
    return idea


def _names(client: Client) -> list[str]:
    return [client.name, *client.aliases]


_STOPWORDS = frozenset("and the for with of to a an in on our their".split())


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9&]+", text.casefold()) if w not in _STOPWORDS}


def _best_card(session: Session, text: str) -> str | None:
    """The card whose title words and aliases the idea mentions most (ties: longest alias)."""
    lowered, words = text.casefold(), _words(text)
    best: tuple[int, int, str] | None = None
    cards = session.exec(select(ServiceCard).where(col(ServiceCard.retired).is_(False)))
    for card in cards:
        aliases = [
            a for a in card.aliases if a and re.search(rf"\b{re.escape(a.casefold())}\b", lowered)
        ]
        title_hits = len(words & _words(card.title))
        score = (2 * title_hits + len(aliases), max((len(a) for a in aliases), default=0))
        if score[0] and (best is None or score > best[:2]):
            best = (*score, card.id)
    return best[2] if best else None


def record_idea(
    session: Session, author: PersonRow, text: str, now: datetime
) -> tuple[Idea, list[PointEvent]]:
    """Save an idea (for the running campaign, if any) and award its points."""
    text = " ".join(text.split())
    if len(text) < 10:
        raise CampaignError("idea_too_short")
    assert author.id is not None
    parsed = parse_idea(session, text)
    campaign = running_campaign(session, now)
    idea = Idea(
        campaign_id=campaign.id if campaign else None,
        author_id=author.id,
        text=text[:1000],
        client_name=parsed.client_name,
        card_id=parsed.card_id,
        why_now=parsed.why_now,
        created_at=now,
    )
    session.add(idea)
    session.flush()
    return idea, award_for_idea(session, idea, now)


@dataclass
class IdeaRow:
    idea: Idea
    author: str
    votes: int
    mine: bool
    voted: bool


def list_ideas(
    session: Session, viewer: PersonRow, now: datetime, limit: int = 10
) -> tuple[Campaign | None, list[IdeaRow]]:
    """The ideas of the running (or last) campaign, most upvoted first."""
    campaign = latest_campaign(session, now)
    votes = func.count(col(IdeaVote.id))
    query = (
        select(Idea, PersonRow.name, votes)
        .join(PersonRow, col(PersonRow.id) == Idea.author_id)
        .outerjoin(IdeaVote, col(IdeaVote.idea_id) == Idea.id)
        .group_by(col(Idea.id), col(PersonRow.name))
        .order_by(votes.desc(), col(Idea.created_at).desc())
        .limit(limit)
    )
    if campaign is not None:
        query = query.where(Idea.campaign_id == campaign.id)
    mine_voted = set(session.exec(select(IdeaVote.idea_id).where(IdeaVote.person_id == viewer.id)))
    rows = [
        IdeaRow(idea, name, int(count), idea.author_id == viewer.id, idea.id in mine_voted)
        for idea, name, count in session.exec(query).all()
    ]
    return campaign, rows


def upvote(session: Session, idea_id: int, voter: PersonRow, now: datetime) -> Idea:
    """One vote per person per idea; your own ideas need other people's votes."""
    idea = session.get(Idea, idea_id)
    if idea is None:
        raise CampaignError("no_such_idea", idea_id=idea_id)
    if idea.author_id == voter.id:
        raise CampaignError("own_idea")
    assert voter.id is not None
    existing = session.exec(
        select(IdeaVote.id).where(IdeaVote.idea_id == idea_id, IdeaVote.person_id == voter.id)
    ).first()
    if existing is not None:
        raise CampaignError("already_voted")
    try:
        with session.begin_nested():
            session.add(IdeaVote(idea_id=idea_id, person_id=voter.id, at=now))
    except IntegrityError as exc:
        raise CampaignError("already_voted") from exc
    return idea


def idea_votes(session: Session, idea_id: int) -> int:
    return int(
        session.exec(select(func.count(col(IdeaVote.id))).where(IdeaVote.idea_id == idea_id)).one()
    )


def idea_referral_prefill(session: Session, idea_id: int, person: PersonRow) -> dict[str, Any]:
    """What the referral flow starts from when an idea becomes a referral.

    Only the idea's author, an ambassador or an admin may do it; an idea already turned
    into a referral is not turned again.
    """
    idea = session.get(Idea, idea_id)
    if idea is None:
        raise CampaignError("no_such_idea", idea_id=idea_id)
    if idea.author_id != person.id and person.role not in ("ambassador", "admin"):
        raise CampaignError("not_yours")
    if idea.referral_id is not None:
        raise CampaignError("already_referred", idea_id=idea_id)
    return {"text": idea.text, "card": idea.card_id, "client": idea.client_name, "idea": idea.id}


def _link_idea(session: Session, referral: Referral) -> None:
    """A referral logged from an idea's pre-filled form carries the idea's text as its note."""
    if not referral.note or referral.id is None:
        return
    idea = session.exec(
        select(Idea)
        .where(col(Idea.referral_id).is_(None), Idea.text == " ".join(referral.note.split()))
        .order_by(col(Idea.id).desc())
    ).first()
    if idea is not None and idea.id is not None:
        link_idea_to_referral(session, idea.id, referral.id)


def link_idea_to_referral(session: Session, idea_id: int, referral_id: int) -> None:
    """Called by the referral flow once a referral made from an idea is saved."""
    idea = session.get(Idea, idea_id)
    if idea is not None and idea.referral_id is None:
        idea.referral_id = referral_id
        session.add(idea)


# -- announcements -----------------------------------------------------------------------


def _channel_reply(settings: Settings, text: str, kind: str, **extra: Any) -> list[Reply]:
    if not settings.digest_channel:
        return []
    return [Reply(text, to_channel=settings.digest_channel, kind=kind, **extra)]


def rules_lines(campaign: Campaign) -> dict[str, Any]:
    """The rules as data for the three-line summary templates show."""
    rules = rules_of(campaign)
    return {
        "points": rules["points"],
        "receiver_points": rules["receiver_points"],
        "top_bonus": max((int(p) for _, p in rules.get("win_bonus", [])), default=0),
        "own_team_scores": bool(rules.get("own_team_scores")),
        "daily_cap": rules["daily_cap"],
        "pair_cap": rules.get("pair_cap"),
    }


def start_campaign(
    session: Session, campaign: Campaign, now: datetime, settings: Settings | None = None
) -> list[Reply]:
    """Mark a campaign running and announce it (rules in three lines)."""
    settings = settings or get_settings()
    if campaign.status != "scheduled":
        return []
    campaign.status = "running"
    session.add(campaign)
    text = render(
        "campaign_start",
        campaign=campaign,
        last_day=last_day(campaign, settings.zone),
        rules=rules_lines(campaign),
    )
    return _channel_reply(settings, text, "campaign_start")


def start_due_campaigns(
    session: Session, now: datetime, settings: Settings | None = None
) -> list[Reply]:
    """Scheduler job: start (and announce) every campaign whose first day has come."""
    due = session.exec(
        select(Campaign).where(
            Campaign.status == "scheduled", Campaign.starts_at <= now, Campaign.ends_at > now
        )
    ).all()
    replies: list[Reply] = []
    for campaign in due:
        replies += start_campaign(session, campaign, now, settings)
    return replies


def daily_standings(
    session: Session, now: datetime, settings: Settings | None = None
) -> list[Reply]:
    """Scheduler job: the standings post, encouragement within the nudge budget, admin flags."""
    settings = settings or get_settings()
    replies = pending_flags(session, now)
    campaign = running_campaign(session, now)
    if campaign is None:
        return replies
    zone = settings.zone
    # A morning post reports yesterday, so its movement is over the day before as well.
    today = local_day(now, zone)
    morning = now.astimezone(zone).hour < 12
    since = local_midnight(today - timedelta(days=1) if morning else today, zone)
    boards = compute_boards(session, campaign, now, zone, since)
    if not boards.people:
        return replies  # nobody has scored yet: nothing worth a post or a nudge
    text = render(
        "campaign_standings",
        campaign=campaign,
        people=boards.public_people[:5],
        teams=boards.teams[:5],
        day=(local_day(now, zone) - local_day(campaign.starts_at, zone)).days + 1,
        days_left=(last_day(campaign, zone) - local_day(now, zone)).days,
        move=movement_word,
    )
    chart = standings_chart(session, campaign, now, zone)
    replies += _channel_reply(
        settings, text, "campaign_standings", image=chart, image_alt=f"{campaign.name} team race"
    )
    budget = getattr(settings, "nudge_weekly_budget", None)
    return replies + encouragements(session, campaign, boards, now, zone, budget)


def standings_chart(session: Session, campaign: Campaign, now: datetime, zone: ZoneInfo) -> bytes:
    from bot.charts import team_race_chart

    days, series = team_race(session, campaign, now, zone)
    return team_race_chart(days, series, title=campaign.name)


def encouragements(
    session: Session,
    campaign: Campaign,
    boards: Boards,
    now: datetime,
    zone: ZoneInfo,
    weekly_budget: int | None = None,
) -> list[Reply]:
    """Team encouragement ("you're 20 points behind Tax") to people who have scored.

    At most one a day each, and the nudge budget is shared with every other reminder: a
    person who already had any nudge today, or has used their weekly budget (per the
    Nudge table), is skipped.
    """
    ordered = boards.teams_by_points
    above = {s.key: ordered[i - 1] for i, s in enumerate(ordered) if i and s.rank > 1}
    start, end = day_bounds(now, zone)
    today = local_day(now, zone).isoformat()
    nudged_today = set(
        session.exec(
            select(Nudge.person_id).where(
                col(Nudge.sent_at).is_not(None),
                Nudge.sent_at >= start,  # type: ignore[operator]
                Nudge.sent_at < end,  # type: ignore[operator]
                Nudge.kind != FLAG_KIND,
            )
        )
    )
    if weekly_budget is not None:
        used: dict[int, int] = defaultdict(int)
        for person_id in session.exec(
            select(Nudge.person_id).where(
                col(Nudge.sent_at).is_not(None),
                col(Nudge.sent_at) > now - timedelta(days=7),
                Nudge.kind != FLAG_KIND,
            )
        ):
            used[person_id] += 1
        nudged_today |= {pid for pid, count in used.items() if count >= weekly_budget}
    replies: list[Reply] = []
    for standing in boards.people:
        leader = above.get(standing.team)
        mine = boards.team(standing.team)
        if leader is None or mine is None or standing.person_id in nudged_today:
            continue
        assert standing.person_id is not None
        key = f"{ENCOURAGE_KIND}:{campaign.id}:{standing.person_id}:{today}"
        if session.exec(select(Nudge.id).where(Nudge.key == key)).first() is not None:
            continue
        session.add(
            Nudge(
                key=key,
                person_id=standing.person_id,
                kind=ENCOURAGE_KIND,
                subject=str(campaign.id),
                due_at=now,
                sent_at=now,
            )
        )
        text = render(
            "campaign_encourage",
            team=standing.team,
            rival=leader.name,
            gap=leader.points - mine.points,
            points=rules_of(campaign)["points"],
        )
        replies.append(Reply(text, to_person=standing.key, kind="campaign_encourage"))
    return replies


@dataclass
class Summary:
    people: int
    ideas: int
    referrals: int
    accepted: int
    won: int
    value: float


def campaign_summary(session: Session, campaign: Campaign) -> Summary:
    """The figures a partner wants: who took part, ideas, referrals, accepted, won, value."""
    taking_part = session.exec(
        select(func.count(func.distinct(PointEvent.person_id))).where(
            PointEvent.campaign_id == campaign.id, PointEvent.points > 0
        )
    ).one()
    ideas = session.exec(
        select(func.count(col(Idea.id))).where(Idea.campaign_id == campaign.id)
    ).one()
    window = (
        Referral.created_at >= campaign.starts_at,
        Referral.created_at < campaign.ends_at,
    )
    referrals = session.exec(select(Referral).where(*window)).all()
    ids = [r.id for r in referrals]
    steps: dict[int, set[str]] = defaultdict(set)
    if ids:
        for referral_id, status in session.exec(
            select(ReferralEvent.referral_id, ReferralEvent.to_status).where(
                col(ReferralEvent.referral_id).in_(ids), ReferralEvent.at < campaign.ends_at
            )
        ):
            steps[referral_id].add(status)
    accepted = [r for r in referrals if steps[r.id or 0] & set(_PROGRESSED)]
    won = [r for r in referrals if "won" in steps[r.id or 0]]
    return Summary(
        people=int(taking_part),
        ideas=int(ideas),
        referrals=len(referrals),
        accepted=len(accepted),
        won=len(won),
        value=sum((r.won_value or r.value or 0.0) for r in won),
    )


def end_campaign(
    session: Session, campaign: Campaign, now: datetime, settings: Settings | None = None
) -> list[Reply]:
    """Close a campaign (early, or at its end) and announce the totals and winners."""
    settings = settings or get_settings()
    if campaign.status == "ended":
        return []
    ran = campaign.starts_at <= now
    campaign.ends_at = max(campaign.starts_at, min(campaign.ends_at, now))
    campaign.status = "ended"
    session.add(campaign)
    if not ran:
        return []  # called off before it began: nothing to sum up
    session.flush()
    boards = compute_boards(session, campaign, now, settings.zone)
    summary = campaign_summary(session, campaign)
    winners = [s for s in boards.people if s.rank <= 3]
    text = render(
        "campaign_summary",
        campaign=campaign,
        summary=summary,
        people=[s for s in winners if s.opted_in],
        team=boards.teams[0] if boards.teams and boards.teams[0].points > 0 else None,
        office=boards.offices[0] if boards.offices and boards.offices[0].points > 0 else None,
    )
    replies = _channel_reply(settings, text, "campaign_summary")
    for standing in winners:
        replies.append(
            Reply(
                render("campaign_winner", campaign=campaign, standing=standing),
                to_person=standing.key,
                kind="campaign_winner",
            )
        )
    return replies


def end_due_campaigns(
    session: Session, now: datetime, settings: Settings | None = None
) -> list[Reply]:
    """Scheduler job: close every campaign whose last day is over, with its summary."""
    due = session.exec(
        select(Campaign).where(Campaign.status != "ended", Campaign.ends_at <= now)
    ).all()
    replies: list[Reply] = []
    for campaign in due:
        replies += end_campaign(session, campaign, now, settings)
    return replies
