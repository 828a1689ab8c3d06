"""A little activity for `crossbot demo`, so every command has something to show."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, select

from bot.catalog import Catalog
from bot.render import render
from bot.store import models

# (days ago, status, value) for the seeded referrals: a small, believable funnel.
_REFERRALS = [
    (20, "won", 18_000.0),
    (12, "meeting", 25_000.0),
    (6, "accepted", 12_000.0),
    (2, "new", 40_000.0),
    (1, "new", None),
]
_PATH = {
    "new": ["new"],
    "accepted": ["new", "accepted"],
    "meeting": ["new", "accepted", "meeting"],
    "won": ["new", "accepted", "meeting", "proposal", "won"],
}


def seed_activity(session: Session, catalog: Catalog, now: datetime) -> int:
    """Add a few referrals across teams and one published story; return how many referrals."""
    people = {p.email: p for p in session.exec(select(models.Person))}
    clients = [c for c in session.exec(select(models.Client)) if c.owner_id]
    owners = {p.id: p for p in people.values()}
    made: list[models.Referral] = []
    for (days, status, value), client in zip(_REFERRALS, clients, strict=False):
        referrer = owners[client.owner_id]
        card = next((c for c in catalog.cards if c.team != referrer.team and c.owners), None)
        if card is None:
            break
        receiver = people[card.owners[len(made) % len(card.owners)]]
        at = now - timedelta(days=days)
        assert client.id and referrer.id and receiver.id
        referral = models.Referral(
            client_id=client.id,
            referrer_id=referrer.id,
            receiver_id=receiver.id,
            card_id=card.id,
            referrer_team=referrer.team,
            receiver_team=receiver.team,
            value=value,
            currency="GBP" if value else None,
            status=status,
            won_value=value if status == "won" else None,
            created_at=at,
            updated_at=at,
        )
        session.add(referral)
        session.flush()
        assert referral.id is not None
        previous = None
        for step, to_status in enumerate(_PATH[status]):
            session.add(
                models.ReferralEvent(
                    referral_id=referral.id,
                    actor_id=referrer.id if step == 0 else receiver.id,
                    at=at + timedelta(days=step),
                    from_status=previous,
                    to_status=to_status,
                )
            )
            previous = to_status
        made.append(referral)
        catalog = _rotate(catalog)
    _seed_story(session, people, made, now)
    return len(made)


def _rotate(catalog: Catalog) -> Catalog:
    """The next referral goes to the next card, so the demo spans several teams."""
    return Catalog(
        cards=catalog.cards[1:] + catalog.cards[:1],
        people=catalog.people,
        clients=catalog.clients,
        folder=catalog.folder,
    )


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
