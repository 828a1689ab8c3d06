"""What the scheduler posts: campaign start, daily standings, encouragement, the summary."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.campaigns._boards import Boards, compute_boards, movement_word, team_race
from bot.campaigns._ledger import pending_flags
from bot.campaigns._lifecycle import last_day, lock_campaign, running_campaign
from bot.campaigns._rules import _PROGRESSED, ENCOURAGE_KIND, rules_of
from bot.chart_cache import ChartSpec, cached_chart_in, chart_key
from bot.charts import team_race_chart
from bot.local_time import local_day, local_midnight
from bot.messages import Reply
from bot.render import render
from bot.settings import Settings, get_settings
from bot.store.models import (
    Campaign,
    Idea,
    Nudge,
    PointEvent,
    Referral,
    ReferralEvent,
)

if TYPE_CHECKING:
    from bot.nudges import Policy


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
    """Mark a campaign running and announce it (rules in three lines); once, on any replica."""
    settings = settings or get_settings()
    campaign = lock_campaign(session, campaign)
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
    alt = f"{campaign.name} team race" if chart else ""
    replies += _channel_reply(settings, text, "campaign_standings", image=chart, image_alt=alt)
    from bot import nudges  # nudges imports referrals, which imports campaigns

    policy = nudges.Policy.from_settings(settings)
    return replies + encouragements(session, campaign, boards, now, zone, policy)


def race_chart(
    session: Session, campaign: Campaign, now: datetime, zone: ZoneInfo
) -> ChartSpec | None:
    """The team race to draw (or fetch from the chart cache); None while no team has a point."""
    days, series = team_race(session, campaign, now, zone)
    if not any(any(values) for values in series.values()):
        return None  # nothing to draw: no blank chart with a 0-1 axis
    shown = {"days": days, "series": series, "title": campaign.name}
    draw = partial(team_race_chart, days, series, title=campaign.name)
    return ChartSpec(chart_key("team_race", campaign.id, shown), draw)


def standings_chart(
    session: Session, campaign: Campaign, now: datetime, zone: ZoneInfo
) -> bytes | None:
    """The team race as PNG, through the chart cache, inside the caller's write transaction."""
    spec = race_chart(session, campaign, now, zone)
    return cached_chart_in(session, spec) if spec else None


def encouragements(
    session: Session,
    campaign: Campaign,
    boards: Boards,
    now: datetime,
    zone: ZoneInfo,
    policy: Policy | None = None,
) -> list[Reply]:
    """Team encouragement ("you're 20 points behind Tax") to people who have scored.

    At most one a day each, within the attention budget every nudge shares (`policy`, see
    `bot.nudges.no_room`: the daily and weekly caps, and people who turned nudges off).
    """
    ordered = boards.teams_by_points
    above = {s.key: ordered[i - 1] for i, s in enumerate(ordered) if i and s.rank > 1}
    today = local_day(now, zone).isoformat()
    no_room: set[int] = set()
    if policy is not None:
        from bot import nudges  # nudges imports referrals, which imports campaigns

        no_room = nudges.no_room(session, now, policy)
    replies: list[Reply] = []
    for standing in boards.people:
        leader = above.get(standing.team)
        mine = boards.team(standing.team)
        if leader is None or mine is None or standing.person_id in no_room:
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
    """Close a campaign (early, or at its end) and announce the totals and winners; once, on
    any replica (a campaign found ended once locked gives no replies)."""
    settings = settings or get_settings()
    campaign = lock_campaign(session, campaign)
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
