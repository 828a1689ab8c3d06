"""The Slack receiver's own Python per request, in one process: receiving and Block Kit.

    python benchmarks/receiver_pieces.py [--rounds 2000] [--users 50] [--people 5000]
                                         [--content DIR]

Two pieces of what `load.py`'s replica does per answer besides the turn, each timed alone
with `time.thread_time` (CPU of this thread: the neighbours on a shared machine barely move
it), after a warm-up:

- receiving: `SlackChannel.handle_http` on signed requests as `load.py` sends them (a DM,
  a button press, `/leaderboard`): the signature, the body read, Bolt's dispatch and the
  ack. The inbox is told the delivery was already claimed (`Worker.receive` answers None),
  so no database write is timed: that part belongs to `bot.inbox`.
- Block Kit: `message_blocks` and `fallback_text` (what `SlackMessenger.send` builds
  before it posts) for the replies of `load.py`'s cycle (who-does, referral, Confirm,
  Accept, `/leaderboard`), computed once through `conversation.handle` on the load firm.

Printed: µs of CPU per request kind and per reply set, mean and median.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _firm import load_firm_arguments, load_firm_on_sqlite  # noqa: E402
from multidict import CIMultiDict  # noqa: E402
from pydantic import SecretStr  # noqa: E402
from slack_sdk.web.async_slack_response import AsyncSlackResponse  # noqa: E402

from bot.channels.slack import SlackChannel  # noqa: E402
from bot.channels.slack_blocks import Stash, fallback_text, message_blocks  # noqa: E402
from bot.context import Context  # noqa: E402
from bot.conversation import handle  # noqa: E402
from bot.messages import Reply, Turn  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.store import Store  # noqa: E402
from tests.slack.payloads import (  # noqa: E402
    button_payload,
    command_body,
    dm_event,
    event_envelope,
    interaction_body,
    sign,
)

SECRET = "receiver-pieces-secret"
TEAM = "TLOAD"


def _bodies(user: str) -> dict[str, tuple[str, str]]:
    """`load.py`'s three kinds of request from `user`: (content type, body)."""
    dm = event_envelope(dm_event("who does tax?", user, 1), "EvPieces0001", 0, TEAM)
    respond = "http://127.0.0.1:9/respond/"
    confirm = {"draft": 1}
    press = button_payload("referral.confirm", confirm, user, "trigger.1", respond + "1", team=TEAM)
    command = command_body("/leaderboard", "", user, "CLOAD", "trigger.2", respond + "2", TEAM)
    form = "application/x-www-form-urlencoded"
    return {
        "dm": ("application/json", dm),
        "press": (form, interaction_body(press)),
        "command": (form, command),
    }


@dataclass
class _Request:
    """What `handle_http` and Bolt's aiohttp adapter read of a `web.Request`: a signed
    `POST /slack/events` (a stand-in, so that no mock's bookkeeping is timed)."""

    body: str
    headers: CIMultiDict[str]
    query_string: str = ""

    async def text(self) -> str:
        return self.body


def _request(content_type: str, body: str) -> Any:
    headers = {
        "Content-Type": content_type,
        "Content-Length": str(len(body.encode())),
        **sign(body, secret=SECRET),
    }
    return _Request(body, CIMultiDict(headers))


async def receiving(ctx: Context, rounds: int) -> dict[str, list[float]]:
    """CPU seconds of `handle_http` per request kind."""
    channel = SlackChannel(ctx)
    for middleware in channel.app._async_middleware_list:  # no auth.test round trip
        if hasattr(middleware, "auth_test_result"):
            middleware.auth_test_result = AsyncSlackResponse(
                client=None,
                http_verb="POST",
                api_url="auth.test",
                req_args={},
                data={"ok": True, "bot_id": "BBOT", "user_id": "UBOT", "team_id": TEAM},
                headers={},
                status_code=200,
            )

    async def claimed(*_: Any) -> None:
        return None

    channel.worker.receive = claimed  # type: ignore[method-assign]
    bodies = _bodies("U0PIECES")
    times: dict[str, list[float]] = {kind: [] for kind in bodies}
    for n in range(rounds + 50):
        for kind, (content_type, body) in bodies.items():
            request = _request(content_type, body)
            started = time.thread_time()
            response = await channel.handle_http(request)
            spent = time.thread_time() - started
            if response.status != 200:
                raise SystemExit(f"{kind}: {response.status} {response.text}")
            if n >= 50:
                times[kind].append(spent)
    return times


