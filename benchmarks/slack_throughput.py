"""Slack throughput: signed `/whodoes` requests against Crossbot and against a bare Bolt app.

    python benchmarks/slack_throughput.py [--requests N] [--concurrency C] [--content DIR] [--open]

Each server runs in its own process on a loopback port; this process plays Slack: it
signs N slash-command requests (Slack's v0 signature), sends them with C concurrent
clients, and also serves the Web API (auth.test, users.info) and the `response_url`s that
Crossbot answers through. For Crossbot it measures the ack (what Slack's 3-second
deadline is about) and the full answer (until the response_url post arrives). The bare
Bolt app acks a constant, so its ack is its answer. By default each client waits for the
answer to its request before sending the next (as people do); `--open` sends on each ack.
Throughput is reported for acks and for completed answers, each against bare Bolt's in the
same run. Loopback only; every loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from aiohttp import ClientSession, TCPConnector, web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks._servers import child_server, serve, serve_until_stopped  # noqa: E402
from tests.slack.payloads import sign  # noqa: E402

SECRET = "benchmark-signing-secret"
TOKEN = "xoxb-benchmark"
USERS = 20  # distinct Slack users sending commands
WARMUP = 30
ANSWER_TIMEOUT = 120.0  # seconds to wait for every response_url answer


# --- the Slack side: Web API and response_urls -------------------------------------------
@dataclass
class SlackSide:
    emails: dict[str, str]
    arrived: dict[int, float] = field(default_factory=dict)
    expected: int = 0
    all_arrived: asyncio.Event = field(default_factory=asyncio.Event)
    waiting: dict[int, asyncio.Future[None]] = field(default_factory=dict)
    url: str = ""

    def expect(self, n: int) -> asyncio.Future[None]:
        """A future resolved when the answer to request `n` arrives."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.waiting[n] = future
        return future

    async def start(self) -> web.AppRunner:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/respond/{n}", self._respond)
        runner, port = await serve(app)
        self.url = f"http://127.0.0.1:{port}"
        return runner

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if method == "auth.test":
            return web.json_response(
                {"ok": True, "user_id": "UBOT", "bot_id": "B1", "team_id": "T1"}
            )
        if method == "users.info":
            params = dict(request.query) | dict(await request.post())
            user = str(params.get("user"))
            profile = {"email": self.emails.get(user, ""), "real_name": user}
            return web.json_response({"ok": True, "user": {"id": user, "profile": profile}})
        return web.json_response({"ok": True})

    async def _respond(self, request: web.Request) -> web.Response:
        await request.read()
        n = int(request.match_info["n"])
        self.arrived[n] = time.perf_counter()
        future = self.waiting.pop(n, None)
        if future is not None and not future.done():
            future.set_result(None)
        if len(self.arrived) >= self.expected:
            self.all_arrived.set()
        return web.Response(text="ok")


# --- the servers under test (child processes) ---------------------------------------------
def _crossbot_app(database_url: str, api_url: str, constant: bool) -> web.Application:
    """The real server; with `constant`, the Slack adapter in front of a router that
    answers a constant, which isolates the adapter's own cost from the features'."""
    from bot.channels import slack
    from bot.context import Context
    from bot.messages import Reply, Turn
    from bot.server import build_app
    from bot.settings import Settings
    from bot.store import Store

    class ConstantAnswers(slack.SlackChannel):
        async def answer(self, turn: Turn) -> list[Reply]:
            return [Reply("Employment law — talk to **Priya Shah**")]

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_BOT_TOKEN=TOKEN,
        CROSSBOT_SLACK_API_URL=api_url + "/api/",
        CROSSBOT_DATABASE_URL=database_url,
    )
    ctx = Context(Store(database_url), settings)
    if not constant:
        return build_app(ctx)
    app = web.Application()
    slack.mount(app, ctx, ConstantAnswers(ctx))
    return app


