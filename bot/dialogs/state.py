"""Dialogue state: where a multi-step flow is, per person and conversation, in the database.

Two kinds of row share the table: the one flow in progress (a referral draft, say), and
follow-up context (what the last who-does answer was about). Context lives in its own row
beside the flow, so answering a question never costs a draft in progress.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from bot.store.models import DialogState, utcnow


def load(session: Session, person_id: int, conversation: str) -> DialogState | None:
    return session.exec(
        select(DialogState).where(
            DialogState.person_id == person_id, DialogState.conversation == conversation
        )
    ).first()


def save(
    session: Session,
    person_id: int,
    conversation: str,
    flow: str,
    step: str = "",
    data: dict[str, Any] | None = None,
) -> DialogState:
    """Start or move a flow on (replacing any flow in progress in that conversation)."""
    state = load(session, person_id, conversation)
    if state is None:
        state = DialogState(person_id=person_id, conversation=conversation, flow=flow)
        session.add(state)
    state.flow, state.step = flow, step
    state.data = dict(data or {})  # a new object, so SQLAlchemy sees the JSON change
    state.updated_at = utcnow()
    return state


def clear(session: Session, person_id: int, conversation: str) -> None:
    state = load(session, person_id, conversation)
    if state is not None:
        session.delete(state)


def _context_key(conversation: str, topic: str) -> str:
    # A conversation key of its own, so the row never collides with the flow in progress.
    return f"{conversation}#{topic}"


def remember(
    session: Session, person_id: int, conversation: str, topic: str, data: dict[str, Any]
) -> None:
    """Keep what the last answer on `topic` was about, beside any flow in progress."""
    save(session, person_id, _context_key(conversation, topic), topic, data=data)


def recall(session: Session, person_id: int, conversation: str, topic: str) -> dict[str, Any]:
    """What `remember` kept for this topic ({} when nothing)."""
    row = load(session, person_id, _context_key(conversation, topic))
    return dict(row.data) if row is not None else {}


def forget(session: Session, person_id: int, conversation: str, topic: str) -> None:
    clear(session, person_id, _context_key(conversation, topic))
