"""Dialogue state: where a multi-step flow is, per person and conversation, in the database.

Two kinds of row share the table: the one flow in progress (a referral draft, say), and
follow-up context (what the last who-does answer was about). Context lives in its own row
beside the flow, so answering a question never costs a draft in progress.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import Any

from sqlalchemy import bindparam, delete, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.expression import Executable
from sqlmodel import Session, col, select

from bot.store.models import DialogState, utcnow

# What a turn has read, while it lasts: a plain sentence reads its flow and its follow-up
# context in one query (`load_turn`), and a handler that recalls context then finds it here
# instead of asking the database again. Any write to a conversation's rows forgets them.
_Read = dict[tuple[int, str], dict[str, DialogState]]  # (person id, conversation) → rows
_read: ContextVar[_Read | None] = ContextVar("crossbot_dialog_state_read", default=None)


@contextmanager
def turn() -> Iterator[None]:
    """Rows read by `load_turn` inside this block are kept for it (one turn)."""
    token = _read.set({})
    try:
        yield
    finally:
        _read.reset(token)


# Built once (every plain sentence runs it), so SQLAlchemy doesn't rebuild it per turn.
_TURN_ROWS = select(DialogState).where(
    DialogState.person_id == bindparam("person"),
    or_(
        col(DialogState.conversation) == bindparam("conversation"),
        col(DialogState.conversation).like(bindparam("context"), escape="/"),
    ),
)
_LIKE_SPECIAL = re.compile(r"[/%_]")


def load_turn(session: Session, person_id: int, conversation: str) -> DialogState | None:
    """The flow in progress, read with every context row of the conversation (one query);
    inside `turn()`, `recall` then answers from what was read."""
    prefix = _LIKE_SPECIAL.sub(r"/\g<0>", _context_key(conversation, ""))
    params = {"person": person_id, "conversation": conversation, "context": f"{prefix}%"}
    rows = session.exec(_TURN_ROWS, params=params).all()
    found = {row.conversation: row for row in rows}
    read = _read.get()
    if read is not None:
        read[(person_id, conversation)] = found
    return found.get(conversation)


def _written(person_id: int, key: str) -> None:
    read = _read.get()
    if not read:
        return
    for person, conversation in list(read):
        if person == person_id and (key == conversation or key.startswith(f"{conversation}#")):
            del read[(person, conversation)]


# Built once, like `_TURN_ROWS`: every button of a flow reads its row.
_ROW = select(DialogState).where(
    DialogState.person_id == bindparam("person"),
    DialogState.conversation == bindparam("conversation"),
)


def load(session: Session, person_id: int, conversation: str) -> DialogState | None:
    params = {"person": person_id, "conversation": conversation}
    return session.exec(_ROW, params=params).first()


def save(
    session: Session,
    person_id: int,
    conversation: str,
    flow: str,
    step: str = "",
    data: dict[str, Any] | None = None,
) -> None:
    """Start or move a flow on (replacing any flow in progress in that conversation), in one
    statement where the database has an upsert: every who-does answer saves its context."""
    _written(person_id, conversation)
    values = {
        "person_id": person_id,
        "conversation": conversation,
        "flow": flow,
        "step": step,
        "data": dict(data or {}),  # a new object, so SQLAlchemy sees the JSON change
        "updated_at": utcnow(),
    }
    upsert = _upsert(session.get_bind().dialect.name)
    if upsert is None:
        _save_row(session, values)
    else:
        session.connection().execute(upsert, values)


def _save_row(session: Session, values: dict[str, Any]) -> None:
    """`save` through the ORM: the row changed, or a new one."""
    row = load(session, values["person_id"], values["conversation"])
    session.add(row.sqlmodel_update(values) if row else DialogState(**values))


def clear(session: Session, person_id: int, conversation: str) -> None:
    """End the flow in progress, if any (one statement)."""
    _written(person_id, conversation)
    session.execute(
        delete(DialogState).where(
            col(DialogState.person_id) == person_id, col(DialogState.conversation) == conversation
        )
    )


# A compare-and-set, built once: the row goes only if nothing saved over it since it was read.
_END_AS_READ = delete(DialogState).where(
    col(DialogState.id) == bindparam("row"),
    col(DialogState.updated_at) == bindparam("seen_at"),
)


def end_as_read(session: Session, row: DialogState) -> bool:
    """End the flow `row` (read earlier, on any session) if it is still as it was read;
    False when it is gone or moved on since (a second press, on any replica)."""
    _written(row.person_id, row.conversation)
    values = {"row": row.id, "seen_at": row.updated_at}
    return session.connection().execute(_END_AS_READ, values).rowcount == 1


@cache
def _upsert(dialect: str) -> Executable | None:
    """The upsert statement, built once (so SQLAlchemy compiles it once, too)."""
    if dialect not in ("sqlite", "postgresql"):
        return None
    insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
    statement = insert(DialogState.__table__)  # type: ignore[attr-defined]
    changed = {name: statement.excluded[name] for name in ("flow", "step", "data", "updated_at")}
    return statement.on_conflict_do_update(
        index_elements=["person_id", "conversation"], set_=changed
    )


def _context_key(conversation: str, topic: str) -> str:
    # A conversation key of its own, so the row never collides with the flow in progress.
    return f"{conversation}#{topic}"


def remember(
    session: Session, person_id: int, conversation: str, topic: str, data: dict[str, Any]
) -> None:
    """Keep what the last answer on `topic` was about, beside any flow in progress."""
    save(session, person_id, _context_key(conversation, topic), topic, data=data)


def recall(session: Session, person_id: int, conversation: str, topic: str) -> dict[str, Any]:
    """What `remember` kept for this topic ({} when nothing); no query when this turn
    has read it already (`load_turn`)."""
    key = _context_key(conversation, topic)
    read = (_read.get() or {}).get((person_id, conversation))
    row = read.get(key) if read is not None else load(session, person_id, key)
    return dict(row.data) if row is not None else {}


def forget(session: Session, person_id: int, conversation: str, topic: str) -> None:
    clear(session, person_id, _context_key(conversation, topic))
