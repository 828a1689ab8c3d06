"""Data-protection requests: everything held about a person, and forgetting them.

Forgetting anonymises rather than deletes: referrals, stories and points are the firm's
records and other people's history, so they stay, but nothing in them names the person.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, SQLModel, col, delete, or_, select

from bot.people import by_email
from bot.store.models import (
    AskedQuestion,
    Campaign,
    ConversationRef,
    DialogState,
    Idea,
    IdeaVote,
    Nudge,
    Person,
    PointEvent,
    Referral,
    ReferralEvent,
    Story,
    utcnow,
)


def export_person(session: Session, email: str) -> dict[str, Any] | None:
    """Every row that is about the person, as JSON-ready dicts (None if unknown)."""
    person = by_email(session, email)
    if person is None or person.id is None:
        return None
    pid = person.id
    referrals = session.exec(
        select(Referral).where(or_(Referral.referrer_id == pid, Referral.receiver_id == pid))
    ).all()
    return {
        "person": _row(person),
        "referrals": [_row(r) for r in referrals],
        "referral_events": _rows(
            session, select(ReferralEvent).where(ReferralEvent.actor_id == pid)
        ),
        "stories": _rows(session, select(Story).where(Story.author_id == pid)),
        "points": _rows(session, select(PointEvent).where(PointEvent.person_id == pid)),
        "ideas": _rows(session, select(Idea).where(Idea.author_id == pid)),
        "idea_votes": _rows(session, select(IdeaVote).where(IdeaVote.person_id == pid)),
        "nudges": _rows(session, select(Nudge).where(Nudge.person_id == pid)),
        "conversations": _rows(
            session, select(ConversationRef).where(ConversationRef.person_id == pid)
        ),
        "questions": _rows(session, select(AskedQuestion).where(AskedQuestion.asker_id == pid)),
    }


@dataclass
class Forgotten:
    """What forgetting a person changed: counts per kind of text, never the texts."""

    name: str  # the name that now stands where the person's name was
    changed: dict[str, int] = field(default_factory=dict)  # texts that named them, per kind
    removed: dict[str, int] = field(default_factory=dict)  # rows deleted, per kind

    def count(self, kind: str, n: int = 1, bucket: str = "changed") -> None:
        if n:
            table = getattr(self, bucket)
            table[kind] = table.get(kind, 0) + n


# Every free-text column that may name a person: (table, {column: kind}).
FREE_TEXT: tuple[tuple[type[SQLModel], dict[str, str]], ...] = (
    (Story, {"title": "story titles", "body": "story texts"}),
    (Referral, {"note": "referral notes", "reason": "referral reasons"}),
    (ReferralEvent, {"note": "referral event notes"}),
    (Idea, {"text": "idea texts", "why_now": "idea reasons"}),
    (Campaign, {"name": "campaign names"}),
    (AskedQuestion, {"question": "who-does questions", "note": "who-does feedback notes"}),
)


def forget_person(session: Session, email: str) -> Forgotten | None:
    """Anonymise a person in place, their name in free text too; None if nobody has that email."""
    person = by_email(session, email)
    if person is None or person.id is None:
        return None
    pid = person.id
    forgotten = Forgotten(name=f"Former colleague {pid}")
    _replace_in_free_text(session, person, forgotten)
    person.email = f"forgotten-{pid}@invalid"
    person.name = forgotten.name
    person.title = person.office = ""
    person.slack_id = person.teams_id = None
    person.active = False
    person.digest_opt_in = person.leaderboard_opt_in = False
    person.changed_at = utcnow()  # what every replica's boards name them by has changed
    session.add(person)
    states = session.exec(delete(DialogState).where(col(DialogState.person_id) == pid))  # type: ignore[call-overload]
    refs = session.exec(delete(ConversationRef).where(col(ConversationRef.person_id) == pid))  # type: ignore[call-overload]
    forgotten.count("conversations in progress", states.rowcount or 0, "removed")
    forgotten.count("stored conversation references", refs.rowcount or 0, "removed")
    # Their who-does questions are their words: gone, not anonymised (aliases learned stay).
    asked = session.exec(delete(AskedQuestion).where(col(AskedQuestion.asker_id) == pid))  # type: ignore[call-overload]
    forgotten.count("who-does questions", asked.rowcount or 0, "removed")
    return forgotten


def _replace_in_free_text(session: Session, person: Person, forgotten: Forgotten) -> None:
    names = _Names.of(session, person)
    if names is None:
        return
    for table, columns in FREE_TEXT:
        # Only rows whose text holds the first name or the email can change: the database
        # filters them (every full name starts with the first name).
        clues = (names.first.lower(), names.email)
        matches = or_(
            *(func.lower(getattr(table, c)).contains(clue) for c in columns for clue in clues)
        )
        for row in session.exec(select(table).where(matches)):
            texts = {c: getattr(row, c) or "" for c in columns}
            first_too = names.first_name_is_theirs(texts.values(), _connected(session, row))
            for column, kind in columns.items():
                new = names.replace(texts[column], forgotten.name, first_too)
                if new != texts[column]:
                    setattr(row, column, new)
                    forgotten.count(kind)
            session.add(row)


@dataclass
class _Names:
    """How a person is written in text, and the colleagues who share their first name."""

    pid: int
    email: str
    full: re.Pattern[str]
    first: str
    namesakes: dict[int, re.Pattern[str]]  # person id -> full name, of those sharing the first

    @classmethod
    def of(cls, session: Session, person: Person) -> _Names | None:
        first = person.first_name
        if not first or person.id is None:
            return None
        namesakes = {
            p.id: _pattern(p.name, re.IGNORECASE)
            for p in session.exec(select(Person).where(Person.id != person.id))
            if p.id is not None and p.first_name.casefold() == first.casefold()
        }
        full = _pattern(person.name, re.IGNORECASE)
        return cls(person.id, person.email.lower(), full, first, namesakes)

    def first_name_is_theirs(self, texts: Iterable[str], connected: set[int]) -> bool:
        """A bare first name means this person when nobody else could be meant: no namesake
        in the firm, or the person is party to the record and no namesake is (or is named)."""
        if not self.namesakes:
            return True
        joined = "\n".join(texts)
        named = any(p.search(joined) for p in self.namesakes.values())
        return self.pid in connected and not (connected & self.namesakes.keys()) and not named

    def replace(self, text: str, replacement: str, first_too: bool) -> str:
        text = re.sub(re.escape(self.email), replacement, text, flags=re.IGNORECASE)
        text = self.full.sub(replacement, text)
        if first_too:
            # Case-sensitive: "Will" the person, not "will" the verb.
            text = _pattern(self.first, 0).sub(replacement, text)
        return text


def _pattern(name: str, flags: int) -> re.Pattern[str]:
    words = r"\s+".join(re.escape(part) for part in name.split())
    return re.compile(rf"(?<!\w){words}(?!\w)", flags)


def _connected(session: Session, row: SQLModel) -> set[int]:
    """The people a record is about: its author, parties or actor."""
    if isinstance(row, ReferralEvent):
        referral = session.get(Referral, row.referral_id)
        parties = _connected(session, referral) if referral else set()
        return parties | ({row.actor_id} if row.actor_id else set())
    columns = ("author_id", "reviewed_by_id", "referrer_id", "receiver_id", "created_by_id")
    return {v for c in columns if isinstance(v := getattr(row, c, None), int)}


def _rows(session: Session, statement: Any) -> list[dict[str, Any]]:
    return [_row(row) for row in session.exec(statement).all()]


def _row(row: SQLModel) -> dict[str, Any]:
    return row.model_dump(mode="json")
