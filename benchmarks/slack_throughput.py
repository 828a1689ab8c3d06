"""Slack throughput: signed `/whodoes` commands against Crossbot, its Slack adapter alone,
and a bare Bolt app, in one run.

    python benchmarks/slack_throughput.py [--requests N] [--concurrency C] [--rounds R]
                                          [--open] [--users U] [--people P] [--content DIR]

`load.py` plays a whole mixed workload against `crossbot serve` replicas; this script looks
at one request, the slash command, in one server process. Three servers, each in a child
process on a loopback port, in interleaved rounds (the median round is reported): Crossbot
(the real app), Crossbot's Slack adapter in front of a router that answers a constant (what
the adapter itself costs), and `load.py`'s bare Bolt app (acks, then answers a constant
through the response_url, as Crossbot does). This process plays Slack with `load.py`'s fake
Web API and firm (`--people`, default 5,000): C clients send N signed commands, each waiting
for the answer to reach its response_url before sending the next (`--open`: on each ack).

Printed per server: acks/s and completed answers/s, each beside bare Bolt's in the same run,
ack and answer p50/p95/p99, CPU per answer (the server process, from /proc), errors (non-200
acks, answers that never came) and answers that name neither the card's owner nor the
constant. Every request is unique (Crossbot rightly drops a signed body it has already
received, as a retry); every wait is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, TCPConnector, web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))  # `load`, also in the spawned servers

from load import (  # noqa: E402
    ANSWER_TIMEOUT,
    SECRET,
    TEAM,
    TOKEN,
    FakeSlack,
    Firm,
    Post,
    _bare_bolt,
    cpu_seconds,
)

from benchmarks._firm import load_firm_arguments, load_firm_on_sqlite  # noqa: E402
from benchmarks._servers import child_server, serve_until_stopped  # noqa: E402
from tests.slack import payloads  # noqa: E402

WARMUP = 20  # unmeasured requests per server and round (the first build caches)
CONSTANT = "Employment law: talk to Priya Shah"
# Trigger ids and response_urls are unique across the run, so no two bodies are alike.
_IDS = itertools.count(1)


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
            return [Reply(CONSTANT)]

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


def _serve_crossbot(database_url: str, api_url: str, constant: bool, ports: Any, stop: Any) -> None:
    import logging

    logging.disable(logging.WARNING)
    serve_until_stopped(lambda: _crossbot_app(database_url, api_url, constant), ports, stop)


SERVERS = ("bolt", "crossbot", "adapter")
LABELS = {
    "bolt": "bare Bolt, constant",
    "crossbot": "crossbot",
    "adapter": "adapter + constant router",
}


def _server(
    kind: str, database_url: str, api_url: str
) -> contextlib.AbstractAsyncContextManager[tuple[int, int]]:
    """The child server of `kind`: a context manager yielding its port and process id."""
    if kind == "bolt":
        return child_server(_bare_bolt, api_url)
    return child_server(_serve_crossbot, database_url, api_url, kind == "adapter")


# --- one round against one server ---------------------------------------------------------
@dataclass
class Round:
    """What one round against one server measured."""

    acks: list[float] = field(default_factory=list)
    answers: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    wrong: int = 0  # answers naming neither the card's owner nor the constant
    ack_seconds: float = 0.0  # first send to last ack
    answer_seconds: float = 0.0  # first send to last answer
    cpu: float = 0.0  # CPU seconds of the server process meanwhile

    @property
    def ack_rate(self) -> float:
        return len(self.acks) / self.ack_seconds if self.ack_seconds else 0.0

    @property
    def answer_rate(self) -> float:
        return len(self.answers) / self.answer_seconds if self.answer_seconds else 0.0


@dataclass
class Request:
    body: str
    respond: str  # the response_url's name in the fake Slack
    owner: str  # the name a who-does answer should give


def _requests(firm: Firm, slack: FakeSlack, count: int) -> list[Request]:
    """`count` `/whodoes` command bodies, card by card and user by user, none alike."""
    made = []
    for i in range(count):
        n = next(_IDS)
        title, names = firm.cards[i % len(firm.cards)]
        user = firm.users[i % len(firm.users)][0]
        respond = f"cmd{n}"
        body = payloads.command_body(
            "/whodoes",
            title,
            user,
            "CBENCH",
            f"trigger.{n}",
            f"{slack.url}/respond/{respond}",
            TEAM,
        )
        made.append(Request(body, respond, names[0]))
    return made


async def _fire(
    port: int, slack: FakeSlack, requests: list[Request], concurrency: int, closed: bool
) -> Round:
    """Send `requests` with `concurrency` clients; in a closed loop each waits for its answer
    before the next, else it sends on each ack and the answers are awaited at the end."""
    url = f"http://127.0.0.1:{port}/slack/events"
    result = Round()
    todo = iter(requests)
    pending: list[tuple[Request, float, asyncio.Future[Post]]] = []
    arrived: dict[str, float] = {}
    start = time.perf_counter()
    last_ack = start

    async def answer(request: Request, sent: float, waiting: asyncio.Future[Post]) -> None:
        try:
            post = await asyncio.wait_for(waiting, ANSWER_TIMEOUT)
        except TimeoutError:
            result.errors[f"no answer in {ANSWER_TIMEOUT:.0f} s"] += 1
            return
        finally:
            slack.forget(request.respond)
        result.answers.append(arrived.setdefault(request.respond, time.perf_counter()) - sent)
        result.wrong += request.owner not in post.text and CONSTANT not in post.text

    def stamp(key: str, _: asyncio.Future[Post]) -> None:
        arrived.setdefault(key, time.perf_counter())

    async def client(session: ClientSession) -> None:
        nonlocal last_ack
        for request in todo:
            waiting = slack.expect(request.respond)
            # The arrival is stamped when the post resolves the future, not when we look.
            waiting.add_done_callback(partial(stamp, request.respond))
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                **payloads.sign(request.body, secret=SECRET),
            }
            sent = time.perf_counter()
            try:
                async with session.post(url, data=request.body, headers=headers) as response:
                    await response.read()
                    status = response.status
            except OSError as exc:
                status, problem = 0, type(exc).__name__
            else:
                problem = f"HTTP {status}"
            if status != 200:
                result.errors[problem] += 1
                slack.forget(request.respond)
                continue
            last_ack = time.perf_counter()
            result.acks.append(last_ack - sent)
            if closed:
                await answer(request, sent, waiting)
            else:
                pending.append((request, sent, waiting))

    async with ClientSession(connector=TCPConnector(limit=concurrency)) as session:
        await asyncio.gather(*(client(session) for _ in range(concurrency)))
    await asyncio.gather(*(answer(*waiting) for waiting in pending))
    result.ack_seconds = last_ack - start
    result.answer_seconds = max(arrived.values(), default=start) - start
    return result


async def _round(
    kind: str,
    firm: Firm,
    slack: FakeSlack,
    database_url: str,
    n: int,
    concurrency: int,
    closed: bool,
) -> Round:
    """Start the server of `kind`, warm it up, then measure `n` requests."""
    async with _server(kind, database_url, slack.url) as (port, pid):
        await _fire(port, slack, _requests(firm, slack, WARMUP), min(concurrency, 4), True)
        requests = _requests(firm, slack, n)
        before = cpu_seconds([pid])
        result = await _fire(port, slack, requests, concurrency, closed)
        result.cpu = cpu_seconds([pid]) - before
    return result


# --- the report ----------------------------------------------------------------------------
@dataclass
class Outcome:
    """Every round against one server."""

    kind: str
    rounds: list[Round]

    @property
    def ack_rate(self) -> float:
        return statistics.median(r.ack_rate for r in self.rounds)

    @property
    def answer_rate(self) -> float:
        return statistics.median(r.answer_rate for r in self.rounds)

    def all(self, name: str) -> list[float]:
        return [x for r in self.rounds for x in getattr(r, name)]

    @property
    def errors(self) -> Counter[str]:
        return sum((r.errors for r in self.rounds), Counter())

    @property
    def cpu_ms(self) -> float:
        answers = len(self.all("answers"))
        return 1000 * sum(r.cpu for r in self.rounds) / answers if answers else float("nan")


def _ms(values: list[float], q: float) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000:.0f}"


def _ratio(rate: float, bare: float) -> str:
    return f"{rate / bare:.2f}" if bare else "-"


def report(outcomes: list[Outcome], n: int, rounds: int, concurrency: int, closed: bool) -> None:
    wait = "each client waits for its answer" if closed else "clients send on each ack"
    print(
        f"{n} signed /whodoes commands x {rounds} rounds per server, {concurrency} concurrent"
        f" clients, loopback, {wait}; rates = median round, latencies over every round"
    )
    print(
        f"{'server':<27} {'acks/s':>7} {'ratio':>6} {'ans/s':>7} {'ratio':>6} {'ack p50':>8}"
        f" {'p95':>6} {'p99':>6} {'ans p50':>8} {'p95':>6} {'p99':>6} {'cpu ms/ans':>10}"
    )
    bare = outcomes[0]
    for o in outcomes:
        acks, answers = o.all("acks"), o.all("answers")
        print(
            f"{LABELS[o.kind]:<27} {o.ack_rate:>7.0f} {_ratio(o.ack_rate, bare.ack_rate):>6}"
            f" {o.answer_rate:>7.0f} {_ratio(o.answer_rate, bare.answer_rate):>6}"
            f" {_ms(acks, 0.5):>8} {_ms(acks, 0.95):>6} {_ms(acks, 0.99):>6}"
            f" {_ms(answers, 0.5):>8} {_ms(answers, 0.95):>6} {_ms(answers, 0.99):>6}"
            f" {o.cpu_ms:>10.1f}"
        )
    for o in outcomes:
        answered = len(o.all("answers"))
        wrong = sum(r.wrong for r in o.rounds)
        print(
            f"- {LABELS[o.kind]}: {answered}/{n * rounds} answered, errors {dict(o.errors)},"
            f" wrong answers {wrong}"
        )
    print(
        "ratio = acks/s or completed answers/s relative to bare Bolt's in the same run"
        " (target >= 0.5); cpu ms/ans = the server process's user + system CPU per answer;"
        " Slack's ack deadline: 3000 ms; wrong = naming neither the card's owner nor the constant"
    )


async def main(argv: list[str] | None = None) -> list[Outcome]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="per server and round")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median)")
    parser.add_argument(
        "--open", action="store_true", help="send on each ack instead of waiting for answers"
    )
    load_firm_arguments(parser, ROOT, users=20)
    args = parser.parse_args(argv)
    n = max(1, min(args.requests, 100_000))
    concurrency = max(1, min(args.concurrency, 500))
    rounds = max(1, min(args.rounds, 20))
    args.users = max(1, min(args.users, 2000))

    outcomes = [Outcome(kind, []) for kind in SERVERS]
    with load_firm_on_sqlite(args, "throughput.db") as (firm, database_url):
        slack = FakeSlack(firm.emails)
        runner = await slack.start()
        try:
            # Interleaved rounds, so a noisy neighbour hurts every server alike.
            for _ in range(rounds):
                for outcome in outcomes:
                    outcome.rounds.append(
                        await _round(
                            outcome.kind, firm, slack, database_url, n, concurrency, not args.open
                        )
                    )
        finally:
            await runner.cleanup()
    report(outcomes, n, rounds, concurrency, not args.open)
    return outcomes


if __name__ == "__main__":
    asyncio.run(main())