def _bare_bolt_app(api_url: str) -> web.Application:
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    bolt = AsyncApp(
        client=AsyncWebClient(token=TOKEN, base_url=api_url + "/api/"), signing_secret=SECRET
    )

    @bolt.command("/whodoes")
    async def whodoes(ack: Any) -> None:
        await ack("Employment law — talk to Priya Shah")

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    app = web.Application()
    app.router.add_post("/slack/events", events)
    return app


def _serve(kind: str, database_url: str, api_url: str, ports: Any, stop: Any) -> None:
    import logging

    logging.disable(logging.WARNING)

    def build() -> web.Application:
        if kind in ("crossbot", "adapter"):
            return _crossbot_app(database_url, api_url, constant=kind == "adapter")
        return _bare_bolt_app(api_url)

    serve_until_stopped(build, ports, stop)


# --- load ----------------------------------------------------------------------------------
@dataclass
class Result:
    name: str
    seconds: float
    acks: list[float]
    answers: list[float]
    errors: int
    answer_seconds: float

    @property
    def answer_rate(self) -> float:
        return len(self.answers) / self.answer_seconds if self.answer_seconds else 0.0

    @property
    def rate(self) -> float:
        return len(self.acks) / self.seconds if self.seconds else 0.0


def _signed(n: int, query: str, user: str, response_url: str) -> tuple[str, dict[str, str]]:
    body = urlencode(
        {
            "command": "/whodoes",
            "text": query,
            "user_id": user,
            "channel_id": "C1",
            "team_id": "T1",
            "response_url": response_url,
            "trigger_id": f"t.{n}",
        }
    )
    return body, {
        "Content-Type": "application/x-www-form-urlencoded",
        **sign(body, secret=SECRET),
    }


async def _fire(
    port: int,
    requests: list[tuple[str, dict[str, str]]],
    concurrency: int,
    side: SlackSide | None = None,
) -> tuple[list[float], list[float], int, float]:
    """Send every request with `concurrency` clients; (send times, ack latencies, errors, end).

    With `side`, each client waits for the answer to its request before sending the next.
    """
    url = f"http://127.0.0.1:{port}/slack/events"
    sent = [0.0] * len(requests)
    acks: list[float] = []
    errors = 0
    queue = iter(range(len(requests)))

    async def client(session: ClientSession) -> None:
        nonlocal errors
        for n in queue:
            body, headers = requests[n]
            answered = side.expect(n) if side is not None else None
            sent[n] = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                if response.status == 200:
                    acks.append(time.perf_counter() - sent[n])
                else:
                    errors += 1
                    continue
            if answered is not None:
                with contextlib.suppress(TimeoutError):  # counted as missing at the end
                    await asyncio.wait_for(answered, ANSWER_TIMEOUT)

    connector = TCPConnector(limit=concurrency)
    async with ClientSession(connector=connector) as session:
        await asyncio.gather(*(client(session) for _ in range(concurrency)))
    return sent, acks, errors, time.perf_counter()


async def _run_one(
    kind: str,
    side: SlackSide,
    database_url: str,
    queries: list[str],
    users: list[str],
    n: int,
    concurrency: int,
    closed: bool = True,
) -> Result:
    async with child_server(_serve, kind, database_url, side.url) as (port, _pid):
        warm = [
            _signed(i, queries[i % len(queries)], users[i % len(users)], f"{side.url}/respond/{i}")
            for i in range(WARMUP)
        ]
        await _fire(port, warm, min(concurrency, 4))
        side.arrived.clear()
        side.all_arrived.clear()
        answered = kind in ("crossbot", "adapter")
        side.expected = n if answered else 0
        requests = [
            _signed(i, queries[i % len(queries)], users[i % len(users)], f"{side.url}/respond/{i}")
            for i in range(n)
        ]
        start = time.perf_counter()
        waits = side if closed and answered else None
        sent, acks, errors, acked = await _fire(port, requests, concurrency, waits)
        answers: list[float] = []
        end = acked
        if answered:
            with contextlib.suppress(TimeoutError):  # report what arrived
                await asyncio.wait_for(side.all_arrived.wait(), ANSWER_TIMEOUT)
            answers = [side.arrived[i] - sent[i] for i in side.arrived]
            end = max(side.arrived.values(), default=acked)
        return Result(kind, acked - start, acks, answers, errors, end - start)


