"""Slack through Bolt: `POST /slack/events` on the one aiohttp server, or Socket Mode.

Inbound, every Slack interaction becomes a `Turn` for `conversation.handle`: DMs
(`message.im`), mentions (the mention stripped), the slash commands (as "/whodoes tax" text),
buttons (`action_id` = our action id, value = the JSON payload), modal submissions (the
form's submit action with its values and context), the "Log as referral" message shortcut
and the App Home tab. Outbound, `Reply`s become Block Kit (see `slack_blocks`), forms become
modals, private replies become ephemeral, charts are uploaded as files.

Slack wants an answer within 3 seconds and retries when it doesn't. Every delivery is first
written to the durable inbox with its delivery claim (`bot.inbox`; 503 if the database
cannot take it, so Slack retries), then acknowledged; the inbox worker does the work (the
domain is synchronous and runs in worker threads) and each post is recorded so a resumed
item does not post twice. Web API 429s wait for `Retry-After`, 5xx back off, and channel
posts are paced to ~1 per second per channel (short bursts allowed), the answer to the
person who asked before the notices to others.
Nothing here logs a token, a message text or a referral detail.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import parse_qsl
from uuid import uuid4

import aiohttp
from aiohttp import web
from pydantic import SecretStr
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.interval_calculator import RetryIntervalCalculator
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot import inbox, outbox, turn_processes
from bot.channels import deliver_elsewhere, slack_oauth
from bot.channels.slack_blocks import (
    CHOICES_ACTION,
    FORM_CALLBACK,
    OPEN_FORM_ACTION,
    SHOW_WHOLE_ACTION,
    WHOLE_KIND,
    Stash,
    action_id,
    fallback_text,
    form_values,
    home_view,
    inbound_text,
    mentioned_users,
    message_blocks,
    modal_view,
    options_payload,
    read_metadata,
    read_value,
)
from bot.channels.slack_limits import REFUSALS
from bot.channels.stash import StoredStash
from bot.context import Context
from bot.conversation import choices_for, handle
from bot.logs import log_failure
from bot.messages import Button, Reply, Turn, Unreachable, form_from_data, form_to_data
from bot.people import by_email, column_by, remember_platform_id
from bot.render import render
from bot.settings import Settings
from bot.store import Store
from bot.store.models import InboxItem
from bot.turn_processes import TurnProcesses

log = logging.getLogger(__name__)
# The SDK logs request bodies (message texts) at DEBUG and response_urls at INFO; these
# dedicated loggers stay at WARNING whatever the root level, so nothing private leaks.
api_log = logging.getLogger("bot.channels.slack.api")
api_log.setLevel(logging.WARNING)
bolt_log = logging.getLogger("bot.channels.slack.bolt")
bolt_log.setLevel(logging.WARNING)
# Bolt also reads SLACK_BOT_TOKEN itself and warns that our client (same token) wins.
bolt_log.addFilter(lambda record: "will be unused" not in record.getMessage())

SLASH_COMMANDS = (
    "/whodoes",
    "/refer",
    "/referrals",
    "/story",
    "/idea",
    "/leaderboard",
    "/crossbot",
)
EVENTS = ("app_mention", "message.im", "app_home_opened")
BOLT_EVENTS = ("message", "app_mention", "app_home_opened")  # EVENTS as event types
SHORTCUTS = {"log_referral": "referral.form"}  # message shortcut callback id → our action
HOME_ACTION = "home.show"
# What each scope in manifest.json is for; tests/slack check the manifest asks for exactly these.
SCOPES = {
    "app_mentions:read": "app_mention events",
    "chat:write": "chat.postMessage, chat.postEphemeral",
    "commands": "the slash commands and the message shortcut",
    "files:write": "files_upload_v2 for charts",
    "im:history": "message.im events (DMs to the bot); a resumed post's look in its DM",
    "im:write": "conversations.open, to DM people",
    "users:read": "users.info",
    "users:read.email": "users.info email and users.lookupByEmail, to map people",
}
PLATFORM = "slack"
REPLAY_KEY = "crossbot_replay_key"  # in Bolt's request context: signature and timestamp
INBOX_FAILED = "crossbot_inbox_failed"  # in Bolt's request context: the write failed
VIEW_WAITER = "crossbot_view_waiter"  # in Bolt's request context: a modal's inline answer
RATE_LIMIT_RETRIES = 4
SERVER_ERROR_RETRIES = 3
VIEW_ACK_BUDGET = 2.0  # seconds to try answering a modal submit inline (Slack allows 3)
OPTIONS_BUDGET = 2.5  # seconds to find a menu's options (Slack shows none after 3)
DRAIN_SECONDS = 10.0
PACE_BURST = 3  # posts a channel may take at once (Slack: "short bursts >1 allowed")
SEND_EVENT = "crossbot_send"  # the metadata event type that carries a post's send key
HISTORY_PAGE = 200  # messages per conversations.history page when a resumed post looks
HISTORY_PAGES = 5  # at most this many pages: a burst's channel is a DM, a few messages
CLOCK_SLACK = timedelta(minutes=5)  # look back this much before receipt: the clocks differ
UNREACHABLE_ERRORS = frozenset(
    {"channel_not_found", "not_in_channel", "is_archived", "user_not_found", "users_not_found"}
)


def mount(
    app: web.Application, ctx: Context, channel: SlackChannel | None = None
) -> SlackChannel | None:
    """Add Slack to the server: `POST /slack/events` with a signing secret, Socket Mode
    with an app token (both if both are set). The Web API session and the Socket Mode
    connection live as long as the app (aiohttp cleanup context).

    Settings that cannot work leave Slack out with the reason logged; Teams still runs.
    """
    if channel is None:
        problem = config_problem(ctx.settings)
        if problem:
            log.error("%s", problem)
            return None
        channel = SlackChannel(ctx)
    app[SLACK_CHANNEL] = channel
    if channel.signing_secret:
        app.router.add_post("/slack/events", channel.handle_http)
    if channel.oauth is not None:
        for path in (slack_oauth.INSTALL_PATH, slack_oauth.REDIRECT_PATH):
            app.router.add_get(path, channel.handle_oauth)
    app.cleanup_ctx.append(channel.lifecycle)
    return channel


def _one_of(names: tuple[str, ...]) -> re.Pattern[str]:
    """A pattern matching exactly one of `names` (one Bolt listener for all of them)."""
    return re.compile("^(?:" + "|".join(re.escape(name) for name in names) + ")$")


def read_body(body: str, content_type: str) -> tuple[dict[str, Any], str]:
    """A signed body as Bolt reads it (a JSON object, an interaction's payload, a form),
    parsed once for us and for Bolt; or why it is not one Slack sends."""
    try:
        if content_type.split(";")[0] == "application/json" or body.startswith("{"):
            parsed = json.loads(body)
            return (
                (parsed, "") if isinstance(parsed, dict) else ({}, "the JSON body is not an object")
            )
        if body and not all("=" in field for field in body.split("&")):
            return {}, "the body is not the JSON or form Slack sends"
        form = dict(parse_qsl(body, keep_blank_values=True))
        if "payload" not in form:
            return form, ""
        payload = json.loads(form["payload"])
    except ValueError:
        return {}, "the body is not the JSON or form Slack sends"
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        return {}, "the interaction payload has no type"
    view = payload.get("view")
    if view is not None and not (isinstance(view, dict) and "type" in view):
        return {}, "the interaction's view has no type"
    return payload, ""


def _bolt_request(request: web.Request, raw: str, body: dict[str, Any]) -> AsyncBoltRequest:
    """Bolt's request for a body already read (`read_body`): Bolt would parse it again.

    Built as Bolt builds a Socket Mode request (from the parsed body), then marked HTTP with
    its raw body, so that Bolt still verifies the signature as for any HTTP request."""
    bolt_request = AsyncBoltRequest(
        body=body,
        query=request.query_string,
        headers=request.headers,  # type: ignore[arg-type]
        mode="socket_mode",
    )
    bolt_request.raw_body, bolt_request.mode = raw, "http"
    return bolt_request


def config_problem(settings: Settings) -> str:
    """What stops Slack from working with these settings, in words; "" when nothing does."""
    if not _secret(settings.slack_bot_token) and not slack_oauth.oauth_enabled(settings):
        return render("slack_config_error", problem="bot_token")
    app_token = _secret(settings.slack_app_token)
    if app_token and not app_token.startswith("xapp-"):
        return render("slack_config_error", problem="app_token")
    if not app_token and not _secret(settings.slack_signing_secret):
        return render("slack_config_error", problem="signing_secret")
    return ""


def _secret(value: SecretStr | None) -> str:
    return value.get_secret_value() if value else ""


def retry_handlers(backoff: RetryIntervalCalculator | None = None) -> list[AsyncRetryHandler]:
    """Connection errors once, 429 after Retry-After (several times), 500/503 with backoff."""
    return [
        AsyncConnectionErrorRetryHandler(),
        AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        AsyncServerErrorRetryHandler(
            max_retry_count=SERVER_ERROR_RETRIES,
            interval_calculator=backoff or BackoffRetryIntervalCalculator(backoff_factor=0.5),
        ),
    ]


class Pacer:
    """Paces posts to each channel as Slack asks: about one a second, short bursts allowed.

    A token bucket per channel: `burst` posts at once, then one every `interval` seconds.
    A post that finds its channel's bucket empty queues; an answer (`answer=True`: the
    person is waiting for it) goes before the notices queued there, which keep their
    order. Other channels never wait. `clock` and `sleep` are injectable for tests.
    """

    def __init__(
        self,
        interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        burst: int = PACE_BURST,
    ) -> None:
        self.interval = interval
        self.clock = clock
        self.sleep = sleep
        self.burst = max(1, burst)
        self._lanes: dict[str, _Lane] = {}

    async def wait(self, channel: str, answer: bool = False) -> None:
        """Return when a post to `channel` may go out."""
        now = self.clock()
        lane = self._lanes.get(channel)
        if lane is None:
            if len(self._lanes) >= 10_000:  # forget channels that are free again
                self._lanes = {c: q for c, q in self._lanes.items() if q.busy(now)}
            lane = self._lanes[channel] = _Lane(now)
        if not lane.queued() and self._take(lane, now):
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        (lane.answers if answer else lane.others).append(turn)
        if lane.server is None:
            lane.server = asyncio.ensure_future(self._serve(lane))
        await turn

    def _take(self, lane: _Lane, now: float) -> bool:
        """Take a token from `lane`'s bucket if it has one."""
        if now < self._ready(lane):
            return False
        lane.due = max(lane.due, now) + self.interval
        return True

    def _ready(self, lane: _Lane) -> float:
        """When `lane`'s bucket next holds a token (`due` less the burst's allowance)."""
        return lane.due - (self.burst - 1) * self.interval

    async def _serve(self, lane: _Lane) -> None:
        """Let the queued posts of one channel go, one per token, answers first."""
        try:
            while lane.queued():
                delay = self._ready(lane) - self.clock()
                if delay > 0:
                    await self.sleep(delay)
                    continue
                turn = lane.next()
                if turn is not None and self._take(lane, self.clock()):
                    turn.set_result(None)
        finally:
            lane.server = None


