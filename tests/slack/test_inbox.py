"""The durable inbox through the real Slack protocol: stored before the ack, 503 when the
store cannot take it, resumed after a crash, each post sent once, forms shared by replicas."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from sqlalchemy import text
from sqlmodel import select

from bot import inbox
from bot.channels import slack as slack_channel
from bot.context import Context
from bot.messages import Button, Form, FormInput, Reply
from bot.store.models import InboxItem, InboxSent
from tests.inbox_counts import counting
from tests.slack.conftest import (
    ADMIN_ID,
    PRIYA_DM,
    PRIYA_ID,
    SAM,
    SAM_ID,
    Probe,
    SlackDriver,
    action_buttons,
    left_by_a_dead_process,
    sign,
)
from tests.slack.payloads import dm_channel, dm_event

ADMIN_DM, SAM_DM = dm_channel(ADMIN_ID), dm_channel(SAM_ID)
POST = "chat.postMessage"


def _dm_body(slack: SlackDriver, text_: str, event_id: str) -> str:
    return slack.event_body(dm_event(text_, PRIYA_ID, 1), event_id)


async def _post_raw(slack: SlackDriver, body: str) -> int:
    headers = {"Content-Type": "application/json", **sign(body)}
    response = await slack.client.post("/slack/events", data=body, headers=headers)
    return response.status


def _items(slack: SlackDriver) -> list[InboxItem]:
    with slack.channel.ctx.store.read() as session:
        return list(session.exec(select(InboxItem).order_by(InboxItem.id)))  # type: ignore[arg-type]


def _read_only(slack: SlackDriver, on: bool) -> None:
    """The database refuses writes (as a full disk or a read-only replica would)."""
    raw = slack.channel.ctx.store.engine.raw_connection()  # the one in-memory connection
    try:
        raw.driver_connection.execute(f"PRAGMA query_only = {1 if on else 0}")
    finally:
        raw.close()


async def test_a_delivery_is_stored_before_it_is_acknowledged(slack: SlackDriver) -> None:
    status = await _post_raw(slack, _dm_body(slack, "who does TUPE?", "EvStored"))

    assert status == 200
    [item] = _items(slack)  # there when the ack arrived, before any answer was waited for
    assert item.key == "event:EvStored" and item.platform == "slack"
    await slack.settle()
    [item] = _items(slack)
    assert item.done_at is not None
    assert len(slack.fake.of("chat.postMessage")) == 1


async def test_when_the_store_cannot_write_slack_gets_503_then_the_retry_is_answered(
    slack: SlackDriver,
) -> None:
    body = _dm_body(slack, "who does TUPE?", "EvDown")
    _read_only(slack, True)
    try:
        status = await _post_raw(slack, body)
        await slack.settle()
    finally:
        _read_only(slack, False)

    assert status == 503  # Slack retries what it was not given a 2xx for
    assert slack.fake.of("chat.postMessage") == []
    assert _items(slack) == []  # nothing half-written

    assert await _post_raw(slack, body) == 200  # Slack's retry, once the store is back
    await slack.settle()
    assert len(slack.fake.of("chat.postMessage")) == 1
    assert [i.done_at is not None for i in _items(slack)] == [True]


async def test_a_command_is_refused_with_503_too_and_no_answer_is_lost(slack: SlackDriver) -> None:
    _read_only(slack, True)
    try:
        status, _ = await slack.command("/whodoes", "TUPE")
    finally:
        _read_only(slack, False)

    assert status == 503
    assert slack.fake.responses == []


async def test_work_left_unfinished_is_resumed_on_start(slack: SlackDriver) -> None:
    body = _dm_body(slack, "who does TUPE?", "EvLeft")
    left_by_a_dead_process(slack, body, "event:EvLeft", claimed_ago=None)

    assert await slack.channel.worker.resume() == 1
    await slack.settle()

    [posted] = slack.fake.of("chat.postMessage")
    assert posted["channel"] == PRIYA_DM
    assert _items(slack)[0].done_at is not None


async def test_a_stale_claim_is_taken_over_but_a_live_one_is_not(slack: SlackDriver) -> None:
    lease = slack.channel.worker.lease
    stale = left_by_a_dead_process(
        slack, _dm_body(slack, "who does TUPE?", "EvStale"), "event:EvStale", lease * 2
    )
    live = left_by_a_dead_process(
        slack, _dm_body(slack, "who does tax?", "EvLive"), "event:EvLive", lease / 4
    )

    await slack.channel.worker.resume()
    await slack.settle()

    done = {i.id: i.done_at is not None for i in _items(slack)}
    assert done == {stale: True, live: False}  # the live one is still someone's work
    assert len(slack.fake.of("chat.postMessage")) == 1


async def test_a_resumed_item_does_not_post_what_was_already_sent(slack: SlackDriver) -> None:
    body = _dm_body(slack, "who does TUPE?", "EvSent")
    item_id = left_by_a_dead_process(slack, body, "event:EvSent", claimed_ago=None)
    with slack.channel.ctx.store.write() as session:  # the answer went out before the crash
        session.add(InboxSent(item_id=item_id, seq=0))

    await slack.channel.worker.resume()
    await slack.settle()

    assert slack.fake.of("chat.postMessage") == []
    assert _items(slack)[0].done_at is not None


async def test_a_retry_of_a_finished_delivery_is_acknowledged_and_dropped(
    slack: SlackDriver,
) -> None:
    body = _dm_body(slack, "who does TUPE?", "EvTwice")
    assert await _post_raw(slack, body) == 200
    await slack.settle()
    assert await _post_raw(slack, body) == 200
    await slack.settle()

    assert len(slack.fake.of("chat.postMessage")) == 1
    assert len(_items(slack)) == 1


async def test_a_form_button_works_on_another_replica(
    slack: SlackDriver, probe: Probe, ctx: Context
) -> None:
    form = Form("Log a referral", "probe", [FormInput("client", "Client")])
    probe.replies = [Reply("Tell me about it", form=form), Reply("x", buttons=[Button("b", "x")])]
    await slack.dm("probe")
    [posted] = slack.fake.of("chat.postMessage")
    opener = next(
        e for e in action_buttons(posted) if e["action_id"].startswith(slack_blocks_open())
    )
    other = slack_channel.SlackChannel(slack.channel.ctx)  # a second process, same database
    assert other.stash.get(json.loads(opener["value"])["form"]) is not None

    await slack.press(opener["action_id"], opener["value"])

    [opened] = slack.fake.of("views.open")
    assert opened["view"]["title"]["text"] == "Log a referral"


def slack_blocks_open() -> str:
    from bot.channels.slack_blocks import OPEN_FORM_ACTION

    return OPEN_FORM_ACTION


async def test_the_pool_is_sized_to_the_store(ctx: Context) -> None:
    assert inbox.pool_size(ctx.store) == inbox.SQLITE_WORKERS
    assert inbox.pool_size(ctx.store, 7) == 7


async def test_shutdown_gives_back_what_never_started(slack: SlackDriver) -> None:
    worker = slack.channel.worker
    worker.concurrency = 1
    worker._slots = None
    ids = [
        left_by_a_dead_process(
            slack, _dm_body(slack, f"who does tax {n}?", f"EvQ{n}"), f"event:EvQ{n}", None
        )
        for n in range(3)
    ]
    for item_id in ids:
        inbox.claim(slack.channel.ctx.store, item_id, worker.name)
        worker.submit(item_id)
    await asyncio.sleep(0)  # the first takes the only slot; the others wait for it

    await worker.stop(timeout=30)

    with slack.channel.ctx.store.read() as session:
        rows = {r.id: r for r in session.exec(select(InboxItem))}
        raw = session.execute(text("select count(*) from inbox_item where done_at is null"))
        left = raw.scalar_one()
    finished = [i for i in ids if rows[i].done_at is not None]
    assert finished and left == len(ids) - len(finished)
    assert all(rows[i].claimed_by is None for i in ids if i not in finished)  # free for others


async def test_a_notice_held_up_in_slack_does_not_hold_up_the_next_answer(
    slack: SlackDriver, probe: Probe
) -> None:
    """Once the person who asked has their answer, the item's notices to others (paced,
    or slow) give back its place: with one place, the next person is still answered."""
    worker = slack.channel.worker
    worker.concurrency = 1
    worker._slots = None
    probe.replies = [Reply("noted"), Reply("heads up", to_person=SAM)]
    slack.fake.hold("chat.postMessage", nth=2)  # the notice to Sam: never answered
    try:
        assert await _post_raw(slack, _dm_body(slack, "probe", "EvHeld")) == 200
        await asyncio.wait_for(slack.fake.held.wait(), timeout=10)

        event = {"type": "message", "channel_type": "im", "channel": ADMIN_DM}
        event |= {"user": ADMIN_ID, "text": "probe", "ts": "1700000100.000002"}
        assert await _post_raw(slack, slack.event_body(event, "EvNext")) == 200
        for _ in range(500):
            if ADMIN_DM in [p["channel"] for p in slack.fake.of("chat.postMessage")]:
                break
            await asyncio.sleep(0.01)

        posts = [(c.params["channel"], c.status) for c in slack.fake.calls if c.method == POST]
        # Priya's answer; the notice to Sam, held; Alex's answer all the same
        assert posts[:3] == [(PRIYA_DM, 200), (SAM_DM, 0), (ADMIN_DM, 200)]
    finally:
        for task in list(worker._tasks):  # the held post would wait for ever
            task.cancel()
        await asyncio.gather(*worker._tasks, return_exceptions=True)


def _recorded(store: inbox.Store, item_id: int) -> set[int]:
    with store.read() as session:
        return set(session.exec(select(InboxSent.seq).where(InboxSent.item_id == item_id)))


async def _one_item(store: inbox.Store, process: object) -> int:
    worker = inbox.Worker(store, "test", process)  # type: ignore[arg-type]
    received = await worker.receive("delivery-1", {})
    assert received is not None
    await worker.submit(received.id, received.item)  # type: ignore[misc]
    await asyncio.to_thread(worker.writes.close)
    return received.id


def _keyed(findable: bool) -> inbox.Keyed:
    async def never_seen(_key: str, _since: object) -> bool:
        return False

    return inbox.Keyed(lambda key: {"key": key}, never_seen, findable=findable)


async def test_a_dm_post_is_recorded_with_the_item_done_and_a_channel_post_at_once() -> None:
    store = inbox.Store()
    recorded_during: list[set[int]] = []

    async def send(**_kwargs: object) -> None:
        return None

    async def process(item: InboxItem) -> None:
        await inbox.once(send, keyed=_keyed(findable=True))  # a DM: a resumed item finds it
        await inbox.once(send, keyed=_keyed(findable=False))  # a channel: it cannot
        await inbox.once(send)  # a response_url: no key at all
        await _until(lambda: 2 in _recorded(store, item.id or 0))  # any wait: recorded
        recorded_during.append(_recorded(store, item.id or 0))

    item_id = await _one_item(store, process)

    assert recorded_during == [{1, 2}]  # the DM post's record waits for the item's end
    assert _recorded(store, item_id) == {0, 1, 2}
    with store.read() as session:
        assert session.get(InboxItem, item_id).done_at is not None  # type: ignore[union-attr]


async def test_a_last_send_the_end_follows_at_once_is_recorded_with_the_done_mark() -> None:
    """A send's record starts when the item next waits for anything; when nothing is
    waited for before the item ends, the record goes in the done mark's transaction."""
    store = inbox.Store()
    recorded_during: list[set[int]] = []

    async def send(**_kwargs: object) -> None:
        return None

    async def process(item: InboxItem) -> None:
        await inbox.once(send)  # a response_url answer: recorded before the next send
        await inbox.once(send)  # the last: nothing follows but the item's end
        recorded_during.append(_recorded(store, item.id or 0))

    with counting(store) as counts:
        item_id = await _one_item(store, process)

    assert recorded_during == [{0}]
    assert _recorded(store, item_id) == {0, 1}
    with store.read() as session:
        assert session.get(InboxItem, item_id).done_at is not None  # type: ignore[union-attr]
    # the delivery; the first record; the last record with the done mark
    assert counts.writing_commits == 3


