"""The weekly digest, as data: figures, stories, a spotlight card, givers, standings, chart data.

`build_digest` gathers everything with a handful of aggregate queries (so it stays fast for a
large firm); `digest_replies` words it through `prompts/digest*.md.j2`. The week is the seven
firm-local days before the day the digest is built, so consecutive digests never overlap
and never leave a gap.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, literal_column
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from bot import nudges, stories, story_privacy
from bot.messages import Reply
from bot.money import firm_currency
from bot.referrals import in_team
from bot.render import render
from bot.store.models import (
    Client,
    DigestIssue,
    Person,
    Referral,
    ReferralEvent,
    ServiceCard,
    Story,
)

OPEN_STATUSES = ("new", "accepted", "meeting", "proposal")
CHART_WEEKS = 8
TOP = 5
CHART_TEAMS = 8  # more teams than this share an "Other" bar


@dataclass
class Figures:
    made: int = 0
    accepted: int = 0
    won: int = 0
    value_won: dict[str, float] = field(default_factory=dict)  # by currency


@dataclass
class StoryItem:
    id: int
    title: str
    body: str
    teams: list[str]
    client: str
    has_client: bool
    value: float | None
    currency: str | None
    author: str


@dataclass
class Spotlight:
    card_id: str
    title: str
    team: str
    contact: str
    what_we_do: str
    situation: str
    question: str


@dataclass
class Giver:
    name: str
    count: int


@dataclass
class TeamBalance:
    team: str
    given: int
    received: int

    @property
    def net(self) -> int:
        return self.given - self.received


@dataclass
class Standing:
    campaign: str
    team: str
    points: int
    per_head: float = 0.0


@dataclass
class ChartData:
    """Referrals made per week (rows: week start dates) by the referrer's team."""

    weeks: list[date]
    series: dict[str, list[int]]


@dataclass
class CardChange:
    card_id: str
    title: str
    team: str


@dataclass
class Digest:
    week_start: date
    week_end: date  # exclusive
    this_week: Figures
    last_week: Figures
    stories: list[StoryItem]
    spotlight: Spotlight | None
    top_people: list[Giver]
    top_teams: list[Giver]
    net_givers: list[TeamBalance]
    net_receivers: list[TeamBalance]
    standings: list[Standing]
    new_cards: list[CardChange]
    updated_cards: list[CardChange]
    chart: ChartData

    @property
    def last_day(self) -> date:
        return self.week_end - timedelta(days=1)


# -- the week ---------------------------------------------------------------------------------


