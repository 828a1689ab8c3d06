"""Nudges: the right reminder to the right person, once, within an attention budget.

The rules (docs/nudges.md), each found from the data alone:
- `no_response`: a referral you received has waited N working days to be accepted or declined.
- `consent`: the client's relationship owner has not answered the consent question for 2
  working days: one reminder; the referral proceeds 2 working days after it was sent
  (`referrals.remind_silent_owners`), and `follow_through` tells the others that moment.
- `no_news`: no status change for N days: the receiver gets one-tap updates, the referrer and
  the client's relationship owner hear honestly that there is no news yet.
- `close_loop`: a won referral without a story: the receiving team's ambassador is asked.
- `stale_card`: a card not reviewed for 12 months: its main contact, with this quarter's use.
- `homework`: a referral won for a client in a sector: owners of other clients in that
  sector get the card's situations to look out for and questions to ask.
Campaign encouragement to `campaigns`; the welcome to the first turn (`dialogs/nudges.py`).
All of them share the budget read by `spent` and `no_room`.

A nudge's `key` names its rule, subject, cause and person, so the same cause never nudges
twice; a referral that moves on and stalls again is a new cause. Snoozed nudges come back
once, a week later, if their cause still holds.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from bot import learning, referrals
from bot.local_time import local_day, local_midnight
from bot.messages import Button, Reply
from bot.render import label, render
from bot.store import insert_unless_taken, new_values
from bot.store.models import (
    Client,
    Nudge,
    NudgeOptOut,
    Person,
    Referral,
    ServiceCard,
    Story,
)

__all__ = [
    "RULES",
    "NudgeItem",
    "Plan",
    "Policy",
    "batched",
    "candidates",
    "feedback",
    "follow_through",
    "is_off",
    "no_room",
    "not_relevant_counts",
    "plan",
    "record",
    "reply",
    "set_off",
    "similar_sectors",
    "spent",
    "still_going",
    "unsent",
    "welcome_check",
    "welcome_once",
]

# In order of priority; the first two are the next step someone is waiting for.
RULES = ("no_response", "consent", "no_news", "close_loop", "homework", "stale_card")
URGENT = frozenset({"no_response", "consent"})
TEMPLATES = {
    "no_response": "nudge_no_response",
    "consent": "nudge_consent",
    "no_news": "nudge_no_news",
    "close_loop": "nudge_close_loop",
    "homework": "nudge_homework",
    "stale_card": "nudge_stale_card",
}
# Rows in the Nudge table that are not reminders to a person (the campaign's admin flags),
# or that answer the person's own first message (the welcome): the budget ignores them.
NOT_COUNTED = ("campaign_flag", "welcome")
STALLED = ("accepted", "meeting", "proposal", "parked")
WAITING_ON_OWNER = ("pending", "talk_first")
DAYS_PER_MONTH = 30.44
SNOOZE = timedelta(days=7)
BATCHED_WINDOW = timedelta(days=7)  # a personal digest shows the week's batched nudges
HOMEWORK_BULLETS = 3
_WORD = re.compile(r"[a-z]+")
# Sector words too general to say two clients are alike.
_SECTOR_STOPWORDS = frozenset({"and", "the", "for", "with", "services", "group", "other"})


@dataclass
class NudgeItem:
    key: str
    person_id: int
    email: str
    name: str
    kind: str  # the rule
    subject: str  # a referral id or a card id
    since: datetime
    data: dict[str, Any] = field(default_factory=dict)
    buttons: list[Button] = field(default_factory=list)
    urgent: bool = False
    digest: bool = False  # the person reads a personal digest, so it can be batched there

    @classmethod
    def to(
        cls,
        person: Person,
        kind: str,
        about: str,
        subject: str,
        since: datetime,
        data: dict[str, Any],
        buttons: list[Button],
        urgent: bool = False,
    ) -> NudgeItem:
        """Rule `kind`'s nudge for `person`; `about` names what it is about in its key, which
        makes each nudge once-only ("no_news:referral:7:person:3")."""
        assert person.id is not None
        return cls(
            key=f"{kind}:{about}:person:{person.id}",
            person_id=person.id,
            email=person.email,
            name=person.name,
            kind=kind,
            subject=subject,
            since=since,
            data=data,
            buttons=buttons,
            urgent=urgent,
            digest=person.digest_opt_in,
        )

    @classmethod
    def on_referral(
        cls,
        person: Person,
        kind: str,
        referral_id: int | None,
        since: datetime,
        data: dict[str, Any],
        buttons: list[Button],
        urgent: bool = False,
        cause: str = "",
    ) -> NudgeItem:
        """`to` for a nudge about one referral (`cause` tells apart two of the same rule)."""
        about = f"referral:{referral_id}:{cause}" if cause else f"referral:{referral_id}"
        return cls.to(person, kind, about, str(referral_id), since, data, buttons, urgent)


@dataclass(frozen=True)
class Policy:
    """When nudges are due and how many a person may get. No defaults here: they are the
    settings' (`bot.settings.Settings`, documented in docs/nudges.md), read once."""

    follow_up_days: int  # working days
    stale_days: int
    card_review_months: int
    daily_budget: int
    weekly_budget: int
    quiet_from: int
    quiet_until: int
    zone: ZoneInfo

    @classmethod
    def from_settings(cls, settings: Any) -> Policy:
        return cls(
            follow_up_days=settings.nudge_follow_up_days,
            stale_days=settings.nudge_stale_days,
            card_review_months=settings.card_review_months,
            daily_budget=settings.nudge_daily_budget,
            weekly_budget=settings.nudge_weekly_budget,
            quiet_from=settings.nudge_quiet_from,
            quiet_until=settings.nudge_quiet_until,
            zone=settings.zone,
        )


