"""Load: N simulated Slack users against `crossbot serve` replicas, beside a bare Bolt app.

    python benchmarks/load.py [--users 200] [--seconds 30] [--content DIR] [--people 5000]
                              [--postgres URL] [--replicas 1,2] [--skip-sqlite]
                              [--turn-processes 0,2]

Each simulated user is a person of the firm who, for a bounded time (at most 60 s), loops:
asks "who does X?" in a DM, logs a referral in a sentence, presses Confirm, has the
receiver press Accept, and runs `/leaderboard`. Every request is signed as Slack signs
them and sent to a replica (round-robin, standing in for the load balancer); each user waits
for the answer before the next step, and an answer is complete when this process, which
also plays the Slack Web API on a port of its own, receives the post. Scenarios: one and two
`crossbot serve` processes on SQLite and (with `--postgres`, a scratch database that is
emptied) on PostgreSQL, and a bare Bolt app that answers every request with a constant.
With `--turn-processes`, each replica runs its turns in that many worker processes beside
the receiver (`CROSSBOT_TURN_PROCESSES`; 0: in threads of the replica's one process).

Printed per scenario: acks/s and completed answers/s, ack p50/p95/p99, answer p50/p95,
errors (non-200 acks, answers that never came), and a consistency check read from the
database: referrals created = confirmations answered, no referral twice, no event twice,
no point twice. Loopback only; every wait is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import itertools
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, ClientTimeout, TCPConnector, web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._servers import (  # noqa: E402
    child_server,
    free_port,
    serve,
    serve_until_stopped,
)
from tests.slack import payloads  # noqa: E402

SECRET = "load-benchmark-signing-secret"
TOKEN = "xoxb-load-benchmark"
TEAM = "TLOAD"
MAX_SECONDS = 60.0
ANSWER_TIMEOUT = 20.0  # seconds a user waits for one answer before counting an error
START_TIMEOUT = 180.0  # seconds for a replica to answer /healthz (a busy machine is slow)
# Event ids, trigger ids and response_urls are unique across the whole run: Crossbot
# rightly ignores a delivery whose event id it has already processed.
_IDS = itertools.count(1)
CLIENT_WORDS = (
    ["North", "South", "East", "West", "Upper", "Lower", "Royal", "Grand", "Kings", "Queens"],
    ["Amber", "Birch", "Cobalt", "Dune", "Ember", "Fjord", "Garnet", "Heron", "Indigo", "Juniper"],
    ["Quarry", "Meadow", "Harbour", "Summit", "Orchard", "Beacon", "Lantern", "Willow", "Falcon"],
    ["Holdings", "Industries", "Partners", "Trading", "Ventures", "Estates", "Foods", "Labs"],
)


# --- the firm -------------------------------------------------------------------------------
@dataclass
class Firm:
    """The content folder under load: the given firm grown to `people` colleagues, plus one
    person per simulated user."""

    folder: Path
    users: list[tuple[str, str, str]]  # (slack id, email, name) of the simulated users
    emails: dict[str, str]  # slack id -> email, for users.info and users.lookupByEmail
    cards: list[tuple[str, list[str]]]  # (card title, names of people a referral may go to)
    clients: list[str]


def build_firm(content: Path, users: int, into: Path, people: int = 0) -> Firm:
    """Copy `content` to `into`, growing its people to `people` (colleagues in its teams,
    with Slack ids) and adding `users` people and ten clients per user.

    Referrals go to a colleague in the card's team, and clients are owned across the whole
    firm: in a firm of thousands, one person is not the receiver of everyone's referrals.
    (With `people` no more than the content's, every referral goes to the card's owner.)
    """
    from bot.catalog import load_catalog

    shutil.copytree(content, into)
    catalog = load_catalog(content)
    names = {p.email: p.name for p in catalog.people}
    teams = sorted({p.team for p in catalog.people})
    emails: dict[str, str] = {}
    with (into / "people.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for n, row in enumerate(rows):
        row["slack_id"] = row.get("slack_id") or f"UFIRM{n:04d}"
        emails[row["slack_id"]] = row["email"].lower()
    rows += _colleagues(rows, people - len(rows) - users, emails)
    simulated = []
    for i in range(users):
        slack_id, email = f"ULOAD{i:04d}", f"load.user{i:04d}@load.example"
        name = f"Loadtester {_word(i)}"
        rows.append(_person(email, name, teams[i % len(teams)], slack_id))
        emails[slack_id] = email
        simulated.append((slack_id, email, name))
    _write_csv(into / "people.csv", rows)
    clients = [f"{' '.join(words)} Ltd" for words in itertools.product(*CLIENT_WORDS)]
    clients = clients[: max(users * 10, 100)]
    firm_people = rows[: len(rows) - users]
    owners = [p["email"] for p in firm_people]  # spread: each owner hears of their clients
    with (into / "clients.csv").open(encoding="utf-8", newline="") as handle:
        client_rows = list(csv.DictReader(handle))
    client_rows += [
        {"name": c, "aliases": "", "sector": "", "owner": owners[n % len(owners)], "services": ""}
        for n, c in enumerate(clients)
    ]
    _write_csv(into / "clients.csv", client_rows)
    grown = len(firm_people) > len(catalog.people)
    by_team: dict[str, list[str]] = defaultdict(list)
    for row in firm_people[len(catalog.people) :]:
        by_team[row["team"]].append(row["name"])
    cards = [
        (c.title, [names[c.owners[0]], *(by_team.get(c.team, []) if grown else [])])
        for c in catalog.cards
        if c.owners and c.owners[0] in names
    ]
    return Firm(into, simulated, emails, cards, clients)


def _colleagues(rows: list[dict[str, str]], count: int, emails: dict[str, str]) -> list[dict]:
    """`count` more people in the content's teams and offices, each with a distinct name
    made of a first name of the firm's and a surname of their own."""
    firsts = sorted({r["name"].split()[0] for r in rows})
    teams = sorted({r["team"] for r in rows})
    domain = rows[0]["email"].split("@")[1]
    grown = []
    for n in range(max(0, count)):
        first, last = firsts[n % len(firsts)], _word(10_000 + n)
        slack_id, email = f"UCOLL{n:05d}", f"{first}.{last}.{n}@{domain}".lower()
        grown.append(_person(email, f"{first} {last}", teams[n % len(teams)], slack_id))
        emails[slack_id] = email
    return grown


