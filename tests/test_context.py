"""The per-process caches of `Context`: people looked up by email."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import select

from bot.context import Context
from bot.store.models import Person

SAM = "sam.patel@hartwellfinch.example"


def test_a_person_is_found_by_email_whatever_the_case(ctx: Context) -> None:
    person = ctx.person(" Sam.Patel@HartwellFinch.example ")
    assert person is not None and person.email == SAM
    assert ctx.person("nobody@hartwellfinch.example") is None


def test_each_lookup_gives_its_own_object(ctx: Context) -> None:
    first = ctx.person(SAM)
    assert first is not None
    first.role = "admin"  # a handler changing its copy changes nobody else's
    second = ctx.person(SAM)
    assert second is not None and second.role != "admin"


def test_a_change_through_the_orm_is_seen_at_once(ctx: Context) -> None:
    assert ctx.person(SAM) is not None
    with ctx.store.write() as session:
        person = session.exec(select(Person).where(Person.email == SAM)).one()
        person.active = False
        session.add(person)
    again = ctx.person(SAM)
    assert again is not None and not again.active


def test_a_change_through_a_bulk_statement_is_seen_at_once(ctx: Context) -> None:
    assert ctx.person(SAM) is not None
    with ctx.store.write() as session:
        session.execute(update(Person).where(Person.email == SAM).values(role="admin"))
    again = ctx.person(SAM)
    assert again is not None and again.is_admin


def test_a_cached_person_can_be_saved_in_a_session(ctx: Context) -> None:
    me = ctx.person(SAM)
    assert me is not None
    me.digest_opt_in = True
    with ctx.store.write() as session:
        session.add(me)  # detached, not new: an update, not a second Sam
    with ctx.store.read() as session:
        rows = session.exec(select(Person).where(Person.email == SAM)).all()
    assert len(rows) == 1 and rows[0].digest_opt_in