@dataclass
class Plan:
    """Today's nudges: sent now, batched into the personal digest, or held (and why)."""

    send: list[NudgeItem] = field(default_factory=list)
    batch: list[NudgeItem] = field(default_factory=list)
    held: list[tuple[NudgeItem, str]] = field(default_factory=list)
    not_relevant: dict[str, int] = field(default_factory=dict)

    @property
    def items(self) -> list[NudgeItem]:
        return self.send + self.batch + [item for item, _ in self.held]


# -- the budget -------------------------------------------------------------------------------


def quiet(now: datetime, policy: Policy) -> str | None:
    """Why nothing may be sent now ("weekend", "quiet hours"), or None."""
    local = now.astimezone(policy.zone)
    if local.weekday() >= 5:
        return "weekend"
    start, end = policy.quiet_from, policy.quiet_until
    hour = local.hour
    inside = (hour >= start or hour < end) if start > end else start <= hour < end
    return "quiet hours" if start != end and inside else None


def spent(session: Session, now: datetime, zone: ZoneInfo) -> dict[int, tuple[int, int]]:
    """Nudges each person had (today in the firm's time zone, in the last 7 days).

    The one budget query: every kind of reminder (campaign encouragement included) counts.
    """
    midnight = local_midnight(local_day(now, zone), zone)
    rows = session.exec(
        select(Nudge.person_id, Nudge.sent_at).where(
            col(Nudge.sent_at).is_not(None),
            col(Nudge.sent_at) > now - timedelta(days=7),
            col(Nudge.kind).not_in(NOT_COUNTED),
        )
    ).all()
    today: Counter[int] = Counter()
    week: Counter[int] = Counter()
    for person_id, sent_at in rows:
        week[person_id] += 1
        if sent_at is not None and sent_at >= midnight:
            today[person_id] += 1
    return {pid: (today[pid], week[pid]) for pid in week}


def no_room(session: Session, now: datetime, policy: Policy) -> set[int]:
    """People who may not get another nudge now: budget used up today or this week, or off."""
    full = {
        pid
        for pid, (today, week) in spent(session, now, policy.zone).items()
        if today >= policy.daily_budget or week >= policy.weekly_budget
    }
    return full | _opted_out(session)


# -- planning ---------------------------------------------------------------------------------


def candidates(session: Session, now: datetime, policy: Policy) -> list[NudgeItem]:
    """Every nudge whose cause holds now, before de-duplication and budgets."""
    people = {p.id: p for p in session.exec(select(Person).where(col(Person.active)))}
    items = _referral_nudges(session, now, policy, people)
    items += _consent(session, now, policy, people)
    items += _close_loop(session, people)
    items += _homework(session, now, people)
    items += _card_nudges(session, now, policy, people)
    return items


