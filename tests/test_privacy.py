"""Data-protection requests: export everything about a person; forget them."""

from __future__ import annotations

import json
from pathlib import Path

from sqlmodel import select

from bot.catalog import load_catalog, load_into
from bot.privacy import export_person, forget_person
from bot.seed import seed_activity
from bot.store import Store
from bot.store.models import Person, Referral, utcnow
from tests.conftest import SAMPLE_CONTENT
from tests.test_cli import crossbot


def seeded(store: Store) -> None:
    catalog = load_catalog(SAMPLE_CONTENT)
    with store.write() as session:
        load_into(session, catalog)
        seed_activity(session, catalog, utcnow())


def a_referrer(store: Store) -> Person:
    with store.read() as session:
        referral = session.exec(select(Referral)).first()
        assert referral is not None
        person = session.get(Person, referral.referrer_id)
        assert person is not None
        return person


def test_export_holds_the_person_and_their_referrals(store: Store) -> None:
    seeded(store)
    person = a_referrer(store)
    with store.read() as session:
        data = export_person(session, person.email.upper())
    assert data is not None
    assert data["person"]["email"] == person.email
    assert data["referrals"] and all(
        person.id in (r["referrer_id"], r["receiver_id"]) for r in data["referrals"]
    )
    json.dumps(data)  # JSON-ready


def test_forget_anonymises_but_keeps_the_records(store: Store) -> None:
    seeded(store)
    person = a_referrer(store)
    with store.write() as session:
        assert forget_person(session, person.email)
    with store.read() as session:
        row = session.get(Person, person.id)
        assert row is not None and not row.active
        assert person.name not in row.name and row.email.endswith("@invalid")
        assert session.exec(select(Referral).where(Referral.referrer_id == person.id)).all()
        assert export_person(session, person.email) is None
        assert not forget_person(session, "nobody@example.com")


def test_person_commands(tmp_path: Path) -> None:
    env = {"CROSSBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"}
    crossbot("load", str(SAMPLE_CONTENT), cwd=tmp_path, env=env)
    email = "priya.shah@hartwellfinch.example"
    exported = crossbot("person", "export", email, cwd=tmp_path, env=env)
    assert (
        exported.returncode == 0 and json.loads(exported.stdout)["person"]["name"] == "Priya Shah"
    )
    forgotten = crossbot("person", "forget", email, "--yes", cwd=tmp_path, env=env)
    assert forgotten.returncode == 0 and "anonymised" in forgotten.stdout
    again = crossbot("person", "export", email, cwd=tmp_path, env=env)
    assert again.returncode == 2 and "people.csv" in again.stderr