@dataclass(eq=False)
class _Lane:
    """One channel's bucket (`due`: when it would be empty again at one post per interval
    without bursts) and the posts queued for it."""

    due: float
    answers: deque[asyncio.Future[None]] = field(default_factory=deque)
    others: deque[asyncio.Future[None]] = field(default_factory=deque)
    server: asyncio.Future[None] | None = None

    def queued(self) -> bool:
        return bool(self.answers or self.others)

    def busy(self, now: float) -> bool:
        return self.queued() or self.due > now

    def next(self) -> asyncio.Future[None] | None:
        """The next waiting post (an answer first), skipping those given up on."""
        for queue in (self.answers, self.others):
            while queue:
                turn = queue.popleft()
                if not turn.done():
                    return turn
        return None


class DeliveryFailed(Exception):
    """A response_url refused our message (expired, or Slack is down)."""


class _Bounded(OrderedDict[str, str]):
    """A small LRU map (user id → email, user id → DM channel)."""

    def __init__(self, size: int = 10_000) -> None:
        super().__init__()
        self.size = size

    def remember(self, key: str, value: str) -> str:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)
        return value


@dataclass(eq=False)
class SlackMessenger:
    """The outbound port for Slack: channel posts, DMs, ephemeral messages, uploads.

    Also the directory between Slack user ids and people: by `slack_id`, else by the email
    Slack knows (users.info / users.lookupByEmail), remembered on the `Person` at first
    contact. With several workspaces (`persist_ids` False) a person has one id in each, so
    ids are only remembered in memory, per workspace, and people are found by email.
    """

    client: AsyncWebClient
    store: Store
    pacer: Pacer
    stash: Stash
    persist_ids: bool = True
    # shared with the Web API client
    session: aiohttp.ClientSession | None = field(default=None, init=False)
    _emails: _Bounded = field(default_factory=_Bounded, init=False)
    _dms: _Bounded = field(default_factory=_Bounded, init=False)
    _ids: _Bounded = field(default_factory=_Bounded, init=False)  # email → user id here

    @classmethod
    def for_context(
        cls,
        ctx: Context,
        *,
        pacer: Pacer | None = None,
        backoff: RetryIntervalCalculator | None = None,
        stash: Stash | None = None,
        token: str | None = None,
    ) -> SlackMessenger:
        """A Messenger from the settings, with retries; also for processes that only send
        (the digest, nudges), which need no Bolt app and no server. `token` is one
        workspace's (OAuth mode); else `SLACK_BOT_TOKEN`."""
        settings = ctx.settings
        base_url = settings.slack_api_url or AsyncWebClient.BASE_URL
        client = AsyncWebClient(
            token=token or _secret(settings.slack_bot_token) or None,
            base_url=base_url if base_url.endswith("/") else base_url + "/",
            logger=api_log,
            retry_handlers=retry_handlers(backoff),
        )
        persist = token is None and not slack_oauth.oauth_enabled(settings)
        return cls(client, ctx.store, pacer or Pacer(), stash or Stash(), persist)

    # --- Messenger ---------------------------------------------------------------------
    async def post(self, channel: str, reply: Reply) -> None:
        try:
            await self.send(channel, [reply])
        except SlackApiError as exc:
            if _error(exc) in UNREACHABLE_ERRORS:
                raise Unreachable(channel) from None
            raise

    async def dm(self, person: str, reply: Reply) -> None:
        """Send to a person by email; `Unreachable` if Slack does not know them."""
        user = await self.user_id_for(person)
        await self.send(await self.dm_channel(user), [reply])

    # --- sending -----------------------------------------------------------------------
    async def send(
        self,
        channel: str,
        replies: list[Reply],
        thread_ts: str | None = None,
        *,
        answer: bool = False,
    ) -> None:
        """Post replies as one message (more if over 50 blocks), then upload their charts.
        `answer`: the person is waiting for these, so they go before paced notices."""
        replies, shown = self.as_messages(replies)
        if shown:
            text = fallback_text(shown)
            for blocks in message_blocks(shown, self.stash):
                await self._post_message(channel, text, blocks, thread_ts, answer)
        await self.upload_images(channel, replies, thread_ts, answer=answer)

    async def _post_message(
        self, channel: str, text: str, blocks: list[Any], thread_ts: str | None, answer: bool
    ) -> None:
        """chat.postMessage; a payload Slack still refuses as too big is replaced by a
        plain notice saying so, instead of vanishing."""
        await self.pacer.wait(channel, answer)
        try:
            await inbox.once(
                self.client.chat_postMessage,
                keyed=inbox.Keyed(
                    send_metadata,
                    partial(self._posted, channel, thread_ts),
                    findable=_in_dm(channel),
                ),
                channel=channel,
                text=text,
                blocks=blocks,
                thread_ts=thread_ts,
                unfurl_links=False,
            )
        except SlackApiError as exc:
            if _error(exc) not in REFUSALS:
                raise
            log.warning("chat.postMessage refused the payload: %s", _error(exc))
            notice = render("slack_too_big")
            await self.client.chat_postMessage(channel=channel, text=notice, thread_ts=thread_ts)

    async def _posted(
        self, channel: str, thread_ts: str | None, key: str, since: datetime | None
    ) -> bool:
        """Whether a post of ours carrying send `key` is in `channel` (in the thread, for a
        reply) since `since`: conversations.history / .replies with all metadata. Only DMs
        are looked in (im:history); reading channels would need scopes the bot does not
        ask for, so a channel post is sent again (at least once)."""
        if not _in_dm(channel):
            return False
        args: dict[str, Any] = {
            "channel": channel,
            "include_all_metadata": True,
            "limit": HISTORY_PAGE,
        }
        if since is not None:
            args["oldest"] = f"{(since - CLOCK_SLACK).timestamp():.6f}"
        cursor: str | None = None
        for _ in range(HISTORY_PAGES):
            if thread_ts:
                page = await self.client.conversations_replies(ts=thread_ts, cursor=cursor, **args)
            else:
                page = await self.client.conversations_history(cursor=cursor, **args)
            if any(sent_key(m) == key for m in page.get("messages") or []):
                return True
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if cursor is None:
                return False
        return False

    async def upload_images(
        self,
        channel: str,
        replies: list[Reply],
        thread_ts: str | None = None,
        *,
        answer: bool = False,
    ) -> None:
        for reply in replies:
            if reply.image:
                await self.pacer.wait(channel, answer)
                await inbox.once(
                    self.client.files_upload_v2,
                    channel=channel,
                    file=reply.image,
                    filename=f"{reply.kind or 'chart'}.png",
                    title=reply.image_alt or reply.kind or "chart",
                    thread_ts=thread_ts,
                )

    async def ephemeral(
        self, channel: str, user: str, replies: list[Reply], thread_ts: str | None = None
    ) -> None:
        for blocks in message_blocks(replies, self.stash):
            await inbox.once(
                self.client.chat_postEphemeral,
                channel=channel,
                user=user,
                text=fallback_text(replies),
                blocks=blocks,
                thread_ts=thread_ts,
            )

    async def respond(self, response_url: str, replies: list[Reply]) -> None:
        """An ephemeral answer through a slash command's or a button's response_url."""
        webhook = AsyncWebhookClient(
            response_url,
            session=self.session,
            logger=api_log,
            retry_handlers=self.client.retry_handlers,
        )
        for blocks in message_blocks(replies, self.stash):
            message = {
                "response_type": "ephemeral",
                "replace_original": False,
                "text": fallback_text(replies),
                "blocks": blocks,
            }
            response = await inbox.once(webhook.send_dict, message)
            if response is not None and response.status_code != 200:
                raise DeliveryFailed(response.status_code)

    def as_messages(self, replies: list[Reply]) -> tuple[list[Reply], list[Reply]]:
        """`replies` with each form as a button that opens it, and those of them that a
        message shows (text, facts or buttons; the others carry only a chart)."""
        replies = [self.form_as_button(r) if r.form else r for r in replies]
        return replies, [r for r in replies if r.text or r.facts or r.buttons]

    def form_as_button(self, reply: Reply) -> Reply:
        """A form where no modal can open (no trigger): a button that opens it."""
        assert reply.form is not None
        key = self.stash.put({"form": form_to_data(reply.form), "text": reply.text})
        button = Button(reply.form.title, OPEN_FORM_ACTION, {"form": key}, "primary")
        return replace(reply, form=None, buttons=[*reply.buttons, button])

    # --- directory ---------------------------------------------------------------------
    async def email_for(self, user: str) -> str | None:
        """The email of a Slack user: memory, then `Person.slack_id`, then users.info."""
        if user in self._emails:
            return self._emails[user]
        email = await asyncio.to_thread(self._stored_email, user)
        if email is None:
            profile = await self._profile(user)
            email = (profile.get("email") or "").strip().lower() or None
            if email and self.persist_ids:
                await asyncio.to_thread(self._remember, user, email)
        if not email:
            return None
        self._ids.remember(email, user)  # a reply to them later needs no lookup either
        return self._emails.remember(user, email)

    async def name_for(self, user: str) -> str | None:
        """How to write a mentioned user in the text the router reads: their name."""
        email = await self.email_for(user)
        if email:
            name = await asyncio.to_thread(self._stored_name, email)
            if name:
                return name
        profile = await self._profile(user)
        return profile.get("real_name") or profile.get("display_name") or None

    async def user_id_for(self, email: str) -> str:
        known = self._ids.get(email.lower())
        if known:
            return known
        user = await asyncio.to_thread(self._stored_slack_id, email)
        if user:
            return self._ids.remember(email.lower(), user)  # one read per person, not per post
        try:
            response = await self.client.users_lookupByEmail(email=email)
        except SlackApiError as exc:
            if _error(exc) in UNREACHABLE_ERRORS:
                raise Unreachable(email) from None
            raise
        user = str(response["user"]["id"])
        if self.persist_ids:
            await asyncio.to_thread(self._remember, user, email)
        self._emails.remember(user, email.lower())
        return self._ids.remember(email.lower(), user)

    def dm_seen(self, user: str, channel: str) -> None:
        """`user` wrote to the bot in DM `channel`: their DM with the bot is that channel
        (Slack keeps one per person), so no conversations.open is needed to write to them."""
        if _in_dm(channel) and user and user not in self._dms:
            self._dms.remember(user, channel)

    async def dm_channel(self, user: str) -> str:
        if user not in self._dms:
            response = await self.client.conversations_open(users=user)
            self._dms.remember(user, str(response["channel"]["id"]))
        return self._dms[user]

    async def _profile(self, user: str) -> dict[str, Any]:
        try:
            response = await self.client.users_info(user=user)
        except SlackApiError as exc:
            log.warning("users.info failed: %s", _error(exc))
            return {}
        profile = dict(response["user"].get("profile") or {})
        return profile

    def _stored_email(self, user: str) -> str | None:
        with self.store.read() as session:
            email: str | None = column_by(session, "email", "slack_id", user)
            return email

    def _stored_name(self, email: str) -> str | None:
        with self.store.read() as session:
            name: str | None = column_by(session, "name", "email", email.strip().lower())
            return name

    def _stored_slack_id(self, email: str) -> str | None:
        if not self.persist_ids:  # the stored id may be another workspace's
            return None
        with self.store.read() as session:
            user: str | None = column_by(session, "slack_id", "email", email.strip().lower())
            return user

    def _remember(self, user: str, email: str) -> None:
        with self.store.write() as session:
            person = by_email(session, email)
            if person is not None:
                remember_platform_id(session, person, "slack", user)