def plan(session: Session, now: datetime, policy: Policy) -> Plan:
    """Sort today's due nudges into sent, batched and held; nothing is written."""
    due = candidates(session, now, policy)
    result = Plan(not_relevant=not_relevant_counts(session))
    if not due:
        return result
    known = {
        row.key: row
        for row in session.exec(select(Nudge).where(col(Nudge.key).in_([i.key for i in due])))
    }
    off = _opted_out(session)
    why_quiet = quiet(now, policy)
    used = defaultdict(
        lambda: [0, 0], {k: list(v) for k, v in spent(session, now, policy.zone).items()}
    )
    due.sort(key=lambda i: (not i.urgent, RULES.index(i.kind), i.since, i.key))
    for item in due:
        row = known.get(item.key)
        if row is not None and not _snooze_over(row, now):
            continue  # the same cause never nudges twice
        if item.person_id in off:
            result.held.append((item, "nudges off"))
        elif why_quiet:
            result.held.append((item, why_quiet))
        elif _has_room(used[item.person_id], policy):
            used[item.person_id][0] += 1
            used[item.person_id][1] += 1
            result.send.append(item)
        elif not item.urgent and item.digest:
            result.batch.append(item)
        else:
            today, _ = used[item.person_id]
            result.held.append(
                (item, "daily budget" if today >= policy.daily_budget else "weekly budget")
            )
    return result


def record(session: Session, planned: Plan, now: datetime) -> dict[str, int]:
    """Write the plan down before anything is sent; returns each sent nudge's id by key."""
    rows = {
        row.key: row
        for row in session.exec(
            select(Nudge).where(col(Nudge.key).in_([i.key for i in planned.send + planned.batch]))
        )
    }
    sending = {item.key for item in planned.send}
    for item in planned.send + planned.batch:
        row = rows.get(item.key) or Nudge(
            key=item.key, person_id=item.person_id, kind=item.kind, subject=item.subject
        )
        row.due_at, row.data = item.since, _stored(item)
        row.sent_at = now if item.key in sending else None
        row.batched_at = None if item.key in sending else now
        row.snoozed_until, row.feedback = None, ""
        session.add(row)
        rows[item.key] = row
    session.flush()
    return {key: row.id for key, row in rows.items() if row.id is not None and row.sent_at}


def follow_through(session: Session, planned: Plan, now: datetime, policy: Policy) -> list[Reply]:
    """What sending today's nudges sets going, in the transaction that records them: a sent
    consent reminder starts the owner's last 2 working days, and the receiver and referrer
    are told when the referral proceeds."""
    return [
        notice
        for item in planned.send
        if item.kind == "consent"
        for notice in referrals.owner_reminded(session, int(item.subject), now, policy.zone)
    ]


def unsent(session: Session, keys: list[str]) -> None:
    """Nudges the platform could not deliver: kept (never re-sent), but not counted."""
    for nudge in session.exec(select(Nudge).where(col(Nudge.key).in_(keys))):
        nudge.sent_at = None
        session.add(nudge)


def reply(item: NudgeItem, nudge_id: int) -> Reply:
    """The nudge as a direct message: its own buttons, then Snooze a week and Not relevant."""
    ref = {"nudge": nudge_id}
    buttons = [
        *item.buttons,
        Button(label("snooze_a_week"), "nudge.snooze", ref),
        Button(label("not_relevant"), "nudge.not_relevant", ref),
    ]
    text = render(TEMPLATES[item.kind], item=item, name=item.name.split()[0] if item.name else "")
    return Reply(
        text, buttons=buttons, to_person=item.email, private=True, kind=TEMPLATES[item.kind]
    )


# -- what people say back ---------------------------------------------------------------------


def feedback(session: Session, nudge_id: int, person: Person, what: str, now: datetime) -> bool:
    """Snooze a nudge for a week, or mark it not relevant; False if it is not theirs."""
    row = session.get(Nudge, nudge_id)
    if row is None or row.person_id != person.id:
        return False
    row.feedback, row.feedback_at = what, now
    row.snoozed_until = now + SNOOZE if what == "snoozed" else None
    session.add(row)
    return True


def not_relevant_counts(session: Session) -> dict[str, int]:
    """How many nudges people called "not relevant", per rule (for admins)."""
    kinds = session.exec(select(Nudge.kind).where(Nudge.feedback == "not_relevant")).all()
    return dict(sorted(Counter(kinds).items()))


