"""Data-protection requests: export everything about a person; forget them."""

from __future__ import annotations

import json
from pathlib import Path

from sqlmodel import select

from bot.catalog import load_catalog, load_into
from bot.privacy import export_person, forget_person
from bot.seed import seed_activity
from bot.store import Store
from bot.store.models import Idea, Person, Referral, ReferralEvent, Story, utcnow
from tests import factories
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


PRIYA = "priya.shah@hartwellfinch.example"
SAM_P = "sam.patel@hartwellfinch.example"  # another Sam works in Real Estate
SAM_W = "sam.whitaker@hartwellfinch.example"


def _free_text(store: Store) -> tuple[int, int, int, int]:
    """A story, a referral (note + event note) and an idea that mention people by name."""
    with store.write() as session:
        priya, sam, other_sam = (
            session.exec(select(Person).where(Person.email == e)).one()
            for e in (PRIYA, SAM_P, SAM_W)
        )
        referral = factories.referral(session, "Northwind Foods Ltd", SAM_P, PRIYA, utcnow())
        referral.note = "Priya Shah knows the FD; ask priya shah first. Sam will join."
        referral.reason = "Priya was away"
        event0 = ReferralEvent(
            referral_id=referral.id, to_status="new", note=f"Mail {PRIYA.upper()} for the file"
        )
        referral.reason = "Priya was away"
        event = ReferralEvent(
            referral_id=referral.id, actor_id=priya.id, to_status="accepted", note="Priya took it"
        )
        story = Story(
            author_id=sam.id,
            title="Sam and Priya win together",
            body="Sam Patel spotted it; Priya Shah fixed it. Sam Whitaker helped.",
        )
        idea = Idea(author_id=other_sam.id, text="Ask Priya about Sam's client")
        session.add_all([referral, event0, event, story, idea])
        session.flush()
        return referral.id, event.id, story.id, idea.id  # type: ignore[return-value]


def test_forget_replaces_the_name_in_free_text_and_counts_the_changes(store: Store) -> None:
    seeded(store)
    referral_id, event_id, story_id, idea_id = _free_text(store)
    with store.write() as session:
        result = forget_person(session, PRIYA)
    assert result and result.changed == {
        "referral notes": 1,
        "referral reasons": 1,
        "referral event notes": 2,
        "story titles": 1,
        "story texts": 1,
        "idea texts": 1,
    }
    with store.read() as session:
        row = session.exec(select(Person).where(Person.name.startswith("Former"))).one()  # type: ignore[attr-defined]
        referral = session.get(Referral, referral_id)
        event = session.get(ReferralEvent, event_id)
        story = session.get(Story, story_id)
        idea = session.get(Idea, idea_id)
        assert referral and event and story and idea
        notes = session.exec(select(ReferralEvent.note).where(ReferralEvent.note != "")).all()
        texts = [referral.note, referral.reason, *notes, story.title, story.body, idea.text]
        assert not any("priya" in t.lower() for t in texts), texts
        assert f"Mail {row.name} for the file" in notes
        assert referral.note == f"{row.name} knows the FD; ask {row.name} first. Sam will join."
        assert story.title == f"Sam and {row.name} win together"


def test_forget_leaves_an_ambiguous_first_name(store: Store) -> None:
    seeded(store)
    referral_id, _, story_id, idea_id = _free_text(store)
    with store.write() as session:
        result = forget_person(session, SAM_P)
    assert result
    with store.read() as session:
        row = session.exec(select(Person).where(Person.name.startswith("Former"))).one()  # type: ignore[attr-defined]
        story = session.get(Story, story_id)
        idea = session.get(Idea, idea_id)
        assert story and idea
        # Sam Patel wrote the story and the other Sam is named in full there: only the full
        # name is certain. The idea is Sam Whitaker's: "Sam" there may be either of them.
        assert story.body == f"{row.name} spotted it; Priya Shah fixed it. Sam Whitaker helped."
        assert story.title == "Sam and Priya win together"
        assert idea.text == "Ask Priya about Sam's client"


def _forget_db(tmp_path: Path) -> dict[str, str]:
    env = {"CROSSBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"}
    crossbot("load", str(SAMPLE_CONTENT), cwd=tmp_path, env=env)
    return env


def test_forget_asks_first_and_piped_no_or_nothing_changes_nothing(tmp_path: Path) -> None:
    env = _forget_db(tmp_path)
    for answer in ("n\n", ""):
        refused = crossbot("person", "forget", PRIYA, cwd=tmp_path, env=env, stdin=answer)
        assert refused.returncode == 1, refused.stdout
        assert "Traceback" not in refused.stderr and "nothing was changed" in refused.stdout
        still = crossbot("person", "export", PRIYA, cwd=tmp_path, env=env)
        assert still.returncode == 0 and json.loads(still.stdout)["person"]["name"] == "Priya Shah"
    agreed = crossbot("person", "forget", PRIYA, cwd=tmp_path, env=env, stdin="y\n")
    assert agreed.returncode == 0 and "anonymised" in agreed.stdout


def test_forget_prints_what_it_changed_without_contents(tmp_path: Path) -> None:
    env = _forget_db(tmp_path)
    store = Store(env["CROSSBOT_DATABASE_URL"])
    _free_text(store)
    store.dispose()
    done = crossbot("person", "forget", PRIYA, "--yes", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert "story texts: 1" in done.stdout and "referral notes: 1" in done.stdout
    assert "knows the FD" not in done.stdout + done.stderr
