"""Data-protection requests: everything held about a person, and forgetting them.

Forgetting anonymises rather than deletes: referrals, stories and points are the firm's
records and other people's history, so they stay, but nothing in them names the person.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, SQLModel, col, delete, or_, select

from bot.people import by_email
from bot.store.models import (
    AskedQuestion,
    ConversationRef,
    DialogState,
    Idea,
    IdeaVote,
    Nudge,
    PointEvent,
    Referral,
    ReferralEvent,
    Story,
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


def forget_person(session: Session, email: str) -> bool:
    """Anonymise a person in place; False if nobody has that email."""
    person = by_email(session, email)
    if person is None or person.id is None:
        return False
    pid = person.id
    person.email = f"forgotten-{pid}@invalid"
    person.name = f"Former colleague {pid}"
    person.title = person.office = ""
    person.slack_id = person.teams_id = None
    person.active = False
    person.digest_opt_in = person.leaderboard_opt_in = False
    session.add(person)
    session.exec(delete(DialogState).where(col(DialogState.person_id) == pid))  # type: ignore[call-overload]
    session.exec(delete(ConversationRef).where(col(ConversationRef.person_id) == pid))  # type: ignore[call-overload]
    # Their who-does questions are their words: gone, not anonymised (aliases learned stay).
    session.exec(delete(AskedQuestion).where(col(AskedQuestion.asker_id) == pid))  # type: ignore[call-overload]
    return True


def _rows(session: Session, statement: Any) -> list[dict[str, Any]]:
    return [_row(row) for row in session.exec(statement).all()]


def _row(row: SQLModel) -> dict[str, Any]:
    return row.model_dump(mode="json")