def is_off(session: Session, person_id: int) -> bool:
    return person_id in _opted_out(session, person_id)


def set_off(session: Session, person_id: int, off: bool) -> None:
    """`/crossbot nudges off|on`."""
    row = session.exec(select(NudgeOptOut).where(NudgeOptOut.person_id == person_id)).first()
    if off and row is None:
        session.add(NudgeOptOut(person_id=person_id))
    elif not off and row is not None:
        session.delete(row)


def still_going(session: Session, referral_id: int, person: Person, now: datetime) -> bool:
    """The receiver says a referral is still going: the no-news clock starts again."""
    referral = session.get(Referral, referral_id)
    if referral is None or referral.receiver_id != person.id or referral.status not in STALLED:
        return False
    referral.updated_at = now
    session.add(referral)
    return True


def batched(session: Session, person_ids: set[int], now: datetime) -> dict[int, list[Nudge]]:
    """The nudges batched into each person's personal digest this past week."""
    rows = session.exec(
        select(Nudge)
        .where(col(Nudge.person_id).in_(person_ids))
        .where(col(Nudge.batched_at).is_not(None), col(Nudge.batched_at) > now - BATCHED_WINDOW)
        .where(Nudge.feedback != "not_relevant")
        .order_by(col(Nudge.batched_at))
    ).all()
    found: dict[int, list[Nudge]] = defaultdict(list)
    for row in rows:
        found[row.person_id].append(row)
    return dict(found)


def _welcome_key(person_id: int) -> str:
    return f"welcome:person:{person_id}"


def welcome_check(session: Session, person_id: int, team: str) -> tuple[bool, bool]:
    """Whether `person_id` was welcomed already (here or on another replica), and whether
    `team` has a live service card (what the welcome says): one statement."""
    values = {"key": _welcome_key(person_id), "team": team}
    welcomed, has_card = session.connection().execute(_WELCOME_CHECK, values).one()
    return bool(welcomed), bool(has_card)


# Built once, in Core: every first contact of a process asks.
_WELCOME_CHECK = select(
    select(Nudge.id).where(col(Nudge.key) == bindparam("key")).exists(),
    select(ServiceCard.id)
    .where(col(ServiceCard.team) == bindparam("team"), col(ServiceCard.retired).is_(False))
    .exists(),
)


def welcome_once(session: Session, person: Person, now: datetime) -> bool:
    """Record that `person` was welcomed; False if they already were (here or elsewhere).

    One insert whose unique key decides: two replicas racing here, the second waits for the
    first's commit and then inserts nothing."""
    assert person.id is not None
    key = _welcome_key(person.id)
    row = new_values(Nudge, key=key, person_id=person.id, kind="welcome", due_at=now, sent_at=now)
    statement = insert_unless_taken(Nudge, "key", session.get_bind().dialect.name)
    return session.connection().execute(statement, row).scalar() is not None


# -- the rules --------------------------------------------------------------------------------


def _referral_nudges(
    session: Session, now: datetime, policy: Policy, people: dict[int | None, Person]
) -> list[NudgeItem]:
    stale_before = now - timedelta(days=policy.stale_days)
    rows = session.exec(
        select(Referral)
        .where(
            (col(Referral.status) == "new")
            | (col(Referral.status).in_(STALLED) & (col(Referral.updated_at) <= stale_before))
        )
        # While the relationship owner has not said go, the receiver has nothing to do yet
        # (the consent reminder speaks to the owner instead).
        .where(col(Referral.consent).not_in(WAITING_ON_OWNER))
    ).all()
    clients = _by_id(session, Client, {r.client_id for r in rows})
    items: list[NudgeItem] = []
    for referral in rows:
        receiver = people.get(referral.receiver_id)
        client = clients.get(referral.client_id)
        if receiver is None or referral.id is None:
            continue
        base = {
            "referral": referral.id,
            "client": client.name if client else "",
            "referrer": _name(people.get(referral.referrer_id)),
            "receiver": receiver.name,
            "status": referral.status,
            "days": (now - referral.updated_at).days,
        }
        if referral.status == "new":
            due = referrals.working_days_after(
                referral.updated_at, policy.follow_up_days, policy.zone
            )
            if due <= now:
                items.append(_item("no_response", referral, receiver, base, urgent=True))
            continue
        since = referral.updated_at.astimezone(policy.zone).date().isoformat()
        items.append(_item("no_news", referral, receiver, {**base, "role": "receiver"}, since))
        owner = people.get(client.owner_id) if client else None
        told = {receiver.id}
        for role, who in (("referrer", people.get(referral.referrer_id)), ("owner", owner)):
            if who is not None and who.id not in told:
                told.add(who.id)
                items.append(_item("no_news", referral, who, {**base, "role": role}, since))
    return items