def send_metadata(key: str) -> dict[str, Any]:
    """chat.postMessage's `metadata` argument carrying a send key (`inbox.Keyed.tag`)."""
    return {"metadata": {"event_type": SEND_EVENT, "event_payload": {"key": key}}}


def _in_dm(channel: str) -> bool:
    """Whether `channel` is a DM, whose history the bot may read (im:history)."""
    return channel.startswith("D")


def sent_key(message: dict[str, Any]) -> str | None:
    """The send key a message from conversations.history carries, if it is one of ours."""
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != SEND_EVENT:
        return None
    key = (metadata.get("event_payload") or {}).get("key")
    return str(key) if key is not None else None


def _error(exc: SlackApiError) -> str:
    """Slack's error code (`not_in_channel`...): safe to log, unlike the request."""
    data = getattr(exc.response, "data", None)
    return str(data.get("error", "")) if isinstance(data, dict) else "http_error"


@dataclass
class Where:
    """Where the answers to one interaction go.

    `channel` is where it happened; `ephemeral_only` (slash commands, shortcuts, buttons on
    ephemeral messages) sends everything through `response_url`, visible to the person only,
    because the bot may not be in that channel and the answer may be private.
    """

    user: str
    channel: str
    is_im: bool = False
    thread_ts: str | None = None
    response_url: str | None = None
    ephemeral_only: bool = False
    trigger_id: str | None = None

    @property
    def conversation(self) -> str:
        return f"slack:{self.channel}"