async def _until(done: Callable[[], bool]) -> None:
    for _ in range(1000):
        if done():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("never happened")


async def test_a_failed_item_keeps_its_dm_posts_recorded_for_the_retry() -> None:
    store = inbox.Store()
    sent: list[str] = []

    async def send(key: str) -> None:
        sent.append(key)

    async def process(_item: InboxItem) -> None:
        await inbox.once(send, keyed=_keyed(findable=True))
        raise RuntimeError("the turn failed after its answer went out")

    item_id = await _one_item(store, process)

    assert sent == [f"{item_id}:0"]
    assert _recorded(store, item_id) == {0}  # written with the release: the retry skips it
    with store.read() as session:
        item = session.get(InboxItem, item_id)
        assert item is not None and item.done_at is None and item.claimed_by is None


async def test_a_deferred_record_another_attempt_wrote_first_still_lets_the_item_finish() -> None:
    store = inbox.Store()

    async def send(**_kwargs: object) -> None:
        return None

    async def process(item: InboxItem) -> None:
        await inbox.once(send, keyed=_keyed(findable=True))
        with store.write() as session:  # an attempt that took the item over recorded it too
            session.add(InboxSent(item_id=item.id or 0, seq=0))

    item_id = await _one_item(store, process)

    assert _recorded(store, item_id) == {0}
    with store.read() as session:
        assert session.get(InboxItem, item_id).done_at is not None  # type: ignore[union-attr]