def _consent(
    session: Session, now: datetime, policy: Policy, people: dict[int | None, Person]
) -> list[NudgeItem]:
    """Owners who have not answered a consent question: Go ahead / Let's talk first."""
    items = []
    for referral in referrals.awaiting_owner_reminder(session, now, policy.zone):
        current = referrals.view(session, referral)
        owner = people.get(current.owner.id) if current.owner else None
        if owner is None or owner.id is None:
            continue  # `referrals.remind_silent_owners` proceeds without them in time
        proceeds = referrals.working_days_after(now, referrals.CONSENT_WORKING_DAYS, policy.zone)
        items.append(
            NudgeItem.on_referral(
                owner,
                "consent",
                current.id,
                since=referral.created_at,
                data={
                    "referral": current.id,
                    "r": current,
                    "proceeds": proceeds.astimezone(policy.zone),
                    "days": referrals.CONSENT_WORKING_DAYS,
                },
                buttons=referrals.consent_buttons(current.id, referral.consent),
                urgent=True,
            )
        )
    return items


def _item(
    rule: str,
    referral: Referral,
    person: Person,
    data: dict[str, Any],
    cause: str = "",
    urgent: bool = False,
) -> NudgeItem:
    receiver = data.get("role", "receiver") == "receiver"
    if not receiver:
        buttons = [Button(label("my_referrals"), "referral.mine")]
    else:
        buttons = [
            b for b in referrals.actions_for(person, referral) if b.action != "referral.park"
        ]
        if rule == "no_news":
            buttons.append(
                Button(label("still_going"), "nudge.still_going", {"referral": referral.id})
            )
    since = referral.updated_at
    return NudgeItem.on_referral(
        person, rule, referral.id, since, data, buttons, urgent and receiver, cause
    )


def _close_loop(session: Session, people: dict[int | None, Person]) -> list[NudgeItem]:
    """Won referrals nobody has told as a story: ask the receiving team's ambassador."""
    storied = select(Story.referral_id).where(col(Story.referral_id).is_not(None))
    won = session.exec(
        select(Referral).where(Referral.status == "won", col(Referral.id).not_in(storied))
    ).all()
    ambassadors: dict[str, Person] = {}
    for person in sorted(people.values(), key=lambda p: p.id or 0):
        if person.role == "ambassador":
            ambassadors.setdefault(person.team, person)
    items = []
    for referral in won:
        who = ambassadors.get(referral.receiver_team) or ambassadors.get(referral.referrer_team)
        if who is None or who.id is None:
            continue
        # No client name: the ambassador may not be a party to the referral.
        items.append(
            NudgeItem.on_referral(
                who,
                "close_loop",
                referral.id,
                since=referral.updated_at,
                data={
                    "referral": referral.id,
                    "referrer": _name(people.get(referral.referrer_id)),
                    "receiver": _name(people.get(referral.receiver_id)),
                    "teams": [
                        t
                        for t in dict.fromkeys([referral.receiver_team, referral.referrer_team])
                        if t
                    ],
                },
                buttons=[
                    Button(
                        label("write_the_story"),
                        "story.from_referral",
                        {"referral": referral.id},
                        "primary",
                    )
                ],
            )
        )
    return items