class SlackChannel:
    """The Bolt app and its listeners; turns Slack traffic into `Turn`s and back."""

    def __init__(
        self,
        ctx: Context,
        *,
        pacer: Pacer | None = None,
        backoff: RetryIntervalCalculator | None = None,
        view_ack_budget: float = VIEW_ACK_BUDGET,
    ) -> None:
        settings = ctx.settings
        self.ctx = ctx
        self.signing_secret = _secret(settings.slack_signing_secret)
        self.app_token = _secret(settings.slack_app_token)
        self.view_ack_budget = view_ack_budget
        self.stash: Stash = StoredStash(ctx.store)
        self.default_messenger = SlackMessenger.for_context(
            ctx, pacer=pacer, backoff=backoff, stash=self.stash
        )
        self.oauth = None
        self.outbound = self.default_messenger  # for scheduled work (no request)
        if slack_oauth.oauth_enabled(settings):
            self.oauth = slack_oauth.oauth_flow(
                settings, ctx.store, self.default_messenger.client, SCOPES
            )
            self.workspaces = slack_oauth.Workspaces(
                lambda token: SlackMessenger.for_context(
                    ctx,
                    pacer=self.default_messenger.pacer,
                    backoff=backoff,
                    stash=self.stash,
                    token=token,
                )
            )
            from bot.channels.slack_workspaces import AllWorkspaces

            self.outbound = AllWorkspaces(
                self.default_messenger, self.workspaces, settings.slack_client_id or ""
            )
        self.app = AsyncApp(
            # Named, or Bolt names the app after its caller's file by inspect.stack(), which
            # reads the source of every frame on the stack: 0.1 s in a deep one.
            name="crossbot",
            client=self.default_messenger.client,
            signing_secret=self.signing_secret,
            request_verification_enabled=bool(self.signing_secret),
            logger=bolt_log,
            # Our listeners only ack (the inbox worker does the work), so Bolt runs them in
            # the request: otherwise it starts each in a task and polls every 10 ms for the
            # ack, and a command or a button waited that long for its answer.
            process_before_response=True,
            oauth_flow=self.oauth,
            # No workflow functions and no assistant threads: their per-request middleware
            # and per-listener kwargs would be work for nothing.
            attaching_function_token_enabled=False,
            attaching_conversation_kwargs_enabled=False,
        )
        self._verifier = SignatureVerifier(self.signing_secret or "-")
        self.registered: list[tuple[str, str]] = []
        workers = inbox.pool_size(ctx.store, settings.inbox_workers)
        self._turns = _turn_processes(ctx)
        self.worker = inbox.Worker(
            ctx.store,
            PLATFORM,
            self._process,
            concurrency=inbox.in_hand(self._turns.processes if self._turns else workers),
            lease=settings.inbox_lease,
            poll_seconds=settings.inbox_poll_seconds,
        )
        # The router's own threads, one per item in hand: a slow turn never holds up the
        # directory lookups and inbox writes that run in the default executor.
        self._domain = ThreadPoolExecutor(workers, thread_name_prefix="crossbot-slack")
        self._tasks: set[asyncio.Task[Any]] = set()
        self._view_waiters: dict[int, asyncio.Future[dict[str, Any] | None]] = {}
        self._register()

    # --- plumbing ----------------------------------------------------------------------
    @property
    def messenger(self) -> SlackMessenger:
        """The messenger of the workspace this request came from (OAuth mode); outside a
        request, the one for scheduled work (every installed workspace, in OAuth mode)."""
        return slack_oauth.current.get() or self.outbound

    @property
    def client(self) -> AsyncWebClient:
        return self.messenger.client

    async def _workspace(self, context: Any, next: Callable[[], Awaitable[Any]]) -> None:
        """Bolt middleware (OAuth mode): what this request sends goes out with its token."""
        if context.bot_token:
            slack_oauth.current.set(
                self._workspace_messenger(context.enterprise_id, context.team_id, context.bot_token)
            )
        await next()

    def _workspace_messenger(
        self, enterprise: str | None, team: str | None, token: str
    ) -> SlackMessenger:
        """The workspace's messenger with `token`, on the one HTTP session every call shares."""
        messenger = self.workspaces.messenger(enterprise, team, token)
        messenger.session = self.default_messenger.session
        messenger.client.session = self.default_messenger.session
        return messenger

    async def _installed_messenger(self, meta: dict[str, Any]) -> SlackMessenger | None:
        """The messenger of the workspace a stored delivery came from: the one its request
        just used (fresh token), else, for an item resumed after a restart, the stored one."""
        enterprise, team = str(meta.get("enterprise") or ""), str(meta.get("team") or "")
        known = self.workspaces.known(enterprise, team)
        if known is not None:
            return known
        client_id = self.ctx.settings.slack_client_id or ""
        bots = await asyncio.to_thread(slack_oauth.installed_bots, self.ctx.store, client_id)
        for bot_enterprise, bot_team, token in bots:
            if (bot_enterprise, bot_team) == (enterprise, team):
                return self._workspace_messenger(enterprise, team, token)
        return None

    async def handle_oauth(self, request: web.Request) -> web.Response:
        """`GET /slack/install` and `/slack/oauth_redirect` (OAuth mode)."""
        assert self.oauth is not None
        return await slack_oauth.handle_oauth(self.oauth, request)

    async def answer(self, turn: Turn) -> list[Reply]:
        """The router's replies, computed in a turn process when configured, else in a
        worker thread (the domain is synchronous)."""
        if self._turns is not None:
            return await self._turns.answer(turn, outbox.next_decision())
        loop = asyncio.get_running_loop()
        route = outbox.deciding(partial(handle, turn, self.ctx))
        return await loop.run_in_executor(self._domain, route)

    async def handle_http(self, request: web.Request) -> web.Response:
        """`POST /slack/events`: Bolt verifies the signature and timestamp (401 otherwise).

        A timestamp that is not a number or a signed body Slack would never send gets 400.
        A signed command or interaction carries its signature and timestamp to the inbox
        as its delivery key, so a copy sent again is acknowledged and dropped. When the
        inbox cannot be written, Slack gets 503 and retries.
        """
        body = await request.text()
        timestamp = request.headers.get("X-Slack-Request-Timestamp")
        if timestamp is not None and not timestamp.strip().isdigit():
            return web.Response(status=400, text="X-Slack-Request-Timestamp is not a number")
        signature = request.headers.get("X-Slack-Signature", "")
        replay_key = ""
        signed = bool(timestamp) and self._verifier.is_valid(body, timestamp or "", signature)
        if signed:
            parsed, problem = read_body(body, request.headers.get("Content-Type", ""))
            if problem:
                return web.Response(status=400, text=problem)
            if not body.lstrip().startswith("{"):  # events (JSON) are claimed by event_id
                replay_key = f"{timestamp}:{signature}"
            bolt_request = _bolt_request(request, body, parsed)
        else:
            try:
                bolt_request = await to_bolt_request(request)
            except ValueError:  # an unsigned body Bolt cannot even parse
                return web.Response(status=401, text="not a Slack request")
        if replay_key:
            bolt_request.context[REPLAY_KEY] = replay_key
        response = await self.app.async_dispatch(bolt_request)
        if bolt_request.context.get(INBOX_FAILED):
            return web.Response(status=503, text="busy, please retry")
        if response.status >= 500:  # a signed body our listeners could not read
            return web.Response(status=400, text="Slack request not understood")
        return await to_aiohttp_response(response)

    async def _receive(self, req: Any, resp: Any, next: Callable[[], Awaitable[None]]) -> Any:
        """Bolt middleware: store the delivery (and claim it) before any listener acks it."""
        body = req.body if isinstance(req.body, dict) else {}
        kind = work_kind(body)
        if kind is None:
            return await next()
        context = req.context
        key = delivery_key(body, str(context.get(REPLAY_KEY) or ""))
        meta = {
            "bot_user": str(context.get("bot_user_id") or ""),
            # OAuth mode: which workspace's token answers it (the token itself is not stored)
            "enterprise": str(context.get("enterprise_id") or ""),
            "team": str(context.get("team_id") or ""),
        }
        try:
            received = await self.worker.receive(key, body, meta)
        except Exception as exc:  # nothing acknowledged: Slack retries
            log_failure(log, "slack inbox write failed", exc)
            context[INBOX_FAILED] = True
            return BoltResponse(status=503, body="")
        if received is not None:
            if kind == "view":
                waiter = asyncio.get_running_loop().create_future()
                self._view_waiters[received.id] = waiter
                context[VIEW_WAITER] = waiter
            self.worker.submit(received.id, received.item)
        return await next()

    async def lifecycle(self, app: web.Application) -> AsyncIterator[None]:
        """One HTTP session for all Web API calls; Socket Mode when an app token is set."""
        session = aiohttp.ClientSession()
        self.client.session = session
        self.messenger.session = session
        socket = None
        if self.app_token:
            from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

            socket = AsyncSocketModeHandler(
                self.app, self.app_token, logger=bolt_log, web_client=self.client
            )
            await socket.connect_async()
        self.worker.start()  # also resumes what a previous run or a dead replica left
        try:
            yield
        finally:
            await self.worker.stop(DRAIN_SECONDS)
            await self.drain(DRAIN_SECONDS)
            if socket is not None:
                await socket.close_async()
            await session.close()
            self._domain.shutdown(wait=False)
            if self._turns is not None:
                await asyncio.to_thread(self._turns.close)

    def spawn(self, work: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run work after the ack, tracked so shutdown (and tests) can wait for it."""
        task = asyncio.ensure_future(self._guarded(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _guarded(self, work: Coroutine[Any, Any, Any]) -> Any:
        try:
            return await work
        except Exception as exc:  # a background failure must not vanish silently
            log_failure(log, "slack background work failed", exc)
            return None

    async def drain(self, timeout: float | None = None) -> None:
        """Wait until all work started so far (and work it started) has finished."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._tasks or self.worker._tasks:
            await self.worker.drain(timeout)
            if not self._tasks:
                continue
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            done, _ = await asyncio.wait(set(self._tasks), timeout=left)
            if not done:
                return

    def _register(self) -> None:
        app = self.app
        app.middleware(self._receive)
        if self.oauth is not None:
            app.use(self._workspace)
        # One listener per kind of request, not one per command or event, the commonest
        # first (messages, buttons, commands): Bolt asks each listener in turn whether it
        # matches, and builds its arguments for each asking. The kinds are disjoint.
        app.event(_one_of(BOLT_EVENTS))(self._on_event)
        self.registered += [("event", name) for name in EVENTS]
        app.action(re.compile(r".+"))(self._on_action)
        self.registered.append(("interactivity", "block_actions"))
        app.command(_one_of(SLASH_COMMANDS))(self._on_command)
        self.registered += [("command", command) for command in SLASH_COMMANDS]
        app.view(FORM_CALLBACK)(self._on_view_submission)
        self.registered.append(("interactivity", "view_submission"))
        for callback_id in SHORTCUTS:
            app.shortcut(callback_id)(self._on_shortcut)
            self.registered.append(("shortcut", callback_id))
        app.options(re.compile("^" + re.escape(CHOICES_ACTION)))(self._on_options)
        self.registered.append(("interactivity", "block_suggestion"))

    # --- listeners: the inbox has the delivery (`_receive`); ack it ------------------------
    async def _on_command(self, ack: Any) -> None:
        await ack()

    async def _on_action(self, ack: Any) -> None:
        await ack()

    async def _on_shortcut(self, ack: Any) -> None:
        await ack()

    async def _on_event(self) -> None:
        """Events are acked by Bolt; the inbox worker answers them."""

    async def _on_view_submission(self, ack: Any, context: Any) -> None:
        """Answer inline when quick (a form shown again replaces the modal), else ack first."""
        waiter = context.get(VIEW_WAITER)
        update = None
        if waiter is not None:
            try:
                update = await asyncio.wait_for(asyncio.shield(waiter), self.view_ack_budget)
            except TimeoutError:
                waiter.cancel()  # the worker sends everything to the DM instead
        if update is not None:
            await ack(response_action="update", view=update)
        else:
            await ack()

    # --- the work ----------------------------------------------------------------------
    async def _process(self, item: InboxItem) -> None:
        """Do what one stored delivery asks (called by the inbox worker)."""
        if self.oauth is not None:
            slack_oauth.current.set(await self._installed_messenger(item.meta))
        body = item.body
        kind = work_kind(body)
        event = body.get("event") or {}
        if kind == "dm":
            await self._message(event, body, bot_user="")
        elif kind == "mention":
            await self._message(event, body, str(item.meta.get("bot_user") or ""))
        elif kind == "home":
            await self._home(str(event["user"]))
        elif kind == "command":
            await self._command(body)
        elif kind == "action":
            for action in body.get("actions") or []:
                await self._action(body, action)
        elif kind == "shortcut":
            await self._shortcut(body)
        elif kind == "view":
            await self._view(item)

    async def _view(self, item: InboxItem) -> None:
        """A modal submitted: a form shown again goes back inline if the ack still waits."""
        body = item.body
        view = body.get("view") or {}
        user = str(body["user"]["id"])
        metadata = read_metadata(view.get("private_metadata"), self.stash)
        conversation = str(metadata.get("cv") or "slack:modal")
        replies = await self._submission(user, metadata, view, conversation)
        waiter = self._view_waiters.pop(item.id or 0, None)
        if waiter is not None and not waiter.done():
            again = next((r for r in replies if r.form and not (r.to_person or r.to_channel)), None)
            update = await self._modal(again, conversation) if again is not None else None
            if not waiter.done():
                waiter.set_result(update)
                replies = [r for r in replies if r is not again]
        await self._deliver_to_dm(user, replies)

    async def _on_options(self, ack: Any, payload: dict[str, Any]) -> None:
        """A menu's options as the person types (`external_select`), answered in the ack."""
        source = str(payload.get("action_id") or "").removeprefix(CHOICES_ACTION)
        query = str(payload.get("value") or "")[:200]
        loop = asyncio.get_running_loop()
        try:
            found = await asyncio.wait_for(
                loop.run_in_executor(self._domain, choices_for, source, query, self.ctx),
                OPTIONS_BUDGET,
            )
        except Exception as exc:  # Slack shows "no options"; nothing else to tell
            log_failure(log, "slack options failed", exc)
            found = []
        await ack(**options_payload(found))

    async def _command(self, command: dict[str, Any]) -> None:
        channel = str(command.get("channel_id") or "")
        where = Where(
            user=str(command["user_id"]),
            channel=channel,
            is_im=channel.startswith("D"),
            response_url=command.get("response_url"),
            ephemeral_only=True,
            trigger_id=command.get("trigger_id"),
        )
        text = await self._text(str(command.get("text") or ""))
        name = str(command.get("command") or "")
        await self._turn(where, text=f"{name} {text}".strip())

    async def _message(self, event: dict[str, Any], body: dict[str, Any], bot_user: str) -> None:
        channel = str(event.get("channel") or "")
        is_im = event.get("channel_type") == "im"
        where = Where(
            user=str(event["user"]),
            channel=channel,
            is_im=is_im,
            # In a channel the answer goes in the thread of the mention, keeping it tidy.
            thread_ts=event.get("thread_ts") or (None if is_im else event.get("ts")),
        )
        if is_im:
            self.messenger.dm_seen(where.user, channel)
        text = await self._text(str(event.get("text") or ""), bot_user)
        await self._turn(where, text=text, event_id=body.get("event_id"))

    async def _action(self, body: dict[str, Any], action: dict[str, Any]) -> None:
        user = str(body["user"]["id"])
        container = body.get("container") or {}
        trigger = body.get("trigger_id")
        if container.get("type") == "message" and body.get("channel"):
            channel = str(body["channel"]["id"])
            where = Where(
                user=user,
                channel=channel,
                is_im=channel.startswith("D"),
                thread_ts=(body.get("message") or {}).get("thread_ts"),
                response_url=body.get("response_url"),
                ephemeral_only=bool(container.get("is_ephemeral")),
                trigger_id=trigger,
            )
        else:  # App Home or a modal: answer in the person's DM with the bot
            where = await self._dm_where(user, trigger)
        name = action_id(str(action.get("action_id") or ""))
        payload = read_value(action.get("value"), self.stash)
        if name == OPEN_FORM_ACTION:
            await self._reopen_form(where, payload)
            return
        if name == SHOW_WHOLE_ACTION:
            await self._show_whole(where, payload)
            return
        await self._turn(where, action=name, payload=payload)

    async def _shortcut(self, shortcut: dict[str, Any]) -> None:
        channel = str((shortcut.get("channel") or {}).get("id") or "")
        where = Where(
            user=str(shortcut["user"]["id"]),
            channel=channel,
            response_url=shortcut.get("response_url"),
            ephemeral_only=True,
            trigger_id=shortcut.get("trigger_id"),
        )
        text = await self._text(str((shortcut.get("message") or {}).get("text") or ""))
        action = SHORTCUTS[str(shortcut.get("callback_id"))]
        await self._turn(where, action=action, payload={"text": text})

    async def _home(self, user: str) -> None:
        """Publish the App Home tab; `home.show` in the router decides what it holds."""
        try:
            email = await self.messenger.email_for(user)
            turn = Turn(email or "", "slack:home", action=HOME_ACTION, platform="slack")
            replies = await self.answer(turn)
            here = await deliver_elsewhere(replies, self.messenger)
            view = home_view([r for r in here if not r.form], self.stash)
            await inbox.once(self.client.views_publish, user_id=user, view=view)
        except Exception as exc:
            log_failure(log, "slack home failed", exc)

    async def _submission(
        self, user: str, metadata: dict[str, Any], view: dict[str, Any], conversation: str
    ) -> list[Reply]:
        try:
            if not metadata.get("a"):
                return [Reply(render("slack_form_expired"), kind="slack_form_expired")]
            values, users = form_values((view.get("state") or {}).get("values") or {})
            for name, picked in users.items():
                values[name] = await self.messenger.email_for(picked) or ""
            email = await self.messenger.email_for(user)
            payload = {**(metadata.get("c") or {}), **values}
            turn = Turn(
                email or "",
                conversation,
                action=str(metadata["a"]),
                payload=payload,
                platform="slack",
            )
            return await self.answer(turn)
        except Exception as exc:
            log_failure(log, "slack form submit failed", exc)
            return [Reply(render("error"), kind="error")]

    async def _deliver_to_dm(self, user: str, replies: list[Reply]) -> None:
        if not replies:
            return
        try:
            where = await self._dm_where(user, None)
            await self._deliver(replies, where)
        except Exception as exc:
            log_failure(log, "slack delivery failed", exc)

    async def _dm_where(self, user: str, trigger_id: str | None) -> Where:
        channel = await self.messenger.dm_channel(user)
        return Where(user=user, channel=channel, is_im=True, trigger_id=trigger_id)

    async def _turn(
        self,
        where: Where,
        *,
        text: str = "",
        action: str | None = None,
        payload: dict[str, Any] | None = None,
        event_id: str | None = None,
    ) -> None:
        """Map the person, let the router answer (in a worker thread), deliver the replies."""
        try:
            email = await self.messenger.email_for(where.user)
            turn = Turn(
                person=email or "",
                conversation=where.conversation,
                text=text,
                action=action,
                payload=dict(payload or {}),
                platform="slack",
                is_direct=where.is_im,
                event_id=event_id,
            )
            replies = await self.answer(turn)
            await self._deliver(replies, where)
        except Exception as exc:
            log_failure(log, "slack turn failed", exc, kind="action" if action else "text")
            await self._apologise(where)

    async def _deliver(self, replies: list[Reply], where: Where) -> None:
        """The answer here first (the person is waiting for it; forms open as modals), then
        the replies for other people and channels, whose posts may be paced, with a notice
        here for anyone who could not be reached."""
        here = [r for r in replies if not (r.to_person or r.to_channel)]
        await self._answer_here(here, where)
        inbox.answered()
        if len(here) < len(replies):
            elsewhere = [r for r in replies if r.to_person or r.to_channel]
            notices = await deliver_elsewhere(elsewhere, self.messenger)
            if notices:
                await self._answer_here(notices, where)

    async def _answer_here(self, here: list[Reply], where: Where) -> None:
        rest: list[Reply] = []
        for reply in here:
            if reply.form and await self._open_modal(reply, where):
                continue
            rest.append(reply)
        if where.ephemeral_only:
            public, private = [], rest
        else:
            public = [r for r in rest if where.is_im or not r.private]
            private = [r for r in rest if not (where.is_im or not r.private)]
        if public:
            await self.messenger.send(where.channel, public, where.thread_ts, answer=True)
        if private:
            await self._send_private(private, where)

    async def _send_private(self, replies: list[Reply], where: Where) -> None:
        replies, shown = self.messenger.as_messages(replies)
        if shown and where.response_url:
            try:
                await self.messenger.respond(where.response_url, shown)
            except DeliveryFailed:  # the URL expired (30 minutes, 5 uses): say it in the DM
                dm = await self.messenger.dm_channel(where.user)
                await self.messenger.send(dm, shown, answer=True)
        elif shown:
            await self.messenger.ephemeral(where.channel, where.user, shown, where.thread_ts)
        if any(r.image for r in replies):  # an ephemeral message cannot hold a file
            dm = await self.messenger.dm_channel(where.user)
            await self.messenger.upload_images(dm, replies, answer=True)

    async def _open_modal(self, reply: Reply, where: Where) -> bool:
        """Open a form as a modal if this interaction still has its (single-use) trigger."""
        if not where.trigger_id:
            return False
        trigger, where.trigger_id = where.trigger_id, None
        view = await self._modal(reply, where.conversation)
        try:
            await inbox.once(self.client.views_open, trigger_id=trigger, view=view)
        except SlackApiError as exc:  # expired_trigger_id after a slow turn: offer a button
            log.warning("views.open failed: %s", _error(exc))
            return False
        return True

    async def _modal(self, reply: Reply, conversation: str) -> dict[str, Any]:
        form = reply.form
        assert form is not None
        slack_ids: dict[str, str] = {}
        for entry in form.inputs:
            if entry.kind == "person" and entry.initial:
                with contextlib.suppress(Unreachable, SlackApiError):  # else the picker is empty
                    slack_ids[entry.initial] = await self.messenger.user_id_for(entry.initial)
        metadata = {"a": form.submit_action, "c": form.context, "cv": conversation}
        return modal_view(form, reply.text, metadata, self.stash, slack_ids)

    async def _reopen_form(self, where: Where, payload: dict[str, Any]) -> None:
        stashed = self.stash.get(str(payload.get("form") or ""))
        if stashed is None:
            notice = Reply(render("slack_form_expired"), kind="slack_form_expired", private=True)
            await self._deliver([notice], where)
            return
        form = form_from_data(stashed["form"])
        await self._deliver([Reply(str(stashed.get("text") or ""), form=form)], where)

    async def _show_whole(self, where: Where, payload: dict[str, Any]) -> None:
        """All of a reply that was cut to fit one message, split across as many as it takes."""
        text = str(payload.get("text") or "")
        if not text:
            notice = Reply(render("slack_form_expired"), kind="slack_form_expired", private=True)
            await self._deliver([notice], where)
            return
        await self._deliver([Reply(text, kind=WHOLE_KIND, private=True)], where)

    async def _apologise(self, where: Where) -> None:
        sorry = Reply(render("error"), kind="error", private=True)
        try:
            if where.is_im and not where.ephemeral_only:
                await self.messenger.send(where.channel, [sorry], where.thread_ts, answer=True)
            else:
                await self._send_private([sorry], where)
        except Exception as exc:  # Slack itself is unreachable; nothing more to do
            log_failure(log, "slack apology failed", exc)

    async def _text(self, raw: str, bot_user: str = "") -> str:
        """Slack markup → the text a person meant, mentions of people as their names."""
        names: dict[str, str] = {}
        for user in set(mentioned_users(raw)) - {bot_user}:
            name = await self.messenger.name_for(user)
            if name:
                names[user] = name
        return inbound_text(raw, names.get, bot_user)


def _turn_processes(ctx: Context) -> TurnProcesses | None:
    """The turn processes `CROSSBOT_TURN_PROCESSES` asks for (None: turns in threads)."""
    wanted = ctx.settings.turn_processes or 0  # unset outside `crossbot serve`: threads
    if wanted <= 0:
        return None
    if not turn_processes.available(ctx.store.url):
        log.warning("an in-memory database: turns run in threads, not in processes")
        return None
    return TurnProcesses(ctx.store.url, ctx.settings, wanted)


def work_kind(body: dict[str, Any]) -> str | None:
    """What a Slack delivery asks of us (dm, mention, home, command, action, shortcut,
    view), or None for one we leave alone (other messages, the bot's own, edits)."""
    kind = body.get("type")
    if kind == "event_callback":
        event = body.get("event") or {}
        name = event.get("type")
        if name == "message":
            person = event.get("user") and not event.get("bot_id")
            plain = event.get("subtype") in (None, "file_share")
            return "dm" if event.get("channel_type") == "im" and person and plain else None
        if name == "app_mention":
            return "mention"
        if name == "app_home_opened" and event.get("tab") == "home" and event.get("user"):
            return "home"
        return None
    if "command" in body and "user_id" in body:
        return "command"
    if kind == "block_actions" and body.get("user"):
        return "action"
    if kind == "message_action" and body.get("callback_id") in SHORTCUTS:
        return "shortcut"
    if kind == "view_submission" and (body.get("view") or {}).get("callback_id") == FORM_CALLBACK:
        return "view"
    return None


def delivery_key(body: dict[str, Any], replay_key: str = "") -> str:
    """The delivery claim: an event's id, else the request's signature and timestamp
    (a copy sent again has both), else (Socket Mode commands) a fresh key."""
    if body.get("event_id"):
        return f"event:{body['event_id']}"
    if replay_key:
        return f"request:{replay_key}"
    return f"once:{uuid4().hex}"


SLACK_CHANNEL: web.AppKey[SlackChannel] = web.AppKey("crossbot.slack", SlackChannel)
