"""The inbox's own SQL per item, counted: what a delivery costs from its signed request to
its done mark, on SQLite and (slow twin) on PostgreSQL. `benchmarks/inbox_statements.py`
prints the same counts for `load.py`'s cycle and under a burst."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.store.models import InboxItem, InboxSent
from tests.inbox_counts import counting
from tests.slack.conftest import PRIYA_DM, PRIYA_ID, SlackDriver, left_by_a_dead_process

pytestmark = pytest.mark.postgres
ASYNC = "SET LOCAL synchronous_commit = off"


async def _welcomed(slack: SlackDriver) -> None:
    await slack.dm("hello")
    await slack.dm("who does employment law?")


async def test_a_dm_answered_with_one_reply_commits_three_times(
    slack: SlackDriver, backend: str
) -> None:
    """The delivery (before the ack), the turn with its decision, the done mark with the
    DM post's record: four statements on the inbox's tables, nothing read back."""
    await _welcomed(slack)
    store = slack.channel.ctx.store

    with counting(store) as counts:
        await slack.dm("who does tax?")

    inbox = counts.kinds("inbox_")
    inbox.pop("SELECT inbox_item", None)  # the poller's look for due items, if it fell here
    assert inbox == Counter(
        {
            "INSERT inbox_item": 1,  # with its claim, RETURNING its id
            "INSERT inbox_decision": 1,  # in the turn's transaction
            "INSERT inbox_sent": 1,  # the DM post's record, with the done mark
            "UPDATE inbox_item": 1,  # done
        }
        | ({"SET": 1} if backend == "postgres" else {})  # that done mark, asynchronous
    )
    assert counts.writing_commits == 3
    assert not [s for s in counts.statements if "RETURNING inbox_decision" in s]
    assert not [s for s in counts.statements if "RETURNING inbox_sent" in s]
    assert [s for s in counts.statements if s.startswith("SET")] in ([], [ASYNC])


async def test_a_command_answered_through_its_response_url_commits_twice(
    slack: SlackDriver,
) -> None:
    """The answer is the item's last send: its record goes with the done mark, in one
    transaction that waits for the disk (an ephemeral answer has no key to find it by)."""
    await _welcomed(slack)
    store = slack.channel.ctx.store

    with counting(store) as counts:
        status, _ = await slack.command("/leaderboard")

    assert status == 200 and slack.fake.responses
    inbox = counts.kinds("inbox_")
    inbox.pop("SELECT inbox_item", None)
    assert inbox == Counter(
        {"INSERT inbox_item": 1, "INSERT inbox_sent": 1, "UPDATE inbox_item": 1}
    )
    assert counts.writing_commits == 2  # the delivery; the answer's record with the done mark
    with store.read() as session:
        item = session.exec(select(InboxItem).order_by(InboxItem.id.desc())).first()  # type: ignore[union-attr]
        assert item is not None
        assert set(session.exec(select(InboxSent.seq).where(InboxSent.item_id == item.id))) == {0}
        assert item.done_at is not None


def _stale(slack: SlackDriver, key: str) -> int:
    """An item a dead process claimed long ago, a DM that nothing was sent for."""
    body = slack.event_body(
        {"type": "message", "channel_type": "im", "channel": PRIYA_DM, "user": PRIYA_ID}
        | {"text": "who does tax?", "ts": "1700000100.000009"},
        key.removeprefix("event:"),
    )
    return left_by_a_dead_process(slack, body, key, claimed_ago=timedelta(hours=1))


async def test_a_resumed_item_is_claimed_and_read_in_one_transaction(slack: SlackDriver) -> None:
    """The claim returns the row (UPDATE ... RETURNING): only its send records are read."""
    await _welcomed(slack)
    store = slack.channel.ctx.store
    item_id = _stale(slack, "event:EvStaleOne")

    with counting(store) as counts:
        slack.channel.worker.submit(item_id)
        await slack.settle()

    inbox = [s for s in counts.statements if "inbox_item" in s or "inbox_sent" in s]
    claim, sent = inbox[0], inbox[1]
    assert claim.startswith("UPDATE inbox_item SET claimed_by") and "RETURNING" in claim
    assert sent.startswith("SELECT inbox_sent.seq")
    assert not [s for s in inbox if s.startswith("SELECT inbox_item")]
    with store.read() as session:
        item = session.get(InboxItem, item_id)
        assert item is not None and item.done_at is not None and item.attempts == 2


async def test_a_retry_takes_a_stale_copy_over_with_one_statement(slack: SlackDriver) -> None:
    """Slack sends a delivery again whose first attempt died: the insert meets the claim,
    and one compare-and-set by the delivery's key takes the item over (no read first)."""
    await _welcomed(slack)
    store = slack.channel.ctx.store
    item_id = _stale(slack, "event:EvRetried")

    with counting(store) as counts:
        received = await slack.channel.worker.receive("event:EvRetried", {})

    assert received is not None and received.id == item_id and received.item is None
    taken = [s for s in counts.statements if "inbox_item" in s and not s.startswith("INSERT")]
    assert len(taken) == 1 and taken[0].startswith("UPDATE inbox_item SET claimed_by")