def _homework(session: Session, now: datetime, people: dict[int | None, Person]) -> list[NudgeItem]:
    """A win for a client in a sector: what other clients in that sector may need too."""
    won = session.exec(
        select(Referral).where(
            Referral.status == "won",
            col(Referral.card_id).is_not(None),
            col(Referral.updated_at) > now - timedelta(days=30),
        )
    ).all()
    if not won:
        return []
    clients = list(session.exec(select(Client).where(col(Client.retired).is_(False))))
    by_id = {c.id: c for c in clients}
    cards = _by_id(session, ServiceCard, {r.card_id for r in won if r.card_id})
    items: list[NudgeItem] = []
    for referral in won:
        client, card = by_id.get(referral.client_id), cards.get(referral.card_id or "")
        if client is None or card is None or not _sector_words(client.sector):
            continue
        alike: dict[int, list[str]] = defaultdict(list)
        for other in clients:
            if (
                other.id != client.id
                and other.owner_id not in (None, client.owner_id)
                and similar_sectors(other.sector, client.sector)
            ):
                alike[other.owner_id or 0].append(other.name)
        for owner_id, names in alike.items():
            owner = people.get(owner_id)
            if owner is None or owner.id is None:
                continue
            items.append(
                NudgeItem.to(
                    owner,
                    "homework",
                    f"referral:{referral.id}",
                    subject=card.id,
                    since=referral.updated_at,
                    data={
                        "card": card.id,
                        "title": card.title,
                        "team": card.team,
                        "sector": client.sector,
                        "clients": sorted(names),
                        "situations": _bullets(card.sections.get("situations", ""), client.sector),
                        "questions": _bullets(card.sections.get("questions", ""), client.sector),
                    },
                    buttons=[Button(label("show_the_card"), "card.show", {"card": card.id})],
                )
            )
    return items


def _card_nudges(
    session: Session, now: datetime, policy: Policy, people: dict[int | None, Person]
) -> list[NudgeItem]:
    by_email = {p.email: p for p in people.values()}
    limit = now.date() - timedelta(days=round(policy.card_review_months * DAYS_PER_MONTH))
    today = local_day(now, policy.zone)
    quarter = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    answered = learning.answered_since(session, local_midnight(quarter, policy.zone))
    items = []
    for card in session.exec(select(ServiceCard).where(col(ServiceCard.retired).is_(False))):
        reviewed: date = card.updated or card.loaded_at.date()
        contact = by_email.get(card.owners[0]) if card.owners else None
        if reviewed > limit or contact is None or contact.id is None:
            continue
        items.append(
            NudgeItem.to(
                contact,
                "stale_card",
                f"{card.id}:{reviewed.isoformat()}",
                subject=card.id,
                since=datetime.combine(reviewed, time(), tzinfo=now.tzinfo),
                data={
                    "card": card.id,
                    "title": card.title,
                    "reviewed": reviewed,
                    "months": policy.card_review_months,
                    "answered": answered.get(card.id, 0),
                },
                buttons=[Button(label("show_the_card"), "card.show", {"card": card.id})],
            )
        )
    return items


# -- helpers ----------------------------------------------------------------------------------


def _has_room(used: list[int], policy: Policy) -> bool:
    return used[0] < policy.daily_budget and used[1] < policy.weekly_budget


def _snooze_over(row: Nudge, now: datetime) -> bool:
    return row.feedback == "snoozed" and row.snoozed_until is not None and row.snoozed_until <= now


def _opted_out(session: Session, person_id: int | None = None) -> set[int]:
    query = select(NudgeOptOut.person_id)
    if person_id is not None:
        query = query.where(NudgeOptOut.person_id == person_id)
    return set(session.exec(query).all())


def _stored(item: NudgeItem) -> dict[str, Any]:
    """What the digest line needs: ids and labels, no client names."""
    keep = ("referral", "card", "title", "sector", "status", "role", "teams")
    return {k: item.data[k] for k in keep if k in item.data}


def similar_sectors(one: str, other: str) -> bool:
    """Whether two clients' sectors share a telling word ("food", "manufacturing")."""
    return bool(_sector_words(one) & _sector_words(other))


def _sector_words(sector: str) -> set[str]:
    return {w for w in _WORD.findall(sector.lower()) if len(w) > 3 and w not in _SECTOR_STOPWORDS}


def _bullets(section: str, sector: str) -> list[str]:
    """The section's bullets that mention the sector first, then the rest; a few at most."""
    bullets = [line.lstrip("-* ").strip() for line in section.splitlines() if line.strip()]
    words = _sector_words(sector)
    ranked = sorted(bullets, key=lambda b: not (words & set(_WORD.findall(b.lower()))))
    return ranked[:HOMEWORK_BULLETS]


def _name(person: Person | None) -> str:
    return person.name if person else ""


def _by_id(session: Session, model: Any, ids: set[Any]) -> dict[Any, Any]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {row.id: row for row in session.exec(select(model).where(col(model.id).in_(ids)))}