def week_bounds(now: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The seven firm-local days before today, as aware datetimes [start, end)."""
    today = now.astimezone(zone).date()
    return _midnight(today - timedelta(days=7), zone), _midnight(today, zone)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


# -- building -----------------------------------------------------------------------------------


def build_digest(session: Session, now: datetime, zone: ZoneInfo) -> Digest:
    """Everything the weekly digest says, for the week before `now` (firm time zone)."""
    start, end = week_bounds(now, zone)
    week_start = start.date()
    chart_start = _midnight(week_start - timedelta(weeks=CHART_WEEKS - 1), zone)
    balances = team_balances(session, chart_start, end)
    return Digest(
        week_start=week_start,
        week_end=end.date(),
        this_week=figures(session, start, end),
        last_week=figures(session, start - timedelta(days=7), start),
        stories=story_items(session, start, end),
        spotlight=spotlight(session, week_start),
        top_people=top_people(session, start, end),
        top_teams=top_teams(session, start, end),
        net_givers=[b for b in balances if b.net > 0][:3],
        net_receivers=sorted((b for b in balances if b.net < 0), key=lambda b: b.net)[:3],
        standings=campaign_standings(session, now, zone),
        new_cards=card_changes(session, start, end, new=True),
        updated_cards=card_changes(session, start, end, new=False),
        chart=weekly_by_team(session, week_start, zone),
    )


def figures(session: Session, start: datetime, end: datetime, team: str | None = None) -> Figures:
    """Referrals made, accepted and won in [start, end), and the value won by currency;
    with `team`, only referrals that team gave or received."""
    scope = in_team(team)
    made = session.exec(
        select(func.count())
        .select_from(Referral)
        .where(col(Referral.created_at) >= start, col(Referral.created_at) < end, *scope)
    ).one()
    reached_query = select(
        ReferralEvent.to_status, func.count(func.distinct(ReferralEvent.referral_id))
    )
    won_ids = select(func.distinct(ReferralEvent.referral_id))
    if team is not None:
        joined = col(Referral.id) == col(ReferralEvent.referral_id)
        reached_query = reached_query.join(Referral, joined).where(*scope)
        won_ids = won_ids.join(Referral, joined).where(*scope)
    reached = dict(
        session.exec(
            reached_query.where(col(ReferralEvent.to_status).in_(["accepted", "won"]))
            .where(col(ReferralEvent.at) >= start, col(ReferralEvent.at) < end)
            .group_by(ReferralEvent.to_status)
        ).all()
    )
    won_ids = won_ids.where(ReferralEvent.to_status == "won").where(
        col(ReferralEvent.at) >= start, col(ReferralEvent.at) < end
    )
    value = func.coalesce(Referral.won_value, Referral.value)
    # Grouped by its label: PostgreSQL sees the currency twice as two bound parameters
    # (a GroupingError), and the label differs from the column name it would resolve to.
    currency = func.coalesce(Referral.currency, firm_currency()).label("value_currency")
    values = session.exec(
        select(currency, func.sum(value))
        .where(col(Referral.id).in_(won_ids), value.is_not(None))
        .group_by(literal_column("value_currency"))
    ).all()
    return Figures(
        made=int(made),
        accepted=int(reached.get("accepted", 0)),
        won=int(reached.get("won", 0)),
        value_won={currency: float(total) for currency, total in values if total},
    )


def story_items(session: Session, start: datetime, end: datetime) -> list[StoryItem]:
    published = stories.published_between(session, start, end)
    clients = _by_id(session, Client, {s.client_id for s in published if s.client_id})
    authors = _by_id(session, Person, {s.author_id for s in published})
    items = []
    for story in published:
        client = clients.get(story.client_id or 0)
        author = authors.get(story.author_id)
        title, body = story_privacy.public_text(session, story)  # never a name the owner kept back
        items.append(
            StoryItem(
                id=story.id or 0,
                title=title,
                body=body,
                teams=list(story.teams),
                client=stories.client_label(client, story),
                has_client=client is not None,
                value=story.value,
                currency=story.currency,
                author=author.name if author else "",
            )
        )
    return items


def spotlight(session: Session, week_start: date) -> Spotlight | None:
    """This week's card: the one already chosen for the week, else the fairest next one.

    Fair rotation: the card spotlighted fewest times goes first. A card updated since it
    was last spotlighted counts one time fewer, and among equals the most recently updated
    wins, so fresh content surfaces soon. Last week's card is never chosen again.
    """
    chosen = session.exec(select(DigestIssue).where(DigestIssue.week_start == week_start)).first()
    cards = {
        c.id: c
        for c in session.exec(select(ServiceCard).where(col(ServiceCard.retired).is_(False)))
        if c.sections.get("situations") or c.sections.get("questions")
    }
    if chosen and chosen.spotlight_card_id in cards:
        return _spotlight(cards[chosen.spotlight_card_id], session, week_start)
    history = list(
        session.exec(
            select(DigestIssue)
            .where(col(DigestIssue.week_start) < week_start)
            .order_by(col(DigestIssue.week_start))
        )
    )
    times = Counter(issue.spotlight_card_id for issue in history)
    last_shown = {issue.spotlight_card_id: issue.week_start for issue in history}
    previous = history[-1].spotlight_card_id if history else None

    def rank(card: ServiceCard) -> tuple[int, int, str]:
        fresh = _updated_on(card)
        count = times[card.id]
        if count and card.id in last_shown and fresh > last_shown[card.id]:
            count -= 1
        return (count, -fresh.toordinal(), card.id)

    candidates = [c for c in cards.values() if c.id != previous] or list(cards.values())
    if not candidates:
        return None
    return _spotlight(min(candidates, key=rank), session, week_start)


def _updated_on(card: ServiceCard) -> date:
    changed = card.changed_at.date()
    return max(card.updated, changed) if card.updated else changed


def _spotlight(card: ServiceCard, session: Session, week_start: date) -> Spotlight:
    turn = week_start.toordinal() // 7  # a different bullet each time the card comes round
    situations = _bullets(card.sections.get("situations", ""))
    questions = _bullets(card.sections.get("questions", ""))
    contact = None
    if card.owners:
        contact = session.exec(select(Person).where(Person.email == card.owners[0])).first()
    what = _first_sentence(card.sections.get("what_we_do", ""))
    return Spotlight(
        card_id=card.id,
        title=card.title,
        team=card.team,
        contact=contact.name if contact else "",
        what_we_do=what,
        situation=situations[turn % len(situations)] if situations else "",
        question=questions[turn % len(questions)] if questions else "",
    )


def _first_sentence(text: str) -> str:
    match = re.match(r"(.+?[.!?])(\s|$)", text.strip(), re.S)
    return (match.group(1) if match else text).strip()


def _bullets(text: str) -> list[str]:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return [line.lstrip("-*+ ").strip() for line in lines]


def top_people(session: Session, start: datetime, end: datetime) -> list[Giver]:
    rows = session.exec(
        select(Referral.referrer_id, func.count())
        .where(col(Referral.created_at) >= start, col(Referral.created_at) < end)
        .group_by(col(Referral.referrer_id))
        .order_by(func.count().desc(), col(Referral.referrer_id))
        .limit(TOP)
    ).all()
    people = _by_id(session, Person, {person_id for person_id, _ in rows})
    return [Giver(people[pid].name, int(n)) for pid, n in rows if pid in people]


def top_teams(session: Session, start: datetime, end: datetime) -> list[Giver]:
    rows = session.exec(
        select(Referral.referrer_team, func.count())
        .where(col(Referral.created_at) >= start, col(Referral.created_at) < end)
        .where(Referral.referrer_team != "")
        .group_by(Referral.referrer_team)
        .order_by(func.count().desc(), Referral.referrer_team)
        .limit(TOP)
    ).all()
    return [Giver(team, int(n)) for team, n in rows]


def team_balances(session: Session, start: datetime, end: datetime) -> list[TeamBalance]:
    """Referrals given and received per team in [start, end), biggest net givers first."""
    given = _count_by(session, Referral.referrer_team, start, end)
    received = _count_by(session, Referral.receiver_team, start, end)
    teams = {t for t in (*given, *received) if t}
    balances = [TeamBalance(t, int(given.get(t, 0)), int(received.get(t, 0))) for t in teams]
    return sorted(balances, key=lambda b: (-b.net, b.team))


def _count_by(session: Session, team: Any, start: datetime, end: datetime) -> dict[str, int]:
    """Referrals made in [start, end), counted by one of the referral's team columns."""
    window = (col(Referral.created_at) >= start, col(Referral.created_at) < end)
    return dict(session.exec(select(team, func.count()).where(*window).group_by(team)).all())


def campaign_standings(session: Session, now: datetime, zone: ZoneInfo) -> list[Standing]:
    """The running campaign's teams as its leaderboard ranks them (points per head); [] when
    none is running. Points only, never client names."""
    from bot import campaigns  # campaigns' boards import referrals, which the digest uses

    running = campaigns.running_campaign(session, now)
    if running is None:
        return []
    boards = campaigns.compute_boards(session, running, now, zone)
    return [
        Standing(running.name, team.name, team.points, team.per_head)
        for team in boards.teams[:TOP]
        if team.points
    ]


# Cards loaded this soon after the very first card belong to the firm's first load.
FIRST_LOAD = timedelta(minutes=10)


def _as_utc(moment: datetime) -> datetime:
    """SQLite hands timestamps back naive; they were written in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def card_changes(session: Session, start: datetime, end: datetime, new: bool) -> list[CardChange]:
    """Cards first loaded in the week (`new`), or changed in it but older than it.

    The firm's first content load is not news: its cards are never listed as new."""
    query = select(ServiceCard).where(col(ServiceCard.retired).is_(False))
    if new:
        first_load = session.exec(select(func.min(ServiceCard.loaded_at))).one()
        if first_load is not None:
            start = max(start, _as_utc(first_load) + FIRST_LOAD)
        query = query.where(col(ServiceCard.loaded_at) >= start, col(ServiceCard.loaded_at) < end)
    else:
        query = query.where(
            col(ServiceCard.loaded_at) < start,
            col(ServiceCard.changed_at) >= start,
            col(ServiceCard.changed_at) < end,
        )
    return [
        CardChange(c.id, c.title, c.team) for c in session.exec(query.order_by(ServiceCard.title))
    ]


def weekly_by_team(session: Session, week_start: date, zone: ZoneInfo) -> ChartData:
    """Referrals made per firm-local week by referring team, for the last `CHART_WEEKS` weeks."""
    weeks = [week_start - timedelta(weeks=n) for n in range(CHART_WEEKS - 1, -1, -1)]
    start, end = _midnight(weeks[0], zone), _midnight(week_start + timedelta(days=7), zone)
    rows = session.exec(
        select(Referral.referrer_team, Referral.created_at).where(
            col(Referral.created_at) >= start, col(Referral.created_at) < end
        )
    ).all()
    counts: dict[str, list[int]] = defaultdict(lambda: [0] * CHART_WEEKS)
    for team, created in rows:
        index = (created.astimezone(zone).date() - weeks[0]).days // 7
        if 0 <= index < CHART_WEEKS:
            counts[team or "?"][index] += 1
    ranked = sorted(counts, key=lambda t: (-sum(counts[t]), t))
    series = {team: counts[team] for team in ranked[:CHART_TEAMS]}
    if len(ranked) > CHART_TEAMS:
        other = [sum(counts[t][i] for t in ranked[CHART_TEAMS:]) for i in range(CHART_WEEKS)]
        series[render("digest_chart_other").strip()] = other
    return ChartData(weeks, series)


def issue_for(session: Session, week_start: date) -> DigestIssue | None:
    return session.exec(select(DigestIssue).where(DigestIssue.week_start == week_start)).first()


def record_issue(session: Session, digest: Digest, now: datetime) -> DigestIssue:
    """Remember that this week's digest went out, and its spotlight (once per week)."""
    issue = issue_for(session, digest.week_start)
    if issue is None:
        issue = DigestIssue(
            week_start=digest.week_start,
            spotlight_card_id=digest.spotlight.card_id if digest.spotlight else None,
            posted_at=now,
        )
        session.add(issue)
    return issue


# -- wording -----------------------------------------------------------------------------------


def digest_text(digest: Digest) -> str:
    return render("digest", d=digest, change=_change)


def digest_replies(
    digest: Digest, chart_png: bytes | None, channel: str | None = None
) -> list[Reply]:
    """The digest as replies: the text, then the chart (posted to `channel` when given)."""
    replies = [Reply(digest_text(digest), to_channel=channel, kind="digest")]
    if chart_png:
        replies.append(
            Reply(
                render("digest_chart_caption", weeks=CHART_WEEKS),
                image=chart_png,
                image_alt=render("digest_chart_alt", weeks=CHART_WEEKS),
                to_channel=channel,
                kind="digest_chart",
            )
        )
    return replies


def _change(now: float, before: float) -> dict[str, Any]:
    """How a figure moved: direction and the difference, for the template to word."""
    diff = now - before
    return {"up": diff > 0, "down": diff < 0, "diff": abs(diff)}


# -- the personal digest -----------------------------------------------------------------------


@dataclass
class OpenReferral:
    id: int
    client: str
    other: str  # the receiver (for my referrals) or the referrer (for ones waiting on me)
    status: str
    days: int


@dataclass
class PersonalDigest:
    name: str
    sent: list[OpenReferral]
    waiting: list[OpenReferral]  # received referrals waiting on me to accept or update
    consents: list[OpenReferral]  # referrals of my clients waiting for my consent
    stories_to_review: int
    stories_to_name: int
    # Lower-priority nudges batched here instead of sent on their own (bot.nudges).
    nudges: list[dict[str, Any]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (
            self.nudges
            or self.sent
            or self.waiting
            or self.consents
            or self.stories_to_review
            or self.stories_to_name
        )


def personal_digest(session: Session, person: Person, now: datetime) -> PersonalDigest:
    """A person's own open referrals and what waits on them (they may see all of it)."""
    return _personal_batch(session, [person], now)[person.id or 0]


def personal_digests(session: Session, now: datetime) -> list[tuple[str, PersonalDigest]]:
    """(email, digest) for everyone who opted in and has something waiting."""
    people = list(session.exec(select(Person).where(col(Person.active), col(Person.digest_opt_in))))
    found = _personal_batch(session, people, now)
    return [(p.email, found[p.id]) for p in people if p.id in found and not found[p.id].empty]


def _personal_batch(
    session: Session, people: list[Person], now: datetime
) -> dict[int, PersonalDigest]:
    """Personal digests for many people with a fixed number of queries."""
    ids = {p.id for p in people if p.id}
    query = (
        sa_select(
            col(Referral.id),
            col(Referral.client_id),
            col(Referral.referrer_id),
            col(Referral.receiver_id),
            col(Referral.status),
            col(Referral.updated_at),
            col(Referral.consent),
            col(Client.owner_id),
        )
        .join(Client, col(Client.id) == col(Referral.client_id))
        .where(col(Referral.status).in_(OPEN_STATUSES))
        .order_by(col(Referral.updated_at))
    )
    if len(ids) <= 50:  # a few people: let the database filter; many: one pass over open ones
        query = query.where(
            col(Referral.referrer_id).in_(ids)
            | col(Referral.receiver_id).in_(ids)
            | (col(Client.owner_id).in_(ids) & (Referral.consent == "pending"))
        )
    rows = [tuple(row) for row in session.execute(query).all() if {row[2], row[3], row[7]} & ids]
    client_names = _names(session, Client, {row[1] for row in rows})
    person_names = _names(session, Person, {row[2] for row in rows} | {row[3] for row in rows})
    to_review = len(stories.awaiting_review(session, limit=100))
    to_name = Counter(
        session.exec(
            select(Client.owner_id)
            .join(Story, col(Story.client_id) == col(Client.id))
            .where(Story.client_approval == "pending", Story.status == "pending")
        ).all()
    )
    digests = {
        p.id: PersonalDigest(
            name=p.first_name,
            sent=[],
            waiting=[],
            consents=[],
            stories_to_review=to_review if stories.is_reviewer(p) else 0,
            stories_to_name=to_name.get(p.id, 0),
        )
        for p in people
        if p.id
    }
    for row in rows:
        _, _, referrer, receiver, _, _, consent, owner = row
        if referrer in digests:
            digests[referrer].sent.append(
                _open_item(row, receiver, client_names, person_names, now)
            )
        if receiver in digests:
            digests[receiver].waiting.append(
                _open_item(row, referrer, client_names, person_names, now)
            )
        if owner in digests and consent == "pending":
            digests[owner].consents.append(
                _open_item(row, referrer, client_names, person_names, now)
            )
    _add_batched_nudges(session, digests, now)
    return digests


def _add_batched_nudges(
    session: Session, digests: dict[int, PersonalDigest], now: datetime
) -> None:
    """Nudges held back by the attention budget go in the digest instead (bot.nudges)."""
    for person_id, rows in nudges.batched(session, set(digests), now).items():
        digests[person_id].nudges = [{"kind": row.kind, **row.data} for row in rows]


def _open_item(
    row: tuple[Any, ...],
    other: int,
    client_names: dict[int, str],
    person_names: dict[int, str],
    now: datetime,
) -> OpenReferral:
    referral_id, client_id, _, _, status, updated, _, _ = row
    return OpenReferral(
        id=referral_id or 0,
        client=client_names.get(client_id, ""),
        other=person_names.get(other, ""),
        status=status,
        days=max(0, (now - updated).days),
    )


def _names(session: Session, model: Any, ids: set[int]) -> dict[int, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(session.exec(select(model.id, model.name).where(col(model.id).in_(ids))).all())


def personal_reply(email: str, digest: PersonalDigest) -> Reply:
    return Reply(
        render("digest_personal", d=digest), to_person=email, private=True, kind="digest_personal"
    )


def _by_id(session: Session, model: Any, ids: set[int]) -> dict[int, Any]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {row.id: row for row in session.exec(select(model).where(col(model.id).in_(ids)))}