def reply_sets(ctx: Context, firm: Any, rounds: int) -> list[list[Reply]]:
    """The replies of `load.py`'s cycle, `rounds` times, as each turn returned them."""
    owners = {p.name: p.email for p in ctx.catalog().people}
    sets: list[list[Reply]] = []
    for n in range(rounds):
        _slack, email, _name = firm.users[n % len(firm.users)]
        card, receivers = firm.cards[n % len(firm.cards)]
        owner = receivers[n % len(receivers)]
        client = firm.clients[n % len(firm.clients)]
        here = f"bench:{email}"
        sets.append(handle(Turn(email, here, text=f"who does {card}?"), ctx))
        offer = handle(Turn(email, here, text=f"I referred {client} to {owner} for {card}"), ctx)
        sets.append(offer)
        confirm = _value(offer, "referral.confirm")
        saved = handle(Turn(email, here, action="referral.confirm", payload=confirm), ctx)
        sets.append(saved)
        receiver = owners[owner]
        accept = _value(saved, "referral.accept")
        press = Turn(receiver, f"bench:{receiver}", action="referral.accept", payload=accept)
        sets.append(handle(press, ctx))
        sets.append(handle(Turn(email, here, text="/leaderboard"), ctx))
    # Each reply set as `_deliver` sends it: the answer here, and each reply elsewhere alone.
    split: list[list[Reply]] = []
    for replies in sets:
        here_ = [r for r in replies if not (r.to_person or r.to_channel)]
        split += [here_] if here_ else []
        split += [[r] for r in replies if r.to_person or r.to_channel]
    return split


def _value(replies: list[Reply], action: str) -> Any:
    for reply in replies:
        for button in reply.buttons:
            if button.action == action:
                return button.value
    raise SystemExit(f"no {action} button")


def blocks(sets: list[list[Reply]], repeat: int) -> list[float]:
    stash = Stash()
    times: list[float] = []
    for n in range(repeat + 1):
        for replies in sets:
            started = time.thread_time()
            for _ in message_blocks(replies, stash):
                fallback_text(replies)
            if n:
                times.append(time.thread_time() - started)
    return times


def _print(name: str, times: list[float]) -> None:
    mean, median = statistics.fmean(times) * 1e6, statistics.median(times) * 1e6
    print(f"  {name:22} CPU µs mean {mean:7.1f}  median {median:7.1f}  ({len(times)} timed)")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    load_firm_arguments(parser, ROOT)
    args = parser.parse_args()
    with load_firm_on_sqlite(args, "pieces.db") as (firm, url):
        store = Store(url)
        settings = Settings(
            SLACK_BOT_TOKEN=SecretStr("xoxb-pieces"),  # type: ignore[call-arg]
            SLACK_SIGNING_SECRET=SecretStr(SECRET),  # type: ignore[call-arg]
        )
        ctx = Context(store, settings, content_check_seconds=3600)
        sets = reply_sets(ctx, firm, 40)
        received = asyncio.run(receiving(ctx, args.rounds))
        built = blocks(sets, max(1, args.rounds // 100))
        store.dispose()
    one, five, _ = os.getloadavg()
    print(f"receiver pieces, load average {one:.2f} / {five:.2f}")
    for kind, times in received.items():
        _print(f"handle_http {kind}", times)
    _print(f"blocks ({len(sets)} reply sets)", built)


if __name__ == "__main__":
    main()
