"""What each page shows, as data, for one viewer. Templates word and draw it.

Visibility follows the chat: admins and ambassadors see firm-wide figures, members their
team's; a referral's client and notes appear only where `referrals.can_see` allows it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, union
from sqlmodel import Session, col, or_, select

from bot import campaigns, digest, referrals
from bot.local_time import local_midnight
from bot.people import by_email, by_ids
from bot.store.models import (
    AskedQuestion,
    Client,
    Person,
    Referral,
    ReferralEvent,
    ServiceCard,
    Team,
)

PAGE_SIZE = 50
WAITING_SHOWN = 10
ROAD = ("new", "accepted", "meeting", "proposal", "won")
OPEN_WAITING = ("new", "accepted", "meeting", "proposal")  # parked waits on nobody


@dataclass
class Viewer:
    """Who is looking, and the scope of the figures they get."""

    person: Person

    @property
    def firm_wide(self) -> bool:
        return self.person.role in ("admin", "ambassador")

    @property
    def team(self) -> str | None:
        """The team the figures are limited to (None: the whole firm)."""
        return None if self.firm_wide else self.person.team


# -- overview ------------------------------------------------------------------------------


@dataclass
class Waiting:
    id: int
    client: str | None  # None: the viewer may not see it
    status: str
    on: str  # who it waits on
    owner_consent: bool  # waiting for the relationship owner's go-ahead
    days: int


@dataclass
class Overview:
    team: str | None
    week_start: date
    this_week: digest.Figures
    last_week: digest.Figures
    funnel: list[tuple[str, int]]
    off_road: list[tuple[str, int]]
    value_won: dict[str, float]
    open_count: int
    waiting: list[Waiting]
    waiting_on: list[tuple[str, int]]
    campaign: campaigns.Boards | None
    stories: list[digest.StoryItem]  # published this week and last, as the digest tells them


def overview(session: Session, viewer: Viewer, now: datetime, zone: ZoneInfo) -> Overview:
    today = now.astimezone(zone).date()
    start, end = local_midnight(today - timedelta(days=6), zone), local_midnight(today, zone)
    end += timedelta(days=1)
    team = viewer.team
    reached = dict(referrals.funnel(session, team))
    won: dict[str, float] = {}
    for _, currency, total, _ in referrals.value_won(session, team):
        won[currency] = won.get(currency, 0.0) + total
    open_count, waiting, waiting_on = _waiting(session, viewer, now)
    running = campaigns.running_campaign(session, now)
    return Overview(
        team=team,
        week_start=start.date(),
        this_week=digest.figures(session, start, end, team),
        last_week=digest.figures(session, start - timedelta(days=7), start, team),
        funnel=[(s, reached.get(s, 0)) for s in ROAD],
        off_road=[(s, n) for s, n in reached.items() if s not in ROAD and n],
        value_won=dict(won),
        open_count=open_count,
        waiting=waiting,
        waiting_on=waiting_on,
        campaign=campaigns.compute_boards(session, running, now, zone) if running else None,
        stories=digest.story_items(session, start - timedelta(days=7), end),
    )


def _waiting(
    session: Session, viewer: Viewer, now: datetime
) -> tuple[int, list[Waiting], list[tuple[str, int]]]:
    """Open referrals waiting on someone: how many, the longest-waiting, and on whom most."""
    me = viewer.person
    query = (
        select(Referral, Client)
        .join(Client, col(Client.id) == col(Referral.client_id))
        .where(col(Referral.status).in_(OPEN_WAITING), *_visible(viewer))
    )
    per_person = _waiting_counts(session, viewer)
    oldest = session.exec(query.order_by(col(Referral.updated_at)).limit(WAITING_SHOWN)).all()
    most = per_person.most_common(5)
    ids = {pid for pid, _ in most} | {r.receiver_id for r, _ in oldest}
    ids |= {c.owner_id for _, c in oldest if c.owner_id}
    people = by_ids(session, {i for i in ids if i})
    top = [(people[pid].name, n) for pid, n in most if pid in people]
    waiting = []
    for referral, client in oldest:
        needs_owner = referral.consent == "pending" and client.owner_id is not None
        on = client.owner_id if needs_owner else referral.receiver_id
        waiting.append(
            Waiting(
                id=referral.id or 0,
                client=client.name if referrals.can_see(me, referral, session) else None,
                status=referral.status,
                on=people[on].name if on in people else "",
                owner_consent=needs_owner,
                days=max(0, (now - referral.updated_at).days),
            )
        )
    return sum(per_person.values()), waiting, top


def _waiting_counts(session: Session, viewer: Viewer) -> Counter[int]:
    """How many open referrals wait on each person: the client's owner while their consent
    is pending, the receiver otherwise (two grouped queries)."""
    is_open = col(Referral.status).in_(OPEN_WAITING)
    pending = col(Referral.consent) == "pending"
    on_receiver = select(Referral.receiver_id, func.count()).where(is_open, ~pending)
    on_owner = (
        select(Client.owner_id, func.count())
        .select_from(Referral)
        .join(Client, col(Client.id) == col(Referral.client_id))
        .where(is_open, pending)
    )
    found: Counter[int] = Counter()
    for query, who in ((on_receiver, Referral.receiver_id), (on_owner, Client.owner_id)):
        rows = session.exec(query.where(*_visible(viewer)).group_by(col(who))).all()
        found.update({person_id: int(n) for person_id, n in rows if person_id is not None})
    return found


def _visible(viewer: Viewer) -> list[Any]:
    """SQL conditions for the referrals a member may see (the same rule as `can_see`);
    admins and ambassadors get every row (ambassadors without the client's name).

    Three indexed lookups (sent, received, of a client they own) rather than one OR, which
    would read every referral.
    """
    if viewer.firm_wide:
        return []
    me = viewer.person.id
    owned = select(Client.id).where(col(Client.owner_id) == me)
    ids: Any = union(
        select(Referral.id).where(col(Referral.referrer_id) == me),
        select(Referral.id).where(col(Referral.receiver_id) == me),
        select(Referral.id).where(col(Referral.client_id).in_(owned)),
    )
    return [col(Referral.id).in_(ids)]


# -- referrals ------------------------------------------------------------------------------


@dataclass
class Filters:
    """The referrals table's filters as typed (kept as given, so nothing is lost)."""

    team: str = ""
    status: str = ""
    date_from: str = ""
    date_to: str = ""
    person: str = ""
    page: int = 1
    problems: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, query: dict[str, str]) -> Filters:
        filters = cls(
            team=query.get("team", "").strip(),
            status=query.get("status", "").strip(),
            date_from=query.get("from", "").strip(),
            date_to=query.get("to", "").strip(),
            person=query.get("person", "").strip(),
        )
        page = query.get("page", "1").strip() or "1"
        filters.page = int(page) if page.isdigit() and int(page) > 0 else 1
        if filters.status and filters.status not in referrals.STATUSES:
            filters.problems.append("status")
        filters.problems += _date_problems(filters.date_from, filters.date_to)
        return filters

    def query(self, page: int | None = None) -> dict[str, str]:
        """The filters as URL parameters (for the CSV link and the pages)."""
        values = {
            "team": self.team,
            "status": self.status,
            "from": self.date_from,
            "to": self.date_to,
            "person": self.person,
        }
        if page and page > 1:
            values["page"] = str(page)
        return {k: v for k, v in values.items() if v}


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _date_problems(date_from: str, date_to: str) -> list[str]:
    """Which of a period's two typed dates ("date_from", "date_to") are not dates."""
    typed = (("date_from", date_from), ("date_to", date_to))
    return [name for name, text in typed if text and _day(text) is None]


