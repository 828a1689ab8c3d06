"""Replicas on one PostgreSQL, as a firm runs them: two `crossbot serve` processes behind
a load balancer, signed Slack requests to both, the fake Slack Web API for their posts.

Nothing lost (SIGKILL during a burst, the database refusing writes), nothing doubled (the
same event to both, double and triple presses): `pytest -m slow`, with
CROSSBOT_TEST_POSTGRES_URL set (as `.ci/run` does).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from itertools import count
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, text
from sqlmodel import select

from bot.channels.slack_blocks import action_id
from bot.store import Store
from bot.store.models import InboxItem, PointEvent, Referral, ReferralEvent
from tests.conftest import REPO, SAMPLE_CONTENT, free_port, load_sample
from tests.postgres import reset_postgres
from tests.slack.conftest import (
    PRIYA,
    PRIYA_ID,
    SECRET,
    TOKEN,
    action_buttons,
    sign,
)
from tests.slack.fake_slack import FakeSlack
from tests.slack.payloads import (
    button_payload,
    dm_channel,
    dm_event,
    event_envelope,
    interaction_body,
)

pytestmark = pytest.mark.slow
URL = os.environ.get("CROSSBOT_TEST_POSTGRES_URL", "")
LEASE_SECONDS = 3
# Referrers with Slack ids in the sample firm, and a client each (none of them Priya's).
REFERRERS = {
    "U05JTH3M8RL": ("james.thornton@hartwellfinch.example", "Acme"),
    "U06SPT9Q1VA": ("sam.patel@hartwellfinch.example", "Northwind"),
    "U08SWH1L3ZP": ("sam.whitaker@hartwellfinch.example", "Blue Fin Hotels"),
    "U03CAS2N7WB": ("catherine.ashby@hartwellfinch.example", "Pennine Dairies"),
    "U07NPR4D6KE": ("natalie.price@hartwellfinch.example", "Severn Software"),
    "U02AMG8X5TC": ("alex.morgan@hartwellfinch.example", "Kestrel Retail"),
}
STRANGERS = {f"UBURST{n:02d}": f"burst{n}@elsewhere.example" for n in range(30)}


@pytest.fixture
def pg() -> Iterator[Store]:
    if not URL:
        pytest.skip("set CROSSBOT_TEST_POSTGRES_URL to a scratch PostgreSQL database")
    store = load_sample(Store(reset_postgres(URL)))
    yield store
    store.dispose()


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    users = {PRIYA_ID: PRIYA, **{u: e for u, (e, _) in REFERRERS.items()}, **STRANGERS}
    server = FakeSlack(users=users)
    await server.start()
    yield server
    await server.stop()


@dataclass
class Replica:
    """One `crossbot serve` process."""

    port: int
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1"]
        self.process = subprocess.Popen(
            [*command, "--port", str(self.port)],
            env=self.env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    async def ready(self, http: aiohttp.ClientSession) -> None:
        async def up() -> bool:
            try:
                async with http.get(f"{self.url}/healthz") as response:
                    return response.status == 200
            except aiohttp.ClientError:
                return False

        await until(up, timeout=60)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 60) -> None:
    """Wait for another process to get somewhere (it runs on its own clock)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        assert loop.time() < deadline, "the replicas did not get there in time"
        await asyncio.sleep(0.05)


@dataclass
class Cluster:
    """Replicas on one database and one fake Slack; signed requests to any of them."""

    replicas: list[Replica]
    fake: FakeSlack
    store: Store
    http: aiohttp.ClientSession
    _ids: count[int] = field(default_factory=lambda: count(1))

    async def post(self, replica: int, body: str, content_type: str) -> int:
        headers = {"Content-Type": content_type, **sign(body)}
        url = f"{self.replicas[replica].url}/slack/events"
        async with self.http.post(url, data=body, headers=headers) as response:
            return response.status

    def dm_body(self, user: str, words: str) -> str:
        n = next(self._ids)
        return event_envelope(dm_event(words, user, n), f"EvR{n:05d}", n)

    def press_body(self, user: str, action: str, value: dict[str, Any]) -> str:
        n = next(self._ids)
        payload = button_payload(
            action, value, user, f"trigger.r{n}", self.fake.response_url(f"r{n}")
        )
        return interaction_body(payload)

    async def settled(self) -> None:
        """Every stored delivery processed."""

        async def done() -> bool:
            return await asyncio.to_thread(self.pending) == 0

        await until(done)

    def pending(self) -> int:
        with self.store.read() as session:
            return int(
                session.exec(
                    select(func.count()).select_from(InboxItem).where(InboxItem.done_at == None)  # noqa: E711
                ).one()
            )

    def posts_to(self, channel: str) -> list[dict[str, Any]]:
        return [p for p in self.fake.of("chat.postMessage") if p.get("channel") == channel]


def _action(element: dict[str, Any]) -> str:
    return action_id(str(element["action_id"]))


@pytest.fixture
async def cluster(pg: Store, fake: FakeSlack) -> AsyncIterator[Cluster]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CROSSBOT_"))},
        "PYTHONPATH": str(REPO),
        "CROSSBOT_DATABASE_URL": URL,
        "CROSSBOT_CONTENT_DIR": str(SAMPLE_CONTENT),
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_BOT_TOKEN": TOKEN,
        "CROSSBOT_SLACK_API_URL": fake.api_url,
        "CROSSBOT_INBOX_LEASE_SECONDS": str(LEASE_SECONDS),
        "CROSSBOT_INBOX_POLL_SECONDS": "0.2",
    }
    replicas = [Replica(free_port(), env) for _ in range(2)]
    async with aiohttp.ClientSession() as http:
        for replica in replicas:
            replica.start()
        try:
            for replica in replicas:
                await replica.ready(http)
            yield Cluster(replicas, fake, pg, http)
        finally:
            for replica in replicas:
                replica.stop()