def _person(email: str, name: str, team: str, slack_id: str) -> dict[str, str]:
    return {
        "email": email,
        "name": name,
        "team": team,
        "office": "London",
        "title": "Associate",
        "role": "member",
        "slack_id": slack_id,
        "teams_id": "",
    }


def _word(i: int) -> str:
    """A distinct pronounceable surname for user `i` (names hold no digits)."""
    consonants, vowels = "bdfgklmnprstvz", "aeiou"
    letters = []
    for _ in range(3):
        i, c = divmod(i, len(consonants))
        i, v = divmod(i, len(vowels))
        letters += [consonants[c], vowels[v]]
    return "".join(letters).capitalize()


def _write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def prepare_database(url: str, firm: Firm) -> None:
    """Empty the database, migrate it, load the firm and start a campaign (for points)."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import text

    from bot.catalog import load_catalog, load_into
    from bot.store import Store
    from bot.store.models import Campaign

    if not url.startswith("sqlite"):
        scratch = Store(url, migrate=False)
        with scratch.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        scratch.dispose()
    store = Store(url)
    now = datetime.now(UTC)
    with store.write() as session:
        load_into(session, load_catalog(firm.folder))
        session.add(
            Campaign(
                name="Load week",
                starts_at=now - timedelta(days=1),
                ends_at=now + timedelta(days=6),
                status="running",
            )
        )
    store.dispose()


def _accept_offer(channel: str, post: Post) -> tuple[str, int]:
    """(the receiver's user id, the referral's id) of an offer posted in their DM."""
    ident = next(v["id"] for action, v in post.buttons if action == "referral.accept")
    return "U" + channel[1:], int(ident)


# --- the Slack side -------------------------------------------------------------------------
@dataclass
class Post:
    channel: str
    text: str
    buttons: list[tuple[str, dict[str, Any]]]  # (action id, value)


@dataclass
class FakeSlack:
    """The Slack Web API and the response_urls, on a loopback port; resolves waiting users."""

    emails: dict[str, str]
    url: str = ""
    posts: int = 0
    waiting: dict[str, asyncio.Future[Post]] = field(default_factory=dict)
    # Offers (posts with an Accept button) no user has claimed yet, and the users waiting
    # for theirs, by (referrer's name, client): matched when either arrives, not by polling.
    offers: list[tuple[str, Post]] = field(default_factory=list)
    offer_waiters: dict[tuple[str, str], asyncio.Future[tuple[str, int]]] = field(
        default_factory=dict
    )
    _users_by_email: dict[str, str] = field(default_factory=dict)
    _ts: itertools.count = field(default_factory=lambda: itertools.count(1))

    async def start(self) -> web.AppRunner:
        app = web.Application(client_max_size=8 * 1024**2)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/respond/{name}", self._respond)
        app.router.add_post("/upload/{name}", self._upload)
        runner, port = await serve(app)
        self.url = f"http://127.0.0.1:{port}"
        return runner

    def expect(self, *keys: str) -> asyncio.Future[Post]:
        """A future resolved by the first post to any of `keys` (channels or response names)."""
        future: asyncio.Future[Post] = asyncio.get_running_loop().create_future()
        for key in keys:
            self.waiting[key] = future
        return future

    def forget(self, *keys: str) -> None:
        for key in keys:
            self.waiting.pop(key, None)

    def claim_offer(self, referrer: str, client: str) -> asyncio.Future[tuple[str, int]]:
        """A future resolved with (receiver's user id, referral id) by the receiver's DM
        offering `referrer`'s referral of `client`, which may have come already."""
        future: asyncio.Future[tuple[str, int]] = asyncio.get_running_loop().create_future()
        for n, (channel, post) in enumerate(self.offers):
            if referrer in post.text and client in post.text:
                del self.offers[n]
                future.set_result(_accept_offer(channel, post))
                return future
        self.offer_waiters[(referrer, client)] = future
        return future

    def forget_offer(self, referrer: str, client: str) -> None:
        self.offer_waiters.pop((referrer, client), None)

    def _offered(self, channel: str, post: Post) -> None:
        for (referrer, client), future in self.offer_waiters.items():
            if referrer in post.text and client in post.text and not future.done():
                del self.offer_waiters[(referrer, client)]
                future.set_result(_accept_offer(channel, post))
                return
        self.offers.append((channel, post))

    def _arrived(self, key: str, post: Post) -> None:
        self.posts += 1
        if any(action == "referral.accept" for action, _ in post.buttons):
            self._offered(key, post)
        future = self.waiting.pop(key, None)
        if future is not None and not future.done():
            future.set_result(post)

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.content_type == "application/json":
            params = dict(await request.json())
        else:
            params = dict(await request.post())
        params.update(request.query)
        ok: dict[str, Any] = {"ok": True}
        if method == "auth.test":
            return web.json_response(ok | {"user_id": "UBOT", "bot_id": "BBOT", "team_id": TEAM})
        if method == "users.info":
            user = str(params.get("user"))
            profile = {"email": self.emails.get(user, ""), "real_name": user}
            return web.json_response(ok | {"user": {"id": user, "profile": profile}})
        if method == "users.lookupByEmail":
            email = str(params.get("email"))
            if len(self._users_by_email) != len(self.emails):
                self._users_by_email = {e: u for u, e in self.emails.items()}
            user = self._users_by_email.get(email)
            if user is None:
                return web.json_response({"ok": False, "error": "users_not_found"})
            return web.json_response(ok | {"user": {"id": user, "profile": {"email": email}}})
        if method == "conversations.open":
            return web.json_response(
                ok | {"channel": {"id": payloads.dm_channel(str(params["users"]))}}
            )
        if method == "files.getUploadURLExternal":
            return web.json_response(ok | {"upload_url": f"{self.url}/upload/F1", "file_id": "F1"})
        if method in ("chat.postMessage", "chat.postEphemeral", "chat.update"):
            channel = str(params.get("channel"))
            self._arrived(channel, _post(channel, params))
            ts = f"1700000000.{next(self._ts):06d}"
            return web.json_response(ok | {"channel": channel, "ts": ts, "message_ts": ts})
        return web.json_response(ok)

    async def _respond(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        self._arrived(name, _post(name, await request.json()))
        return web.Response(text="ok")

    async def _upload(self, request: web.Request) -> web.Response:
        await request.read()
        return web.Response(text="OK")


def _post(channel: str, params: dict[str, Any]) -> Post:
    blocks = params.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    texts = [str(params.get("text") or "")]
    buttons: list[tuple[str, dict[str, Any]]] = []
    for block in blocks:
        if isinstance(block.get("text"), dict):
            texts.append(str(block["text"].get("text", "")))
        for element in block.get("elements") or []:
            if element.get("type") == "button":
                try:
                    value = json.loads(element.get("value") or "{}")
                except ValueError:
                    value = {}
                buttons.append(
                    (str(element.get("action_id")), value if isinstance(value, dict) else {})
                )
    return Post(channel, "\n".join(texts), buttons)


# --- the servers under test -------------------------------------------------------------------
@dataclass
class Replica:
    process: subprocess.Popen[bytes]
    port: int
    log: Path


async def start_replicas(
    count: int,
    url: str,
    firm: Firm,
    api_url: str,
    logs: Path,
    replicas: list[Replica],
    turn_processes: int = 0,
    settings: dict[str, str] | None = None,
) -> None:
    """`count` `crossbot serve` processes on the database at `url`, each answering /healthz;
    `settings`: more environment for them (e.g. CROSSBOT_INBOX_WORKERS)."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("CROSSBOT_", "SLACK_"))},
        "PYTHONPATH": str(ROOT),
        "CROSSBOT_DATABASE_URL": url,
        "CROSSBOT_CONTENT_DIR": str(firm.folder),
        "CROSSBOT_SLACK_API_URL": api_url + "/api/",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_BOT_TOKEN": TOKEN,
        "CROSSBOT_TURN_PROCESSES": str(turn_processes),
        **(settings or {}),
    }
    for n in range(count):
        port, log = free_port(), logs / f"replica{n}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
                env=env,
                cwd=str(logs),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        replicas.append(Replica(process, port, log))
    async with ClientSession(timeout=ClientTimeout(total=2)) as session:
        for replica in replicas:
            await _healthy(session, replica)


async def _healthy(session: ClientSession, replica: Replica) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if replica.process.poll() is not None:
            raise RuntimeError(f"replica exited: {replica.log.read_text()[-2000:]}")
        with contextlib.suppress(OSError, asyncio.TimeoutError):
            async with session.get(f"http://127.0.0.1:{replica.port}/healthz") as response:
                if response.status == 200:
                    return
        await asyncio.sleep(0.2)
    raise RuntimeError(f"replica did not start: {replica.log.read_text()[-2000:]}")


def stop_replicas(replicas: list[Replica]) -> None:
    for replica in replicas:
        if replica.process.poll() is None:
            replica.process.send_signal(signal.SIGTERM)
    for replica in replicas:
        try:
            replica.process.wait(30)
        except subprocess.TimeoutExpired:
            replica.process.kill()
            replica.process.wait(10)


def _bare_bolt(api_url: str, ports: Any, stop: Any) -> None:
    """A bare Bolt app answering everything with a constant, the way Crossbot answers."""
    import logging

    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    logging.disable(logging.WARNING)
    constant = "Employment law: talk to Priya Shah"

    def build() -> web.Application:
        client = AsyncWebClient(token=TOKEN, base_url=api_url + "/api/")
        bolt = AsyncApp(client=client, signing_secret=SECRET)

        @bolt.event("message")
        async def message(say: Any) -> None:
            await say(constant)

        @bolt.command(re.compile(".*"))
        async def command(ack: Any, respond: Any) -> None:
            await ack()
            await respond(constant)

        @bolt.action(re.compile(".*"))
        async def action(ack: Any, respond: Any) -> None:
            await ack()
            await respond(constant)

        async def events(request: web.Request) -> web.Response:
            bolt_request = await to_bolt_request(request)
            return await to_aiohttp_response(await bolt.async_dispatch(bolt_request))

        app = web.Application()
        app.router.add_post("/slack/events", events)
        return app

    serve_until_stopped(build, ports, stop)


# --- the users ----------------------------------------------------------------------------------
@dataclass
class Tally:
    """What one scenario measured."""

    acks: list[float] = field(default_factory=list)
    answers: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    confirmed: int = 0  # Confirm presses answered
    confirm_unanswered: int = 0  # pressed, answer never came (may or may not be stored)
    accepted: int = 0
    accept_unanswered: int = 0  # pressed, answer never came (may or may not be stored)
    unexpected: Counter[str] = field(default_factory=Counter)  # answers without the next button
    offer_waits: list[float] = field(default_factory=list)  # referrer's answer -> receiver's offer
    seconds: float = 0.0
    cpu: float = 0.0  # CPU seconds the servers (and their turn processes) used meanwhile
    database_cpu: float = 0.0  # CPU seconds a PostgreSQL server on this machine used meanwhile
    users_cpu: float = 0.0  # CPU seconds this process (the users and the fake Slack) used

    @property
    def all_answers(self) -> list[float]:
        return [x for values in self.answers.values() for x in values]


class Users:
    """Plays `firm.users` against the servers at `ports` until the deadline."""

    def __init__(
        self, firm: Firm, slack: FakeSlack, ports: list[int], live: bool, think: float = 0.0
    ) -> None:
        self.firm, self.slack, self.live, self.think = firm, slack, live, think
        self.targets = itertools.cycle([f"http://127.0.0.1:{p}/slack/events" for p in ports])
        self.tally = Tally()

    async def run(self, seconds: float) -> Tally:
        connector = TCPConnector(limit=0)
        timeout = ClientTimeout(total=ANSWER_TIMEOUT)
        async with ClientSession(connector=connector, timeout=timeout) as session:
            self.session = session
            start, cpu = time.perf_counter(), time.process_time()
            deadline = start + seconds
            await asyncio.gather(*(self._user(i, deadline) for i in range(len(self.firm.users))))
            self.tally.seconds = time.perf_counter() - start
            self.tally.users_cpu = time.process_time() - cpu
        return self.tally

    async def _user(self, i: int, deadline: float) -> None:
        user, _email, name = self.firm.users[i]
        for k in itertools.count():
            if time.perf_counter() >= deadline:
                return
            card, receivers = self.firm.cards[(i + k) % len(self.firm.cards)]
            owner = receivers[(i * 7 + k) % len(receivers)]
            client = self.firm.clients[(k * len(self.firm.users) + i) % len(self.firm.clients)]
            await self._dm("who-does", user, f"who does {card.lower()}?")
            offer = await self._dm("referral", user, f"I referred {client} to {owner} for {card}")
            if offer is None:
                continue
            confirm = next((v for a, v in offer.buttons if a == "referral.confirm"), None)
            if confirm is None and self.live:
                self.tally.unexpected["no Confirm offered"] += 1
                await self._dm("cancel", user, "cancel")
                continue
            saved = await self._press("confirm", user, "referral.confirm", confirm or {}, user)
            if saved is None:
                self.tally.confirm_unanswered += 1
                continue
            self.tally.confirmed += 1
            receiver, referral = await self._offer(name, client) if self.live else (user, 1)
            if referral is None:
                self.tally.unexpected["no Accept offered"] += 1
            else:
                # The receiver presses Accept; the referrer hears of it in their DM.
                accepted = await self._press(
                    "accept", receiver, "referral.accept", {"id": referral}, user
                )
                self.tally.accepted += accepted is not None
                self.tally.accept_unanswered += accepted is None
            await self._command("leaderboard", user, "/leaderboard")

    async def _offer(self, referrer: str, client: str) -> tuple[str, int | None]:
        """The receiver's offer, which may follow the referrer's answer by a moment."""
        started = time.perf_counter()
        try:
            receiver, referral = await asyncio.wait_for(
                self.slack.claim_offer(referrer, client), ANSWER_TIMEOUT
            )
        except TimeoutError:
            self.slack.forget_offer(referrer, client)
            return "", None
        finally:
            self.tally.offer_waits.append(time.perf_counter() - started)
        return receiver, referral

    async def _send(
        self, kind: str, body: str, content_type: str, keys: tuple[str, ...]
    ) -> Post | None:
        """After the user's think time, send one signed request; wait for its answer."""
        if self.think:
            await asyncio.sleep(self.think * (0.5 + random.random()))
        waiting = self.slack.expect(*keys)
        sent = time.perf_counter()
        headers = {"Content-Type": content_type, **payloads.sign(body, secret=SECRET)}
        try:
            async with self.session.post(
                next(self.targets), data=body, headers=headers
            ) as response:
                await response.read()
                if response.status != 200:
                    self.tally.errors[f"{kind}: HTTP {response.status}"] += 1
                    return None
            self.tally.acks.append(time.perf_counter() - sent)
            post = await asyncio.wait_for(waiting, ANSWER_TIMEOUT)
        except TimeoutError:
            self.tally.errors[f"{kind}: no answer in {ANSWER_TIMEOUT:.0f} s"] += 1
            return None
        except OSError as exc:
            self.tally.errors[f"{kind}: {type(exc).__name__}"] += 1
            return None
        finally:
            self.slack.forget(*keys)
        self.tally.answers[kind].append(time.perf_counter() - sent)
        return post

    async def _dm(self, kind: str, user: str, text: str) -> Post | None:
        n = next(_IDS)
        body = payloads.event_envelope(payloads.dm_event(text, user, n), f"EvLoad{n:08d}", n, TEAM)
        return await self._send(kind, body, "application/json", (payloads.dm_channel(user),))

    async def _press(
        self, kind: str, user: str, action: str, value: dict[str, Any], answered_to: str
    ) -> Post | None:
        n = next(_IDS)
        respond = f"press{n}"
        response_url = f"{self.slack.url}/respond/{respond}"
        payload = payloads.button_payload(
            action, value, user, f"trigger.{n}", response_url, team=TEAM
        )
        keys = (respond, payloads.dm_channel(answered_to))
        return await self._send(
            kind, payloads.interaction_body(payload), "application/x-www-form-urlencoded", keys
        )

    async def _command(self, kind: str, user: str, command: str) -> Post | None:
        n = next(_IDS)
        respond = f"cmd{n}"
        response_url = f"{self.slack.url}/respond/{respond}"
        body = payloads.command_body(command, "", user, "CLOAD", f"trigger.{n}", response_url, TEAM)
        return await self._send(kind, body, "application/x-www-form-urlencoded", (respond,))


# --- consistency ------------------------------------------------------------------------------
def consistency(url: str, tally: Tally, warm: Tally) -> dict[str, Any]:
    """What the database holds against what the users were told."""
    from sqlalchemy import func
    from sqlmodel import col, select

    from bot.store import Store
    from bot.store.models import PointEvent, Referral, ReferralEvent

    store = Store(url, migrate=False)
    try:
        with store.read() as session:
            referrals = session.exec(select(func.count()).select_from(Referral)).one()
            doubles = session.exec(
                select(Referral.client_id, Referral.receiver_id, Referral.card_id)
                .group_by(col(Referral.client_id), col(Referral.receiver_id), col(Referral.card_id))
                .having(func.count() > 1)
            ).all()
            events = session.exec(
                select(ReferralEvent.referral_id, ReferralEvent.to_status)
                .group_by(col(ReferralEvent.referral_id), col(ReferralEvent.to_status))
                .having(func.count() > 1)
            ).all()
            accepted = session.exec(
                select(func.count())
                .select_from(ReferralEvent)
                .where(ReferralEvent.to_status == "accepted")
            ).one()
            points = session.exec(select(func.count()).select_from(PointEvent)).one()
            point_doubles = session.exec(
                select(PointEvent.key).group_by(col(PointEvent.key)).having(func.count() > 1)
            ).all()
    finally:
        store.dispose()
    confirmed = tally.confirmed + warm.confirmed
    low, high = confirmed, confirmed + tally.confirm_unanswered + warm.confirm_unanswered
    clean = low <= referrals <= high and not doubles and not events and not point_doubles
    accepts = tally.accepted + warm.accepted
    unanswered = tally.accept_unanswered + warm.accept_unanswered
    clean = clean and accepts <= accepted <= accepts + unanswered
    return {
        "clean": clean,
        "referrals": referrals,
        "confirmed": confirmed,
        "confirm_unanswered": tally.confirm_unanswered,
        "double_referrals": len(doubles),
        "double_events": len(events),
        "accepted": accepted,
        "accepts_answered": accepts,
        "accept_unanswered": unanswered,
        "points": points,
        "double_points": len(point_doubles),
    }


# --- scenarios ----------------------------------------------------------------------------------
@dataclass
class Outcome:
    label: str
    tally: Tally
    check: dict[str, Any] | None = None


async def run_crossbot(
    label: str,
    url: str,
    replicas: int,
    firm: Firm,
    seconds: float,
    think: float,
    logs: Path,
    turn_processes: int = 0,
    settings: dict[str, str] | None = None,
) -> Outcome:
    prepare_database(url, firm)
    slack = FakeSlack(firm.emails)
    runner = await slack.start()
    servers: list[Replica] = []
    try:
        await start_replicas(
            replicas, url, firm, slack.url, logs, servers, turn_processes, settings
        )
        warm = await warm_up(firm, slack, [s.port for s in servers])
        ports = [s.port for s in servers]
        pids = [s.process.pid for s in servers]
        server = [] if url.startswith("sqlite") else postgres_pids(url)
        before, database_before = cpu_seconds(pids), cpu_seconds(server)
        tally = await Users(firm, slack, ports, live=True, think=think).run(seconds)
        tally.cpu = cpu_seconds(pids) - before
        if not url.startswith("sqlite"):
            tally.database_cpu = cpu_seconds(server) - database_before
        await asyncio.sleep(1.0)  # stragglers: work acknowledged just before the deadline
    finally:
        await asyncio.to_thread(stop_replicas, servers)
        await runner.cleanup()
    return Outcome(label, tally, consistency(url, tally, warm))


def postgres_pids(url: str) -> list[int]:
    """The PostgreSQL server at `url`, if it runs on this machine: its postmaster, whose
    descendants `cpu_seconds` adds (none if the server is elsewhere or can't be read).
    Only that server: other PostgreSQL servers on the machine are not counted."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            folder = connection.execute(text("SHOW data_directory")).scalar_one()
        return [int((Path(folder) / "postmaster.pid").read_text().split()[0])]
    except (OSError, ValueError, IndexError, SQLAlchemyError):  # not allowed, or not here
        return []
    finally:
        engine.dispose()


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of these processes and their live descendants so far (from
    /proc: Linux only; 0 elsewhere). Independent of what else runs on the machine."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total, seen, todo = 0, set(), list(pids)
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
            for task in Path(f"/proc/{pid}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
    return total / tick


async def warm_up(firm: Firm, slack: FakeSlack, ports: list[int]) -> Tally:
    """One loop of the last user on each replica, unmeasured (first requests build caches)."""
    total = Tally()
    for n, port in enumerate(ports):
        client = firm.clients[-1 - n : len(firm.clients) - n]
        warm = Firm(firm.folder, firm.users[-1:], firm.emails, firm.cards, client)
        tally = await Users(warm, slack, [port], live=True).run(0.001)
        total.confirmed += tally.confirmed
        total.confirm_unanswered += tally.confirm_unanswered
        total.accepted += tally.accepted
        total.accept_unanswered += tally.accept_unanswered
    return total


async def run_bare_bolt(firm: Firm, seconds: float, think: float) -> Outcome:
    slack = FakeSlack(firm.emails)
    runner = await slack.start()
    try:
        async with child_server(_bare_bolt, slack.url, timeout=START_TIMEOUT) as (port, pid):
            before = cpu_seconds([pid])
            tally = await Users(firm, slack, [port], live=False, think=think).run(seconds)
            tally.cpu = cpu_seconds([pid]) - before
    finally:
        await runner.cleanup()
    return Outcome("bare Bolt, constant", tally)


def _ms(values: list[float], q: float) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000:.0f}"


def report(outcomes: list[Outcome], users: int, seconds: float, think: float, firm: Firm) -> None:
    bare = next((o for o in outcomes if o.check is None), None)
    bare_rate = (
        len(bare.tally.all_answers) / bare.tally.seconds if bare and bare.tally.seconds else 0
    )
    print(
        f"{users} simulated Slack users for {seconds:.0f} s a scenario, loopback; each waits for"
        f" every answer and thinks ~{think:.1f} s (who-does, referral + Confirm, Accept,"
        " /leaderboard); latencies are from the request to the answer's arrival"
    )
    receivers = len({name for _, names in firm.cards for name in names})
    print(
        f"the firm: {len(firm.emails)} people, {len(firm.cards)} cards, {len(firm.clients)}"
        f" clients of the users'; referrals go to {receivers} different people"
    )
    header = (
        f"{'scenario':<36} {'acks/s':>7} {'ans/s':>7} {'ack p50':>8} {'p95':>6} {'p99':>6}"
        f" {'ans p50':>8} {'p95':>6} {'errors':>7} {'ratio':>6} {'cpu ms/ans':>10}"
    )
    print(header)
    for outcome in outcomes:
        t = outcome.tally
        answers = t.all_answers
        rate = len(answers) / t.seconds if t.seconds else 0.0
        errors = sum(t.errors.values())
        ratio = f"{rate / bare_rate:.2f}" if bare_rate else "-"
        cpu = f"{1000 * t.cpu / len(answers):.1f}" if t.cpu and answers else "-"
        print(
            f"{outcome.label:<36} {len(t.acks) / t.seconds if t.seconds else 0:>7.0f} {rate:>7.0f}"
            f" {_ms(t.acks, 0.5):>8} {_ms(t.acks, 0.95):>6} {_ms(t.acks, 0.99):>6}"
            f" {_ms(answers, 0.5):>8} {_ms(answers, 0.95):>6} {errors:>7} {ratio:>6} {cpu:>10}"
        )
    print("ratio = completed answers/s relative to bare Bolt's in the same run (target >= 0.5)")
    print(
        "cpu ms/ans = CPU the replicas and their turn processes used per completed answer"
        " (user + system, from /proc; what else runs on the machine does not change it)"
    )
    for outcome in outcomes:
        t = outcome.tally
        kinds = ", ".join(
            f"{kind} {len(v)} (p50 {_ms(v, 0.5)} ms)" for kind, v in sorted(t.answers.items())
        )
        print(f"- {outcome.label}: answers {kinds}")
        if t.all_answers:
            spent = 1000 * t.users_cpu / len(t.all_answers)
            print(f"  the users and the fake Slack (this process): {spent:.1f} ms CPU per answer")
        if t.database_cpu and t.all_answers:
            spent = 1000 * t.database_cpu / len(t.all_answers)
            print(f"  PostgreSQL server on this machine: {spent:.1f} ms CPU per answer")
        if t.offer_waits:
            print(
                f"  receivers' offers after the Confirm answer: p50 {_ms(t.offer_waits, 0.5)} ms,"
                f" p95 {_ms(t.offer_waits, 0.95)} ms"
            )
        if t.errors or t.unexpected:
            print(f"  errors {dict(t.errors)}; unexpected {dict(t.unexpected)}")
        if outcome.check is not None:
            verdict = "clean" if outcome.check["clean"] else "NOT CLEAN"
            details = ", ".join(f"{k} {v}" for k, v in outcome.check.items() if k != "clean")
            print(f"  consistency {verdict}: {details}")


async def main(argv: list[str] | None = None) -> list[Outcome]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30.0, help="per scenario, at most 60")
    parser.add_argument("--content", type=Path, default=ROOT / "content")
    parser.add_argument(
        "--people",
        type=int,
        default=5000,
        help="people in the firm, the simulated users among them (0: the content's own)",
    )
    parser.add_argument(
        "--think", type=float, default=1.0, help="mean seconds a user pauses before each step"
    )
    parser.add_argument("--postgres", default="", help="a scratch PostgreSQL URL (emptied)")
    parser.add_argument("--replicas", default="1,2", help="replica counts to run, e.g. 1,2")
    parser.add_argument(
        "--turn-processes", default="0", help="turn processes per replica to run, e.g. 0,2"
    )
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="CROSSBOT_NAME=VALUE",
        help="a setting for the replicas (repeatable), e.g. CROSSBOT_INBOX_WORKERS=8",
    )
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-bolt", action="store_true")
    args = parser.parse_args(argv)
    users = max(1, min(args.users, 2000))
    seconds = max(1.0, min(args.seconds, MAX_SECONDS))
    think = max(0.0, min(args.think, 10.0))
    counts = [max(1, min(int(n), 8)) for n in args.replicas.split(",") if n.strip()]
    pools = [max(0, min(int(n), 8)) for n in args.turn_processes.split(",") if n.strip()]
    settings = dict(item.split("=", 1) for item in args.setting if "=" in item)
    if any(not name.startswith("CROSSBOT_") for name in settings):
        parser.error("--setting takes CROSSBOT_NAME=VALUE")

    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="crossbot-load-") as scratch:
        folder = Path(scratch)
        firm = build_firm(args.content, users, folder / "content", max(0, args.people))
        if not args.skip_bolt:
            outcomes.append(await run_bare_bolt(firm, seconds, think))
        stores = [] if args.skip_sqlite else [("SQLite", "")]
        stores += [("PostgreSQL", args.postgres)] if args.postgres else []
        for store_name, url in stores:
            for n, pool in itertools.product(counts, pools):
                logs = folder / f"{store_name}-{n}-{pool}"
                logs.mkdir()
                database = url or f"sqlite:///{logs / 'crossbot.db'}"
                label = f"{store_name}, {n} replica{'s' if n > 1 else ''}"
                label += f" x{pool} turn procs" if pool else ""
                try:
                    outcomes.append(
                        await run_crossbot(
                            label, database, n, firm, seconds, think, logs, pool, settings
                        )
                    )
                except RuntimeError as exc:  # a replica that did not start: say so, go on
                    print(f"{label}: not run: {exc}", file=sys.stderr)
    report(outcomes, users, seconds, think, firm)
    return outcomes


if __name__ == "__main__":
    asyncio.run(main())
