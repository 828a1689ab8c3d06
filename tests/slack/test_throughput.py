"""Throughput by design: a delivery is written once and worked on without being read back,
and a turn reads its dialogue state once and stays within a budget of statements."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import event
from sqlmodel import col, select, update

from bot import inbox, server
from bot.context import Context
from bot.conversation import handle
from bot.messages import Turn
from bot.settings import Settings
from bot.store import Store
from bot.store.models import Campaign, InboxItem, Person, PointEvent, Referral
from tests.slack.conftest import PRIYA, PRIYA_DM, PRIYA_ID, SAM, SlackDriver, section_texts

# Statements a turn may make once the speaker has been welcomed (SQLite, sample firm).
WHO_DOES_BUDGET = 6  # read the state; write the question asked and the follow-up context
REFERRAL_SENTENCE_BUDGET = 7  # state; client (by name, alias), duplicates; the draft kept
# Confirm, worked out from a read first: the draft, then the receiver, the client (and its
# owner) and the card title in one statement, read once for the answer and the notices.
# Then the write: end the flow as it was read (a compare-and-set), look for a duplicate,
# insert the referral (its confirmation key settles a double press) and its event, an idea
# it came from, the campaign's points. Before: 12 (the receiver, the client and the card
# title read one by one).
CONFIRM_BUDGET = 10
CONFIRM_WRITE_BUDGET = 6  # before: all 13 of the turn's statements were in the write
# Accept: the referral, its client, card and people read; then the write moves it only as it
# was read (a compare-and-set), appends its event, the campaign's points.
ACCEPT_BUDGET = 8
ACCEPT_WRITE_BUDGET = 3  # before: all 7
# With a campaign running, on top: the campaign, then the reciprocal pair, the duplicate,
# the pair cap and every award's day count in one statement, and one insert for the
# event's awards (Confirm: the referrer's; Accept: the referrer's and the receiver's).
# Before: 5 and 7 (a statement per rule, a day count and an insert per award); before
# that 10 and 16.
CONFIRM_POINTS_BUDGET = 3
ACCEPT_POINTS_BUDGET = 3


@contextmanager
def statements(store: Store) -> Iterator[list[str]]:
    """Every SQL statement run on `store` inside the block: a read's BEGIN included, not a
    write's BEGIN IMMEDIATE on SQLite (sent to SQLite directly, `bot/store/_writers.py`)."""
    seen: list[str] = []

    def saw(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(store.engine, "before_cursor_execute", saw)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", saw)


def _in_write(seen: list[str]) -> list[str]:
    """The statements from the turn's first write on (its write transaction, on SQLite: a
    write's BEGIN IMMEDIATE is not seen, and everything after it joins the transaction)."""
    first = next((n for n, s in enumerate(seen) if _WRITE.match(s)), len(seen))
    return seen[first:]


_WRITE = re.compile(r"^(INSERT|UPDATE|DELETE)\b")


def _touching(seen: list[str], table: str) -> list[str]:
    return [s for s in seen if re.search(rf"\b{table}\b", s)]


async def test_a_dm_is_stored_once_and_worked_on_without_reading_it_back(
    slack: SlackDriver,
) -> None:
    with statements(slack.channel.ctx.store) as seen:
        status, _ = await slack.dm("who does employment law?")

    assert status == 200
    answers = [p for p in slack.fake.of("chat.postMessage") if p["channel"] == PRIYA_DM]
    assert answers and section_texts(answers[-1])
    inbox = _touching(seen, "inbox_item")
    writes = [s for s in inbox if not s.startswith("SELECT")]
    assert [s.split()[0] for s in writes] == ["INSERT", "UPDATE"]  # stored, then done
    assert "done_at" in writes[1]
    assert not [s for s in inbox if "inbox_item.body" in s]  # never read back
    assert not [s for s in _touching(seen, "inbox_sent") if s.startswith("SELECT")]
    with slack.channel.ctx.store.read() as session:
        [item] = session.exec(select(InboxItem))
    assert item.done_at is not None and item.attempts == 1


async def test_an_item_older_than_its_claim_allows_is_claimed_again(slack: SlackDriver) -> None:
    """Started long after it was stored, an item may have been taken over: the worker
    claims it (compare-and-set) before doing anything."""
    worker = slack.channel.worker
    old = worker.clock() - worker.lease
    store = slack.channel.ctx.store
    body = {"type": "event_callback", "event_id": "EvOld", "event": {"type": "message"}}
    received = inbox.receive(store, "slack", "event:EvOld", body, "elsewhere:1", now=old)
    assert received is not None and received.item is not None

    with statements(store) as seen:
        task = worker.submit(received.id, received.item)
        assert task is not None
        await task

    claims = [s for s in _touching(seen, "inbox_item") if s.startswith("UPDATE")]
    assert claims and "claimed_by" in claims[0]
    with store.read() as session:
        item = session.get(InboxItem, received.id)
    assert item is not None and item.claimed_by == worker.name and item.done_at is not None


async def test_a_persons_slack_id_is_read_once_per_process(slack: SlackDriver) -> None:
    """Posting to someone by email finds their Slack id in memory after the first time:
    whoever has written to the bot, and whoever's id the store knows."""
    store, messenger = slack.channel.ctx.store, slack.channel.default_messenger
    with store.write() as session:
        sam = session.exec(select(Person).where(Person.email == SAM)).one()
        sam.slack_id = "U0SAMSTORED"
        session.add(sam)
    await slack.dm("who does employment law?")  # Priya writes: her id is known from then

    with statements(store) as seen:
        ids = [await messenger.user_id_for(email) for email in (PRIYA, SAM, SAM, PRIYA)]

    assert ids == [PRIYA_ID, "U0SAMSTORED", "U0SAMSTORED", PRIYA_ID]
    assert len(_touching(seen, "person")) == 1  # Sam's, once
    assert not slack.fake.of("users.lookupByEmail")


@pytest.mark.parametrize("ms", [1.0, 0.5])
def test_the_server_lets_the_event_loop_in_every_switch_interval(
    ctx: Context, monkeypatch: pytest.MonkeyPatch, ms: float
) -> None:
    """Acks share the interpreter with turn threads: `serve` shortens the slice a thread
    holds it for to the setting, before it starts answering."""
    during: list[float] = []
    monkeypatch.setattr(web, "run_app", lambda *_a, **_k: during.append(sys.getswitchinterval()))
    before = sys.getswitchinterval()
    try:
        server.serve(Context(ctx.store, Settings(CROSSBOT_SWITCH_INTERVAL_MS=ms)))
    finally:
        sys.setswitchinterval(before)

    assert during == [pytest.approx(ms / 1000)]
    default = Settings.model_fields["switch_interval_ms"].default
    assert default < 1000 * before  # by default shorter than Python's own


def _steady(ctx: Context) -> Context:
    """A context whose content checks do not fall inside a measured turn."""
    return Context(ctx.store, ctx.settings, content_check_seconds=3600)


def _turn(
    ctx: Context,
    text: str = "",
    conversation: str = "slack:DTHROUGHPUT",
    person: str = PRIYA,
    **press: Any,
) -> list[str]:
    turn = Turn(person, conversation, text=text, platform="slack", is_direct=True, **press)
    with statements(ctx.store) as seen:
        handle(turn, ctx)
    return seen


def test_a_plain_sentence_reads_the_dialogue_state_once(ctx: Context) -> None:
    ctx = _steady(ctx)
    _turn(ctx, "hello")  # the welcome comes first
    _turn(ctx, "who does employment law?")  # leaves context for follow-ups

    seen = _turn(ctx, "who does tax?")

    reads = [s for s in _touching(seen, "dialogstate") if s.startswith("SELECT")]
    assert len(reads) == 1  # the flow and the follow-up context together


def test_turns_stay_within_their_statement_budget(ctx: Context) -> None:
    ctx = _steady(ctx)
    referral = "I referred Acme Logistics to Sam Patel for business tax"
    for text in ("hello", "who does employment law?", referral):  # welcome, content loaded
        _turn(ctx, text)

    who_does = _turn(ctx, "who does tax?")
    sentence = _turn(ctx, referral.replace("Acme Logistics", "Brightwater Foods"))

    assert len(who_does) <= WHO_DOES_BUDGET
    assert len(sentence) <= REFERRAL_SENTENCE_BUDGET


def test_an_item_in_hand_has_its_claim_renewed_with_the_others(ctx: Context) -> None:
    store = ctx.store
    ids = []
    for n in range(3):
        got = inbox.receive(store, "slack", f"event:EvHand{n}", {}, "me:1")
        assert got is not None
        ids.append(got.id)
    later = inbox.utcnow() + timedelta(seconds=30)

    with statements(store) as seen:
        held = inbox.renew(store, ids, "me:1", later)

    assert held == 3 and len([s for s in seen if s.startswith("UPDATE")]) == 1


def _confirm_and_accept(ctx: Context) -> tuple[list[str], list[str]]:
    """The statements of a referral's Confirm, then of its receiver's Accept."""
    ctx = _steady(ctx)
    referral = "I referred Acme Logistics to Sam Patel for business tax"
    for text in ("hello", "who does employment law?", referral):
        _turn(ctx, text)

    confirm = _turn(ctx, action="referral.confirm")
    with ctx.store.read() as session:
        [saved] = session.exec(select(Referral))
        receiver = session.get(Person, saved.receiver_id)
    assert receiver is not None
    _turn(ctx, "hello", "slack:DRECEIVER", receiver.email)  # the receiver's welcome first
    accept = _turn(
        ctx,
        conversation="slack:DRECEIVER",
        person=receiver.email,
        action="referral.accept",
        payload={"id": saved.id},
    )

    with ctx.store.read() as session:
        assert session.get(Referral, saved.id).status == "accepted"  # type: ignore[union-attr]
    return confirm, accept


def test_confirm_and_accept_stay_within_their_statement_budget(ctx: Context) -> None:
    confirm, accept = _confirm_and_accept(ctx)

    assert len(confirm) <= CONFIRM_BUDGET
    assert len(accept) <= ACCEPT_BUDGET
    # The write comes last and holds only the writes and what decides them.
    assert len(_in_write(confirm)) <= CONFIRM_WRITE_BUDGET
    assert len(_in_write(accept)) <= ACCEPT_WRITE_BUDGET
    # Each is read once, for the answer and every notice alike.
    for seen in (confirm, accept):
        assert len([s for s in seen if s.startswith("SELECT servicecard.")]) <= 1
        assert len([s for s in seen if s.startswith("SELECT client.")]) <= 1
    assert len([s for s in _touching(confirm, "dialogstate") if s.startswith("SELECT")]) == 1


def test_points_cost_confirm_and_accept_a_few_statements(ctx: Context, week: Campaign) -> None:
    confirm, accept = _confirm_and_accept(ctx)

    with ctx.store.read() as session:
        kinds = sorted(p.kind for p in session.exec(select(PointEvent)))
    assert kinds == ["accepted", "accepted", "logged"]  # the referrer's two, the receiver's
    assert len(confirm) <= CONFIRM_BUDGET + CONFIRM_POINTS_BUDGET
    assert len(accept) <= ACCEPT_BUDGET + ACCEPT_POINTS_BUDGET
    assert len(_in_write(confirm)) <= CONFIRM_WRITE_BUDGET + CONFIRM_POINTS_BUDGET
    assert len(_in_write(accept)) <= ACCEPT_WRITE_BUDGET + ACCEPT_POINTS_BUDGET
    # An award is one insert (its unique key settles a replay): no look-up, no savepoint.
    for seen in (confirm, accept):
        assert not [s for s in seen if "SAVEPOINT" in s or 'pointevent."key" =' in s]
        # The rules and the day's caps are read together, before the first award.
        checks = [s for s in seen if s.startswith("SELECT") and "count(pointevent.id)" in s]
        assert len(checks) == 1
        inserts = [n for n, s in enumerate(seen) if s.startswith("INSERT INTO pointevent")]
        assert len(inserts) == 1 and seen.index(checks[0]) < inserts[0]


def test_a_plain_sentence_reads_its_speaker_with_the_dialogue_state(ctx: Context) -> None:
    ctx = _steady(ctx)
    _turn(ctx, "hello")
    _turn(ctx, "who does employment law?")
    with ctx.store.write() as session:  # a write to people here: the speaker is read again
        session.connection().execute(
            update(Person).where(col(Person.email) == PRIYA).values(office=Person.office)
        )

    seen = _turn(ctx, "who does tax?")

    reads = seen[: len(seen) - len(_in_write(seen))]
    assert any(re.search(r"\bperson\b", s) for s in reads)  # not cached: read
    assert len([s for s in reads if s.startswith("BEGIN")]) == 1  # with the state, at once


def test_a_first_contact_checks_its_welcome_in_one_statement(ctx: Context) -> None:
    ctx.settings.nudge_welcome = True
    seen = _turn(_steady(ctx), "hello")  # the welcome, before the help

    reads = seen[: len(seen) - len(_in_write(seen))]
    checks = [s for s in reads if re.search(r"\b(nudge|servicecard)\b", s)]
    # Welcomed already (on any replica)? Has their team a card (what the welcome says)?
    assert len(checks) == 1 and "nudge" in checks[0] and "servicecard" in checks[0]
    assert any(s.startswith("INSERT INTO nudge") for s in seen)  # welcomed, once


def test_a_referral_sentence_reads_its_receiver_with_the_client(ctx: Context) -> None:
    ctx = _steady(ctx)
    referral = "I referred Acme Logistics to Sam Patel for business tax"
    for text in ("hello", "who does employment law?", referral.replace("Acme", "Blue Fin")):
        _turn(ctx, text)  # the welcome, the content loaded

    seen = _turn(ctx, referral)

    reads = [s for s in seen if re.search(r"\b(person|client)\b", s) and s.startswith("SELECT")]
    assert len(reads) == 1  # the receiver, the client and its owner: one statement
    assert re.search(r"\bclient\b", reads[0]) and "person_1.email" in reads[0]