def _median(runs: list[Result]) -> Result:
    """The median round's rates, with the latencies of every round."""
    middle = sorted(runs, key=lambda r: r.rate)[len(runs) // 2]
    answer_rate = sorted(r.answer_rate for r in runs)[len(runs) // 2]
    acks = [x for r in runs for x in r.acks]
    answers = [x for r in runs for x in r.answers]
    seconds = len(answers) / answer_rate if answer_rate else 0.0
    return Result(middle.name, len(acks) / middle.rate, acks, answers, middle.errors, seconds)


def _ms(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def _prepare(content: Path, database_url: str) -> tuple[list[str], list[str], dict[str, str]]:
    """Load the firm; queries are its card titles, users its first people."""
    from bot.catalog import load_catalog, load_into
    from bot.store import Store

    catalog = load_catalog(content)
    store = Store(database_url)
    with store.write() as session:
        load_into(session, catalog)
    store.dispose()
    queries = [card.title for card in catalog.cards] or ["help"]
    people = [p.email for p in catalog.people][:USERS]
    emails = {f"UBENCH{i:03d}": email for i, email in enumerate(people)}
    return queries, list(emails), emails


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--content", type=Path, default=ROOT / "content")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median)")
    parser.add_argument(
        "--open", action="store_true", help="send on each ack instead of waiting for answers"
    )
    args = parser.parse_args(argv)
    n = max(1, min(args.requests, 100_000))
    concurrency = max(1, min(args.concurrency, 500))
    rounds = max(1, min(args.rounds, 20))

    with tempfile.TemporaryDirectory() as folder:
        database_url = f"sqlite:///{folder}/bench.db"
        queries, users, emails = _prepare(args.content, database_url)
        side = SlackSide(emails)
        runner = await side.start()
        try:
            # Interleaved rounds, so a noisy neighbour hurts every server alike.
            results: dict[str, list[Result]] = {"crossbot": [], "adapter": [], "bolt": []}
            for _ in range(rounds):
                for kind, runs in results.items():
                    runs.append(
                        await _run_one(
                            kind, side, database_url, queries, users, n, concurrency, not args.open
                        )
                    )
        finally:
            await runner.cleanup()
    ours, adapter, bare = (_median(runs) for runs in results.values())
    print(
        f"{n} signed /whodoes requests x {rounds} rounds, {concurrency} concurrent clients,"
        f" loopback; req/s = median round, latencies over all rounds;"
        f" {'clients send on each ack' if args.open else 'each client waits for its answer'}"
    )
    print(f"{'':<34} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'ratio':>6}")
    rows = [
        ("bare Bolt, constant (ack=answer)", bare.rate, bare.acks),
        ("crossbot: ack", ours.rate, ours.acks),
        ("crossbot: full answer", ours.answer_rate, ours.answers),
        ("adapter + constant router: ack", adapter.rate, adapter.acks),
        ("adapter + constant router: answer", adapter.answer_rate, adapter.answers),
    ]
    for label, rate, latencies in rows:
        ratio = rate / bare.rate if bare.rate else float("nan")
        print(
            f"{label:<34} {rate:>7.0f} {_ms(latencies, 0.50):>8.1f} {_ms(latencies, 0.95):>8.1f}"
            f" {_ms(latencies, 0.99):>8.1f} {ratio:>6.2f}"
        )
    errors = {kind: sum(r.errors for r in runs) for kind, runs in results.items()}
    print(f"errors: {errors}; answers received: crossbot {len(ours.answers)}/{n * rounds}")
    print(
        "ratio = acks/s or completed answers/s relative to bare Bolt's (its ack is its answer)"
        " in the same run (target >= 0.5); Slack's ack deadline: 3000 ms"
    )


if __name__ == "__main__":
    asyncio.run(main())
