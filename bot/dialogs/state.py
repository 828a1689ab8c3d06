"""Dialogue state: where a multi-step flow is, per person and conversation, in the database."""

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
