"""Looking people up: by email, platform id, name; who the admins are, and who owns a
client."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam
from sqlmodel import Session, col, select

from bot.store import detached
from bot.store.models import Client, Person

# Built once: every turn looks a person up, and SQLAlchemy then reuses its compiled form
# without working out the statement's cache key again.
_BY_EMAIL = select(Person).where(Person.email == bindparam("email"))


_PERSON_TABLE = Person.__table__  # type: ignore[attr-defined]
# The columns alone (Core): no object, identity map or ORM loading for a look-up whose
# values are only copied (`Context.person`'s cache).
_VALUES_BY_EMAIL = _PERSON_TABLE.select().where(_PERSON_TABLE.c.email == bindparam("email"))


def by_email(session: Session, email: str) -> Person | None:
    return session.exec(_BY_EMAIL, params={"email": email.strip().lower()}).first()


def values_by_email(session: Session, email: str) -> dict[str, Any] | None:
    """The person's columns by name (as `Person.model_dump` has them), or None."""
    connection = session.connection()
    row = connection.execute(_VALUES_BY_EMAIL, {"email": email.strip().lower()}).first()
    return None if row is None else dict(row._mapping)


@cache
def _column_by(wanted: str, key: str) -> Select[Any]:
    table = _PERSON_TABLE
    return select(table.c[wanted]).where(table.c[key] == bindparam("key"))


def column_by(session: Session, wanted: str, key: str, value: str) -> Any:
    """One column of the (first) person whose `key` column is `value`, or None: a Core read
    of that column alone, its statement built once, for look-ups that copy one value (the
    Slack directory's emails and ids)."""
    statement = _column_by(wanted, key)
    return session.connection().execute(statement, {"key": value}).scalar()


def by_platform_id(session: Session, platform: str, user_id: str) -> Person | None:
    column = Person.slack_id if platform == "slack" else Person.teams_id
    return session.exec(select(Person).where(column == user_id)).first()


def remember_platform_id(session: Session, person: Person, platform: str, user_id: str) -> None:
    """Cache a platform id learnt at first contact, so the next lookup is direct."""
    if platform == "slack" and person.slack_id != user_id:
        person.slack_id = user_id
        session.add(person)
    elif platform == "teams" and person.teams_id != user_id:
        person.teams_id = user_id
        session.add(person)


def admins(session: Session) -> list[Person]:
    return list(
        session.exec(
            select(Person).where(Person.role == "admin", Person.active).order_by(col(Person.name))
        )
    )


_BY_IDS = _PERSON_TABLE.select().where(_PERSON_TABLE.c.id.in_(bindparam("ids", expanding=True)))


def by_ids(session: Session, ids: set[int]) -> dict[int, Person]:
    """The people with these ids, by id: detached rows to read, built from their columns
    (Core), without the ORM's loading; change a person through `by_email` instead."""
    if not ids:
        return {}
    rows = session.connection().execute(_BY_IDS, {"ids": sorted(ids)})
    people = (detached(Person, dict(row._mapping)) for row in rows)
    return {p.id: p for p in people if p.id}


def owner_of_client(session: Session, client: Client | None) -> Person | None:
    """The client's relationship owner (None: no client, or one nobody owns)."""
    return session.get(Person, client.owner_id) if client and client.owner_id else None
