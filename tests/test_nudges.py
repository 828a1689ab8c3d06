"""Nudges: the right reminder to the right person, once, within a weekly budget."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from bot import jobs, nudges
from bot.catalog import load_catalog, load_into
from bot.context import Context
from bot.store import Store
from bot.store.models import Nudge, ServiceCard
from tests import factories
from tests.conftest import SAMPLE_CONTENT, RecordingMessenger, frozen_clock

NOW = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)
SAM = "sam.patel@hartwellfinch.example"
PRIYA = "priya.shah@hartwellfinch.example"
JAMES = "james.thornton@hartwellfinch.example"
POLICY = nudges.Policy(follow_up_days=5, stale_days=21, card_review_months=12, weekly_budget=3)
CLIENTS = [
    "Northwind Foods Ltd",
    "Acme Logistics plc",
    "Blue Fin Hotels",
    "Pennine Dairies Ltd",
    "Kestrel Retail Group plc",
]


clock = frozen_clock(NOW, autouse=True)


@pytest.fixture
def fresh_cards(ctx: Context) -> Context:
    """Every card reviewed recently, so only referral nudges are due unless a test says so."""
    with ctx.store.write() as session:
        for card in session.exec(select(ServiceCard)):
            card.updated = date(2026, 10, 1)
            session.add(card)
    return ctx


def _plan(ctx: Context, now: datetime = NOW) -> list[nudges.NudgeItem]:
    with ctx.store.write() as session:
        items = nudges.plan(session, now, POLICY)
        nudges.record(session, items, now)
    return items


def test_a_received_referral_sitting_new_gets_one_follow_up(fresh_cards: Context):
    with fresh_cards.store.write() as session:
        factories.referral(session, CLIENTS[0], SAM, PRIYA, NOW - timedelta(days=6))
        factories.referral(session, CLIENTS[1], SAM, PRIYA, NOW - timedelta(days=2))  # too soon
    [item] = _plan(fresh_cards)
    assert (item.kind, item.email) == ("follow_up", PRIYA)
    assert item.data["client"] == CLIENTS[0] and item.data["referrer"] == "Sam Patel"
    reply = nudges.reply(item)
    assert reply.to_person == PRIYA and "accept or decline" in reply.text
    # Never twice, even days later (when the second one has become due).
    later = _plan(fresh_cards, NOW + timedelta(days=3))
    assert [i.data["client"] for i in later] == [CLIENTS[1]]
    assert _plan(fresh_cards, NOW + timedelta(days=6)) == []


def test_stalled_meetings_get_a_close_the_loop_nudge(fresh_cards: Context):
    with fresh_cards.store.write() as session:
        factories.referral(session, CLIENTS[0], SAM, PRIYA, NOW - timedelta(days=30), "meeting")
        factories.referral(session, CLIENTS[1], SAM, PRIYA, NOW - timedelta(days=10), "proposal")
    [item] = _plan(fresh_cards)
    assert item.kind == "close_loop" and item.data["status"] == "meeting"
    assert "Won, lost or still going" in nudges.reply(item).text


def test_a_card_not_reviewed_for_a_year_nudges_its_main_contact(ctx: Context):
    with ctx.store.write() as session:
        for card in session.exec(select(ServiceCard)):
            card.updated = date(2026, 10, 1) if card.id != "employment" else date(2025, 9, 1)
            session.add(card)
    [item] = _plan(ctx)
    assert (item.kind, item.subject, item.email) == ("card_review", "employment", PRIYA)
    reply = nudges.reply(item)
    assert "September 2025" in reply.text and reply.buttons[0].action == "card.show"


def test_each_person_has_a_weekly_budget(fresh_cards: Context):
    with fresh_cards.store.write() as session:
        for n, client in enumerate(CLIENTS):
            factories.referral(session, client, SAM, PRIYA, NOW - timedelta(days=10 + n))
    first = _plan(fresh_cards)
    assert len(first) == 3 and {i.email for i in first} == {PRIYA}
    # The oldest go first.
    assert [i.data["client"] for i in first] == CLIENTS[::-1][:3]
    assert _plan(fresh_cards, NOW + timedelta(days=2)) == []  # budget spent this week
    later = _plan(fresh_cards, NOW + timedelta(days=8))
    assert [i.data["client"] for i in later] == CLIENTS[1::-1]  # the rest, once each


def test_a_referral_that_moves_on_and_stalls_again_can_be_nudged_again(fresh_cards: Context):
    with fresh_cards.store.write() as session:
        referral = factories.referral(session, CLIENTS[0], SAM, PRIYA, NOW - timedelta(days=6))
    assert len(_plan(fresh_cards)) == 1
    with fresh_cards.store.write() as session:
        referral.status, referral.updated_at = "accepted", NOW
        session.add(referral)
    assert _plan(fresh_cards, NOW + timedelta(days=3)) == []
    assert [i.kind for i in _plan(fresh_cards, NOW + timedelta(days=8))] == ["follow_up"]


async def test_send_nudges_through_the_messenger(fresh_cards: Context):
    with fresh_cards.store.write() as session:
        factories.referral(session, CLIENTS[0], SAM, PRIYA, NOW - timedelta(days=6))
        factories.referral(session, CLIENTS[1], PRIYA, JAMES, NOW - timedelta(days=6))
    messenger = RecordingMessenger(unreachable={JAMES})
    result = await jobs.send_nudges(fresh_cards, messenger, NOW)
    assert result == {"sent": 1, "unreachable": 1}
    assert [email for email, _ in messenger.dms] == [PRIYA]
    # Neither is sent again; the undelivered one does not use up James's budget.
    assert (await jobs.send_nudges(fresh_cards, RecordingMessenger(), NOW))["sent"] == 0
    with fresh_cards.store.read() as session:
        rows = {n.person_id: n.sent_at for n in session.exec(select(Nudge))}
        james = factories.person(session, JAMES)
    assert rows[james.id] is None


def test_cli_preview_sends_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from bot.cli import app
    from bot.settings import get_settings

    url = f"sqlite:///{tmp_path / 'crossbot.db'}"
    store = Store(url)
    with store.write() as session:
        load_into(session, load_catalog(SAMPLE_CONTENT))
        factories.referral(session, CLIENTS[0], SAM, PRIYA, NOW - timedelta(days=6))
    monkeypatch.setenv("CROSSBOT_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["nudges", "--preview"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "Priya Shah: follow up (referral #1)" in result.output
    assert CLIENTS[0] not in result.output
    with store.read() as session:
        assert session.exec(select(Nudge)).all() == []
    store.dispose()


def test_no_follow_up_while_the_owner_has_not_said_go(fresh_cards: Context):
    with fresh_cards.store.write() as session:
        referral = factories.referral(session, CLIENTS[0], SAM, PRIYA, NOW - timedelta(days=6))
        referral.consent = "pending"
        session.add(referral)
    assert _plan(fresh_cards) == []
