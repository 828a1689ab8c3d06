"""Nudges: short, timely reminders, each sent at most once, within a weekly budget per person.

Three kinds, from the data alone:
- `follow_up`: a referral you received has sat in new/accepted for N days: accept or update it.
- `close_loop`: a meeting or proposal has had no news for a while: won, lost, still going?
- `card_review`: a service card not reviewed for 12 months: its main contact refreshes it.

A nudge's `key` names what it is about (and the state it was in), so the same reminder is
never sent twice, while a referral that moves on and stalls again can earn a new one.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from bot.messages import Button, Reply
from bot.render import render
from bot.store.models import Client, Nudge, Person, Referral, ServiceCard

KINDS = ("follow_up", "close_loop", "card_review")  # also the order of priority
TEMPLATES = {
    "follow_up": "nudge_follow_up",
    "close_loop": "nudge_close_loop",
    "card_review": "nudge_card_review",
}
STALLED = ("meeting", "proposal")
WAITING = ("new", "accepted")
WAITING_ON_OWNER = ("pending", "talk_first")
DAYS_PER_MONTH = 30.44


@dataclass
class NudgeItem:
    key: str
    person_id: int
    email: str
    name: str
    kind: str
    subject: str  # a referral id or a card id
    since: datetime
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Policy:
    follow_up_days: int = 5
    stale_days: int = 21
    card_review_months: int = 12
    weekly_budget: int = 3

    @classmethod
    def from_settings(cls, settings: Any) -> Policy:
        return cls(
            follow_up_days=settings.nudge_follow_up_days,
            stale_days=settings.nudge_stale_days,
            card_review_months=settings.card_review_months,
            weekly_budget=settings.nudge_weekly_budget,
        )


def candidates(session: Session, now: datetime, policy: Policy) -> list[NudgeItem]:
    """Every nudge that is due now, before de-duplication and budgets."""
    people = {p.id: p for p in session.exec(select(Person).where(col(Person.active)))}
    items = _referral_nudges(session, now, policy, people)
    items += _card_nudges(session, now, policy, people)
    return items


def plan(session: Session, now: datetime, policy: Policy) -> list[NudgeItem]:
    """The nudges to send now: never sent before, and within each person's weekly budget."""
    due = candidates(session, now, policy)
    if not due:
        return []
    sent_keys = set(
        session.exec(select(Nudge.key).where(col(Nudge.key).in_([item.key for item in due])))
    )
    week_ago = now - timedelta(days=7)
    used = Counter(
        session.exec(
            select(Nudge.person_id).where(
                col(Nudge.sent_at).is_not(None), col(Nudge.sent_at) > week_ago
            )
        )
    )
    chosen: list[NudgeItem] = []
    due.sort(key=lambda item: (KINDS.index(item.kind), item.since, item.key))
    for item in due:
        if item.key in sent_keys or used[item.person_id] >= policy.weekly_budget:
            continue
        used[item.person_id] += 1
        chosen.append(item)
    return chosen


def record(session: Session, items: list[NudgeItem], now: datetime) -> None:
    """Mark the nudges sent (the unique key stops a second send ever after)."""
    for item in items:
        session.add(
            Nudge(
                key=item.key,
                person_id=item.person_id,
                kind=item.kind,
                subject=item.subject,
                due_at=item.since,
                sent_at=now,
            )
        )


def unsent(session: Session, keys: list[str]) -> None:
    """Nudges the platform could not deliver: kept (never re-sent), but not counted."""
    for nudge in session.exec(select(Nudge).where(col(Nudge.key).in_(keys))):
        nudge.sent_at = None
        session.add(nudge)


def reply(item: NudgeItem) -> Reply:
    """The reminder as a direct message to its person."""
    if item.kind == "card_review":
        buttons = [Button("Show the card", "card.show", {"card": item.subject})]
    else:
        buttons = [Button("My referrals", "referral.mine", {"referral": int(item.subject)})]
    text = render(TEMPLATES[item.kind], item=item, name=item.name.split()[0] if item.name else "")
    return Reply(
        text, buttons=buttons, to_person=item.email, private=True, kind=TEMPLATES[item.kind]
    )


def _referral_nudges(
    session: Session, now: datetime, policy: Policy, people: dict[int | None, Person]
) -> list[NudgeItem]:
    follow_up_before = now - timedelta(days=policy.follow_up_days)
    stale_before = now - timedelta(days=policy.stale_days)
    rows = session.exec(
        select(Referral)
        .where(
            (col(Referral.status).in_(WAITING) & (col(Referral.updated_at) <= follow_up_before))
            | (col(Referral.status).in_(STALLED) & (col(Referral.updated_at) <= stale_before))
        )
        # While the relationship owner has not said go, the receiver has nothing to do yet
        # (the consent reminder job speaks to the owner instead).
        .where(col(Referral.consent).not_in(WAITING_ON_OWNER))
    ).all()
    clients = {
        c.id: c
        for c in session.exec(select(Client).where(col(Client.id).in_({r.client_id for r in rows})))
    }
    items = []
    for referral in rows:
        receiver = people.get(referral.receiver_id)
        referrer = people.get(referral.referrer_id)
        if receiver is None or receiver.id is None:
            continue
        kind = "follow_up" if referral.status in WAITING else "close_loop"
        client = clients.get(referral.client_id)
        items.append(
            NudgeItem(
                key=f"{kind}:referral:{referral.id}:{referral.status}",
                person_id=receiver.id,
                email=receiver.email,
                name=receiver.name,
                kind=kind,
                subject=str(referral.id),
                since=referral.updated_at,
                data={
                    "client": client.name if client else "",
                    "referrer": referrer.name if referrer else "",
                    "status": referral.status,
                    "days": (now - referral.updated_at).days,
                },
            )
        )
    return items


def _card_nudges(
    session: Session, now: datetime, policy: Policy, people: dict[int | None, Person]
) -> list[NudgeItem]:
    by_email = {p.email: p for p in people.values()}
    limit = now.date() - timedelta(days=round(policy.card_review_months * DAYS_PER_MONTH))
    items = []
    for card in session.exec(select(ServiceCard).where(col(ServiceCard.retired).is_(False))):
        reviewed: date = card.updated or card.loaded_at.date()
        contact = by_email.get(card.owners[0]) if card.owners else None
        if reviewed > limit or contact is None or contact.id is None:
            continue
        items.append(
            NudgeItem(
                key=f"card_review:{card.id}:{reviewed.isoformat()}",
                person_id=contact.id,
                email=contact.email,
                name=contact.name,
                kind="card_review",
                subject=card.id,
                since=datetime.combine(reviewed, datetime.min.time(), tzinfo=now.tzinfo),
                data={
                    "title": card.title,
                    "reviewed": reviewed,
                    "months": policy.card_review_months,
                },
            )
        )
    return items
