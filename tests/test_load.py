"""Loading a content folder: all or nothing, and reloads that update in place."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from bot.catalog import load_catalog, load_into
from bot.store import Store
from bot.store.models import Client, Person, Referral, ServiceCard
from tests.firm import copy_sample, drop_card, drop_person, edit


def load(store: Store, folder: Path):
    with store.write() as session:
        return load_into(session, load_catalog(folder))


def test_first_load_adds_everything(store: Store, tmp_path: Path) -> None:
    folder = copy_sample(tmp_path)
    summary = load(store, folder)
    catalog = load_catalog(folder)
    assert summary.added == {
        "people": len(catalog.people),
        "cards": len(catalog.cards),
        "clients": len(catalog.clients),
    }
    assert load(store, folder).added == {}  # a second load changes nothing


def test_reload_updates_retires_and_deactivates(store: Store, tmp_path: Path) -> None:
    folder = copy_sample(tmp_path)
    load(store, folder)
    with store.write() as session:
        priya = session.exec(select(Person).where(Person.name == "Priya Shah")).one()
        owen = session.exec(select(Person).where(Person.name == "Owen Gallagher")).one()
        client = session.exec(select(Client)).first()
        assert client and priya.id and owen.id and client.id
        session.add(
            Referral(
                client_id=client.id,
                referrer_id=owen.id,
                receiver_id=priya.id,
                card_id="vat-customs",
            )
        )

    edit(folder / "cards" / "employment.md", "title: Employment law", "title: Employment & HR law")
    drop_card(folder, "vat-customs")
    drop_person(folder, "owen.gallagher@hartwellfinch.example")
    summary = load(store, folder)

    assert summary.updated.get("cards") == 2  # the edited title, and a card Owen co-owned
    assert summary.retired.get("cards") == 1
    assert summary.retired.get("people") == 1
    with store.read() as session:
        assert session.get(ServiceCard, "employment").title == "Employment & HR law"
        assert session.get(ServiceCard, "vat-customs").retired
        owen = session.exec(select(Person).where(Person.name == "Owen Gallagher")).one()
        assert not owen.active
        # The referral that points at the retired card and the person who left is untouched.
        referral = session.exec(select(Referral)).one()
        assert referral.card_id == "vat-customs" and referral.referrer_id == owen.id


def test_retired_card_is_no_longer_answered(ctx, tmp_path: Path) -> None:
    folder = copy_sample(tmp_path)
    drop_card(folder, "employment")
    load(ctx.store, folder)
    ctx.refresh()  # a running server notices within content_check_seconds
    assert ctx.catalog().card("employment") is None


def test_platform_ids_learnt_at_first_contact_survive_reload(store: Store, tmp_path: Path) -> None:
    folder = copy_sample(tmp_path)
    load(store, folder)
    with store.write() as session:
        owen = session.exec(select(Person).where(Person.name == "Owen Gallagher")).one()
        owen.slack_id = "U0OWEN"
    load(store, folder)
    with store.read() as session:
        owen = session.exec(select(Person).where(Person.name == "Owen Gallagher")).one()
        assert owen.slack_id == "U0OWEN"
