"""Campaign lifecycle: finding, creating and extending campaigns, and who takes part."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot.campaigns._rules import CampaignError, rules_for
from bot.local_time import local_day, local_midnight
from bot.store import detached, locked
from bot.store.models import (
    Campaign,
    Person,
)

# Built once: every referral step and every board asks it.
_RUNNING = (
    select(Campaign)
    .where(
        Campaign.status != "ended",
        Campaign.starts_at <= bindparam("now"),
        Campaign.ends_at > bindparam("now"),
    )
    .order_by(col(Campaign.starts_at).desc())
)


_CAMPAIGN_TABLE = Campaign.__table__  # type: ignore[attr-defined]
# The same look-up in Core: the columns alone, no ORM loading or identity map.
_RUNNING_VALUES = (
    _CAMPAIGN_TABLE.select()
    .where(
        _CAMPAIGN_TABLE.c.status != "ended",
        _CAMPAIGN_TABLE.c.starts_at <= bindparam("now"),
        _CAMPAIGN_TABLE.c.ends_at > bindparam("now"),
    )
    .order_by(_CAMPAIGN_TABLE.c.starts_at.desc())
)


def running_campaign(session: Session, now: datetime) -> Campaign | None:
    """The campaign whose window holds `now` (whether or not its start was announced yet)."""
    return session.exec(_RUNNING, params={"now": now}).first()


def running_campaign_to_read(session: Session, now: datetime) -> Campaign | None:
    """`running_campaign` as a detached row (`bot.store.detached`), for code that only reads
    it: every award asks, and the ORM's loading cost several times the query."""
    session.flush()  # what the ORM's query would have flushed first (autoflush)
    row = session.connection().execute(_RUNNING_VALUES, {"now": now}).first()
    return None if row is None else detached(Campaign, dict(row._mapping))


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


def lock_campaign(session: Session, campaign: Campaign) -> Campaign:
    """`campaign` locked and read afresh (`bot.store.locked`): every status move starts here,
    so a second press or a second replica sees the move already made."""
    row = locked(session, Campaign, campaign.id)
    assert row is not None  # campaigns are never deleted
    return row


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
    created_by: Person | None = None,
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
    if created_by is not None:
        # One creation per admin at a time, on any replica: a form submitted twice at once
        # finds the first campaign here.
        locked(session, Person, created_by.id)
        _check_repeat(session, name, starts_at, ends_at, created_by)
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
    people = list(session.exec(select(Person.team, Person.office).where(Person.active)))
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
    people = list(session.exec(select(Person.team, Person.office).where(Person.active)))
    offices = {o.casefold() for _, o in people if o}
    teams = [n for n in names if n.casefold() not in offices]
    return teams, [n for n in names if n.casefold() in offices]


def _check_repeat(
    session: Session,
    name: str,
    starts_at: datetime,
    ends_at: datetime,
    created_by: Person,
) -> None:
    """The very campaign this admin already set up (the same form sent twice) is done."""
    same = session.exec(
        select(Campaign.id).where(
            Campaign.status != "ended",
            Campaign.name == name,
            Campaign.starts_at == starts_at,
            Campaign.ends_at == ends_at,
            Campaign.created_by_id == created_by.id,
        )
    ).first()
    if same is not None:
        raise CampaignError("already_created", name=name)


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
    campaign = lock_campaign(session, campaign)
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


def is_participant(campaign: Campaign, person: Person | Member) -> bool:
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
    col(Person.id),
    col(Person.email),
    col(Person.name),
    col(Person.team),
    col(Person.office),
    col(Person.leaderboard_opt_in),
    col(Person.active),
)


def participants(session: Session, campaign: Campaign) -> list[Member]:
    rows = session.execute(sa_select(*_MEMBER_COLUMNS).where(col(Person.active))).all()
    members = [Member(*row) for row in rows]
    return [m for m in members if is_participant(campaign, m)]
