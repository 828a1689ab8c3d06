"""A little activity for `crossbot demo`, so every command has something to show.

`seed_activity` (referrals and a story) is shared with tests; `seed_demo` wraps it in a
running cross-selling campaign with ideas, votes and points, for the demo only.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot import campaigns, nudges, referrals
from bot.catalog import Catalog
from bot.money import Money, firm_currency
from bot.render import render
from bot.settings import Settings
from bot.store import models

# (days ago, status, value) for the seeded referrals: a small, believable funnel.
_REFERRALS = [
    (20, "won", 18_000.0),
    (12, "meeting", 25_000.0),
    (6, "accepted", 12_000.0),
    (2, "new", 40_000.0),
    (1, "new", None),
]


def seed_activity(session: Session, catalog: Catalog, now: datetime) -> int:
    """Add a few referrals across teams and one published story; return how many referrals.

    The referrals go through `bot.referrals` like real ones (events, points and all). The
    first ambassador, whom the demo speaks as, both sends and receives one.
    """
    people = {p.email: p for p in session.exec(select(models.Person))}
    by_id = {p.id: p for p in people.values()}
    ambassador = min(
        (p for p in people.values() if p.role == "ambassador"),
        key=lambda p: p.id or 0,
        default=None,
    )
    first = ambassador.id if ambassador else None
    clients = sorted(
        (c for c in session.exec(select(models.Client)) if c.owner_id in by_id),
        key=lambda c: (c.owner_id != first, c.id or 0),
    )
    mine = ambassador.email if ambassador else ""
    cards = sorted((c for c in catalog.cards if c.owners), key=lambda c: mine not in c.owners)
    made: list[models.Referral] = []
    for n, ((days, status, value), client) in enumerate(zip(_REFERRALS, clients, strict=False)):
        referrer = by_id[client.owner_id]
        card = next((c for c in cards[n:] + cards[:n] if c.team != referrer.team), None)
        if card is None:
            break
        receiver = people[card.owners[n % len(card.owners)]]
        at = now - timedelta(days=days)
        estimate = Money(value, firm_currency()) if value is not None else None
        new = referrals.NewReferral(client.name, receiver.email, card.id, estimate)
        referral = referrals.create(session, referrer, new, at, owner_consent=False).referral
        assert referral.id is not None
        moves = referrals.USUAL_PATH[status][1:]  # create() made it "new"
        for step, to_status in enumerate(moves, 1):
            to = referrals.MoveTo(to_status)
            referrals.move(session, referral.id, receiver, to, at + timedelta(days=step))
        made.append(referral)
    _seed_story(session, people, made, now)
    return len(made)


# The demo campaign began this many days ago and ends this many days from now.
_CAMPAIGN_DAYS = (10, 4)
_IDEAS = 3


def seed_demo(session: Session, catalog: Catalog, now: datetime, settings: Settings) -> int:
    """`seed_activity` inside a running campaign, plus ideas, votes and opted-in scorers.

    The campaign exists before the referrals are seeded, so their steps score through the
    same seams real ones do. Returns how many referrals were seeded.
    """
    zone = settings.zone
    began = now - timedelta(days=_CAMPAIGN_DAYS[0])
    campaign = campaigns.create_campaign(
        session,
        name=render("seed_campaign_name"),
        start=campaigns.local_day(began, zone),
        end=campaigns.local_day(now, zone) + timedelta(days=_CAMPAIGN_DAYS[1]),
        now=began,
        zone=zone,
    )
    campaigns.start_campaign(session, campaign, began, settings)
    made = seed_activity(session, catalog, now)
    story = session.exec(select(models.Story).where(models.Story.status == "published")).first()
    if story is not None and story.published_at is not None:
        campaigns.award_for_story(session, story, story.published_at)
    _seed_ideas(session, now)
    made += _seed_nudge_situations(session, catalog, now)
    scorers = {p.person_id for p in session.exec(select(models.PointEvent))}
    for person in session.exec(select(models.Person)):
        if person.id in scorers:
            campaigns.set_opt_in(session, person, True)
    return made


# (days ago, status) of referrals that give the demo's nudges a cause: one waiting to be
# accepted, one with no news for weeks, one won without a story (in a sector other clients share).
_NUDGE_SITUATIONS = [(8, "won"), (9, "new"), (24, "accepted")]


def _seed_nudge_situations(session: Session, catalog: Catalog, now: datetime) -> int:
    """Referrals for `crossbot nudges --preview` to find; returns how many were added."""
    people = {p.email: p for p in session.exec(select(models.Person)) if p.active}
    by_id = {p.id: p for p in people.values()}
    used = {r.client_id for r in session.exec(select(models.Referral))}
    clients = [
        c
        for c in session.exec(select(models.Client).order_by(col(models.Client.id)))
        if c.owner_id in by_id and c.id not in used and not c.retired
    ]
    # The win goes to a client with a look-alike elsewhere in the firm, so homework has a reader.
    clients.sort(key=lambda c: not any(_alike(c, other) for other in clients))
    cards = [c for c in catalog.cards if c.owners and c.owners[0] in people]
    added = 0
    for n, ((days, status), client) in enumerate(zip(_NUDGE_SITUATIONS, clients, strict=False)):
        referrer = by_id[client.owner_id]
        card = next((c for c in cards[n:] + cards[:n] if c.team != referrer.team), None)
        if card is None:
            break
        at = now - timedelta(days=days)
        estimate = Money(15_000.0, firm_currency())
        new = referrals.NewReferral(client.name, card.owners[0], card.id, estimate)
        referral = referrals.create(session, referrer, new, at, owner_consent=False).referral
        assert referral.id is not None
        receiver = people[card.owners[0]]
        for step, to_status in enumerate(referrals.USUAL_PATH[status][1:], 1):
            to = referrals.MoveTo(to_status)
            referrals.move(session, referral.id, receiver, to, at + timedelta(hours=step))
        added += 1
    return added


def _alike(client: models.Client, other: models.Client) -> bool:
    return other.owner_id != client.owner_id and nudges.similar_sectors(client.sector, other.sector)


def _seed_ideas(session: Session, now: datetime) -> None:
    """A few ideas from people in different teams, with a vote or two."""
    people = [
        p for p in session.exec(select(models.Person).order_by(col(models.Person.id))) if p.active
    ]
    authors: list[models.Person] = []
    for person in people:
        if person.role == "member" and all(a.team != person.team for a in authors):
            authors.append(person)
    clients = list(session.exec(select(models.Client).order_by(col(models.Client.id))))
    for n, (author, client) in enumerate(zip(authors[:_IDEAS], clients, strict=False)):
        at = now - timedelta(days=_IDEAS - n)
        text = render("seed_idea", n=n, client=client.name)
        idea, _ = campaigns.record_idea(session, author, text, at)
        assert idea.id is not None
        for voter in [p for p in people if p.id != author.id][n : n + _IDEAS - n]:
            campaigns.upvote(session, idea.id, voter, at + timedelta(hours=2))


def _seed_story(
    session: Session, people: dict[str, models.Person], made: list[models.Referral], now: datetime
) -> None:
    won = next((r for r in made if r.status == "won"), None)
    author = next((p for p in people.values() if p.role == "ambassador"), None)
    if won is None or author is None or author.id is None:
        return
    receiver = session.get(models.Person, won.receiver_id)
    referrer = session.get(models.Person, won.referrer_id)
    if receiver is None or referrer is None:
        return
    session.add(
        models.Story(
            author_id=author.id,
            title=render("seed_story_title", referrer=referrer, receiver=receiver),
            body=render("seed_story_body", referrer=referrer, receiver=receiver),
            teams=[referrer.team, receiver.team],
            referral_id=won.id,
            client_id=won.client_id,
            value=won.won_value,
            currency=won.currency,
            status="published",
            published_at=now - timedelta(days=3),
            created_at=now - timedelta(days=4),
        )
    )