def _bounds(
    date_from: str, date_to: str, zone: ZoneInfo
) -> tuple[datetime | None, datetime | None]:
    """A period of firm-local days as instants: from the first day's midnight to the
    midnight after the last; None for an end not given or not a date."""
    start, end = _day(date_from), _day(date_to)
    return (
        local_midnight(start, zone) if start else None,
        local_midnight(end + timedelta(days=1), zone) if end else None,
    )


@dataclass
class Row:
    id: int
    created: date
    client: str | None
    referrer: str
    referrer_team: str
    receiver: str
    receiver_team: str
    service: str
    status: str
    value: float | None
    currency: str | None
    won_value: float | None


@dataclass
class ReferralTable:
    filters: Filters
    rows: list[Row]
    total: int
    pages: int
    teams: list[str]
    statuses: tuple[str, ...] = referrals.STATUSES


def referral_table(
    session: Session, viewer: Viewer, filters: Filters, zone: ZoneInfo, everything: bool = False
) -> ReferralTable:
    """One page of the filtered table (or, with `everything`, every row: the CSV)."""
    teams = list(session.exec(select(Team.name).order_by(Team.name)))
    conditions = [*_visible(viewer), *_conditions(session, filters, zone)]
    total = 0
    rows: list[Row] = []
    if not filters.problems:
        base = select(func.count()).select_from(Referral)
        base = base.join(Client, col(Client.id) == col(Referral.client_id))
        total = int(session.exec(base.where(*conditions)).one())
        query = (
            select(Referral, Client.name, Client.owner_id)
            .join(Client, col(Client.id) == col(Referral.client_id))
            .where(*conditions)
            .order_by(col(Referral.created_at).desc(), col(Referral.id).desc())
        )
        if not everything:
            query = query.offset((filters.page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
        rows = _rows(session, viewer, list(session.exec(query).all()), zone)
    pages = max(1, -(-total // PAGE_SIZE))
    return ReferralTable(filters, rows, total, pages, teams)


def _conditions(session: Session, filters: Filters, zone: ZoneInfo) -> list[Any]:
    conditions: list[Any] = []
    if filters.team:
        conditions += referrals.in_team(filters.team)
    if filters.status in referrals.STATUSES:
        conditions.append(col(Referral.status) == filters.status)
    start, end = _bounds(filters.date_from, filters.date_to, zone)
    if start is not None:
        conditions.append(col(Referral.created_at) >= start)
    if end is not None:
        conditions.append(col(Referral.created_at) < end)
    if filters.person:
        wanted = filters.person.casefold()
        found = by_email(session, wanted)
        people = (
            select(Person.id).where(col(Person.id) == found.id)
            if found is not None
            else select(Person.id).where(func.lower(Person.name).contains(wanted, autoescape=True))
        )
        conditions.append(
            or_(col(Referral.referrer_id).in_(people), col(Referral.receiver_id).in_(people))
        )
    return conditions


def _rows(session: Session, viewer: Viewer, found: list[Any], zone: ZoneInfo) -> list[Row]:
    """Table rows from (referral, client name, client owner id) tuples."""
    ids = {r.referrer_id for r, *_ in found} | {r.receiver_id for r, *_ in found}
    people = _names(session, ids)
    cards = dict(session.exec(select(ServiceCard.id, ServiceCard.title)).all())
    me = viewer.person
    return [
        Row(
            id=r.id or 0,
            created=r.created_at.astimezone(zone).date(),
            client=name if _may_see(me, r, owner) else None,
            referrer=people.get(r.referrer_id, ""),
            referrer_team=r.referrer_team,
            receiver=people.get(r.receiver_id, ""),
            receiver_team=r.receiver_team,
            service=cards.get(r.card_id, "") if r.card_id else "",
            status=r.status,
            value=r.value,
            currency=r.currency,
            won_value=r.won_value,
        )
        for r, name, owner in found
    ]


def _may_see(me: Person, referral: Referral, owner: int | None) -> bool:
    """`referrals.can_see`, with the client's owner already read by the table's query (so
    50,000 rows need no query each)."""
    return referrals.can_see(me, referral) or (me.id is not None and owner == me.id)


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    rows = session.exec(select(Person.id, Person.name).where(col(Person.id).in_(ids))).all()
    return {pid: name for pid, name in rows if pid is not None}


CSV_HEADER = [
    "id",
    "created",
    "client",
    "referrer",
    "referrer_team",
    "receiver",
    "receiver_team",
    "service",
    "status",
    "value",
    "currency",
    "won_value",
]


def csv_rows(table: ReferralTable) -> list[list[object]]:
    """The table's rows for `write_csv` (a hidden client is an empty cell)."""
    return [
        [
            r.id,
            r.created.isoformat(),
            r.client or "",
            r.referrer,
            r.referrer_team,
            r.receiver,
            r.receiver_team,
            r.service,
            r.status,
            r.value if r.value is not None else "",
            r.currency or "",
            r.won_value if r.won_value is not None else "",
        ]
        for r in table.rows
    ]


@dataclass
class Step:
    at: datetime
    from_status: str | None
    to_status: str
    actor: str
    note: str | None  # None: hidden from this viewer


@dataclass
class Trail:
    row: Row
    visible: bool
    note: str | None
    reason: str | None
    steps: list[Step]


def audit_trail(session: Session, viewer: Viewer, referral_id: int, zone: ZoneInfo) -> Trail | None:
    """A referral and every event of its audit trail; None if the viewer may not see it."""
    found = session.exec(
        select(Referral, Client.name, Client.owner_id)
        .join(Client, col(Client.id) == col(Referral.client_id))
        .where(col(Referral.id) == referral_id, *_visible(viewer))
    ).first()
    if found is None:
        return None
    referral = found[0]
    visible = referrals.can_see(viewer.person, referral, session)
    events = list(
        session.exec(
            select(ReferralEvent)
            .where(ReferralEvent.referral_id == referral_id)
            .order_by(col(ReferralEvent.at), col(ReferralEvent.id))
        )
    )
    names = _names(session, {e.actor_id for e in events if e.actor_id})
    steps = [
        Step(
            at=e.at.astimezone(zone),
            from_status=e.from_status,
            to_status=e.to_status,
            actor=names.get(e.actor_id, "") if e.actor_id else "",
            note=e.note if visible else None,
        )
        for e in events
    ]
    [row] = _rows(session, viewer, [found], zone)
    return Trail(
        row,
        visible,
        referral.note if visible else None,
        referral.reason if visible else None,
        steps,
    )


# -- teams ----------------------------------------------------------------------------------


@dataclass
class TeamsPage:
    team: str | None
    date_from: str
    date_to: str
    problems: list[str]
    teams: list[str]
    matrix: dict[tuple[str, str], int]
    balance: list[tuple[str, int, int, int]]
    busiest: int


def teams_page(
    session: Session, viewer: Viewer, query: dict[str, str], zone: ZoneInfo
) -> TeamsPage:
    """The give/receive matrix and net givers over [from, to] (firm-local dates)."""
    date_from, date_to = query.get("from", "").strip(), query.get("to", "").strip()
    matrix = referrals.team_matrix(session, *_bounds(date_from, date_to, zone))
    balance = referrals.net_givers(matrix)
    team = viewer.team
    if team is not None:  # a member: their own team's exchanges only
        matrix = {pair: n for pair, n in matrix.items() if team in pair}
        balance = [row for row in balance if row[0] == team]
    teams = sorted({t for pair in matrix for t in pair})
    return TeamsPage(
        team=team,
        date_from=date_from,
        date_to=date_to,
        problems=_date_problems(date_from, date_to),
        teams=teams,
        matrix=matrix,
        balance=balance,
        busiest=max(matrix.values(), default=0),
    )


# -- cards ----------------------------------------------------------------------------------


@dataclass
class CardRow:
    id: str
    title: str
    team: str
    owners: list[str]
    updated: date | None
    months: int | None
    stale: bool
    referrals: int
    questions_answered: int


@dataclass
class UnansweredQuestion:
    asked_at: datetime
    question: str
    note: str  # what the asker said they needed, if they said
    feedback: str  # "missed" when the asker pressed "Not what I needed"
    reason: str  # why no card fitted ("" when cards were offered)


@dataclass
class CardsPage:
    cards: list[CardRow]
    review_months: int
    unanswered: list[UnansweredQuestion] | None  # None: the viewer may not see them


def questions_answered(session: Session) -> dict[str, int]:
    """How many who-does questions each card answered (offered first, not marked as missed)."""
    rows = session.exec(
        select(AskedQuestion.cards).where(col(AskedQuestion.feedback) != "missed")
    ).all()
    return dict(Counter(cards[0] for cards in rows if cards))


def unanswered_questions(
    session: Session, viewer: Viewer, limit: int = 50
) -> list[UnansweredQuestion] | None:
    """The questions Crossbot couldn't answer or got wrong, newest first; admins only (the
    words are the asker's: in chat only admins and the nearest cards' owners see them)."""
    if viewer.person.role != "admin":
        return None
    missed = (col(AskedQuestion.feedback) == "missed") | (col(AskedQuestion.reason) != "")
    rows = session.exec(
        select(AskedQuestion)
        .where(missed)
        .order_by(col(AskedQuestion.asked_at).desc())
        .limit(limit)
    ).all()
    return [
        UnansweredQuestion(
            r.asked_at, r.question, r.note if r.feedback == "missed" else "", r.feedback, r.reason
        )
        for r in rows
    ]


def cards_page(session: Session, viewer: Viewer, today: date, review_months: int) -> CardsPage:
    cards = list(
        session.exec(
            select(ServiceCard)
            .where(col(ServiceCard.retired).is_(False))
            .order_by(ServiceCard.title)
        )
    )
    emails = {e for c in cards for e in c.owners}
    names = (
        dict(
            session.exec(
                select(Person.email, Person.name).where(col(Person.email).in_(emails))
            ).all()
        )
        if emails
        else {}
    )
    counts = dict(
        session.exec(
            select(Referral.card_id, func.count())
            .where(col(Referral.card_id).is_not(None))
            .group_by(Referral.card_id)
        ).all()
    )
    answered = questions_answered(session)
    rows = []
    for card in cards:
        updated = card.updated or card.changed_at.date()
        months = (today.year - updated.year) * 12 + today.month - updated.month
        rows.append(
            CardRow(
                id=card.id,
                title=card.title,
                team=card.team,
                owners=[names.get(e, e) for e in card.owners],
                updated=updated,
                months=months,
                stale=months >= review_months,
                referrals=int(counts.get(card.id, 0)),
                questions_answered=answered.get(card.id, 0),
            )
        )
    rows.sort(key=lambda r: (not r.stale, -(r.months or 0), r.title))
    return CardsPage(rows, review_months, unanswered_questions(session, viewer))


# -- campaigns ------------------------------------------------------------------------------


@dataclass
class CampaignsPage:
    campaign: Any  # Campaign | None
    running: bool
    boards: campaigns.Boards | None
    people: list[campaigns.Standing]
    ideas: list[campaigns.IdeaRow]
    history_days: list[date]
    history: dict[str, list[float]]
    history_max: float
    earlier: list[tuple[Any, campaigns.Summary]]


def campaigns_page(
    session: Session, viewer: Viewer, now: datetime, zone: ZoneInfo
) -> CampaignsPage:
    campaign = campaigns.latest_campaign(session, now)
    earlier = [
        (c, campaigns.campaign_summary(session, c))
        for c in campaigns.campaign_history(session)
        if campaign is None or c.id != campaign.id
    ]
    if campaign is None:
        return CampaignsPage(None, False, None, [], [], [], {}, 0.0, earlier)
    boards = campaigns.compute_boards(session, campaign, now, zone)
    _, ideas = campaigns.list_ideas(session, viewer.person, now, limit=20)
    days, series = campaigns.team_race(session, campaign, now, zone)
    peak = max((v for values in series.values() for v in values), default=0.0)
    return CampaignsPage(
        campaign=campaign,
        running=campaigns.running_campaign(session, now) is not None,
        boards=boards,
        people=boards.public_people[:20],
        ideas=ideas,
        history_days=days,
        history=series,
        history_max=peak,
        earlier=earlier,
    )