async def test_the_same_event_to_both_replicas_is_answered_once(cluster: Cluster) -> None:
    body = cluster.dm_body(PRIYA_ID, "who does TUPE?")

    statuses = await asyncio.gather(*(cluster.post(r, body, "application/json") for r in (0, 1)))
    await cluster.settled()

    assert statuses == [200, 200]
    assert len(cluster.posts_to(dm_channel(PRIYA_ID))) == 1


async def test_a_burst_of_referrals_and_repeated_presses_change_everything_once(
    cluster: Cluster,
) -> None:
    form = "application/x-www-form-urlencoded"
    sentences = [
        cluster.post(
            n % 2,
            cluster.dm_body(user, f"I've introduced {client} to Priya for TUPE"),
            "application/json",
        )
        for n, (user, (_, client)) in enumerate(REFERRERS.items())
    ]
    assert set(await asyncio.gather(*sentences)) == {200}
    await cluster.settled()
    presses = []
    for user in REFERRERS:
        posted = cluster.posts_to(dm_channel(user))
        prompts = [p for p in posted if action_buttons(p)]
        # Seen flaky on a loaded machine (a referrer without a Confirm prompt once every
        # few runs): say what the referrer did receive, to find the cause next time.
        assert len(prompts) == 1, [p.get("text") for p in posted]
        [prompt] = prompts
        [confirm] = [b for b in action_buttons(prompt) if _action(b) == "referral.confirm"]
        value = json.loads(confirm["value"])
        body = cluster.press_body(user, confirm["action_id"], value)
        again = cluster.press_body(user, confirm["action_id"], value)  # a second press
        presses += [cluster.post(0, body, form), cluster.post(1, body, form)]  # one, twice
        presses.append(cluster.post(1, again, form))
    assert set(await asyncio.gather(*presses)) == {200}
    await cluster.settled()

    with cluster.store.read() as session:
        made = session.exec(select(Referral)).all()
        events = session.exec(select(ReferralEvent)).all()
    assert len(made) == len(REFERRERS)  # three presses each, one referral each
    assert len(events) == len(REFERRERS)
    notices = [p for p in cluster.posts_to(dm_channel(PRIYA_ID)) if action_buttons(p)]
    assert len(notices) == len(REFERRERS)  # the receiver heard of each once

    accepts = []
    for notice in notices:
        [accept] = [b for b in action_buttons(notice) if _action(b) == "referral.accept"]
        value = json.loads(accept["value"])
        for replica in (0, 1, 1):
            body = cluster.press_body(PRIYA_ID, accept["action_id"], value)
            accepts.append(cluster.post(replica, body, form))
    assert set(await asyncio.gather(*accepts)) == {200}
    await cluster.settled()

    with cluster.store.read() as session:
        accepted = session.exec(
            select(ReferralEvent).where(ReferralEvent.to_status == "accepted")
        ).all()
        points = session.exec(select(PointEvent)).all()
        statuses = {r.status for r in session.exec(select(Referral))}
    assert len(accepted) == len(REFERRERS)  # three presses each, one move each
    assert statuses == {"accepted"}
    # Points: one row per (campaign, source, person, kind); no double press adds one.
    assert len({(p.campaign_id, p.source, p.person_id, p.kind) for p in points}) == len(points)


async def test_sigkill_during_a_burst_loses_nothing_and_doubles_nothing(
    cluster: Cluster,
) -> None:
    first, other = cluster.replicas
    other.stop()  # one replica takes the burst, and dies in the middle of it
    bodies = [cluster.dm_body(user, "who does TUPE?") for user in STRANGERS]
    acked = await asyncio.gather(*(cluster.post(0, b, "application/json") for b in bodies))
    first.kill()
    assert set(acked) == {200}
    assert cluster.pending() > 0  # acknowledged, not yet answered

    first.start()
    await first.ready(cluster.http)
    await cluster.settled()

    answered = {user: len(cluster.posts_to(dm_channel(user))) for user in STRANGERS}
    assert answered == {user: 1 for user in STRANGERS}


async def test_a_database_refusing_writes_gets_503_then_service_resumes(
    cluster: Cluster,
) -> None:
    database = cluster.store.engine.url.database
    body = cluster.dm_body(PRIYA_ID, "who does TUPE?")
    _read_only(cluster.store, database, True)
    try:
        status = await cluster.post(0, body, "application/json")
    finally:
        _read_only(cluster.store, database, False)
    assert status == 503
    assert cluster.pending() == 0 and cluster.posts_to(dm_channel(PRIYA_ID)) == []

    assert await cluster.post(1, body, "application/json") == 200  # Slack's retry
    await cluster.settled()
    assert len(cluster.posts_to(dm_channel(PRIYA_ID))) == 1


def _read_only(store: Store, database: str | None, on: bool) -> None:
    """Make the database read-only (as after a failover to a standby), or writable again;
    the servers' open connections are cut so that they reconnect under the new rule."""
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        setting = "on" if on else "off"
        connection.execute(text("SET default_transaction_read_only = off"))  # this session
        connection.execute(
            text(f'ALTER DATABASE "{database}" SET default_transaction_read_only = {setting}')
        )
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = :db AND pid <> pg_backend_pid()"
            ),
            {"db": database},
        )
    store.engine.dispose()
