"""Microsoft Teams through the Bot Framework (mounted at `/api/messages`).

The adapter: the HTTP endpoint, authentication, turn plumbing, pacing and retries. Inbound
activities become `Turn`s for the router; `Reply`s go back as Adaptive Cards (schema 1.5)
or markdown text, built by `teams_cards.py`. `TeamsMessenger` reaches people and channels
proactively through stored conversation references.

Reliability: requests are authenticated when an app id is set, a replayed activity id is
processed once, connector 429/412/502/504 answers are retried with exponential backoff and
jitter, and every send is paced within Teams' per-conversation limits. An activity whose
turn stopped halfway is finished by the inbox worker (`TeamsChannel.resumer`) of any
process, proactively, without sending again what already went out.
"""

from __future__ import annotations

import asyncio
import html
import ipaddress
import logging
import random
import re
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from types import SimpleNamespace
from typing import Any, TypeVar
from urllib.parse import urlsplit

from aiohttp import web
from botbuilder.core import Bot, TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationParameters,
    ConversationReference,
)
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    UserTokenClient,
)
from msrest.exceptions import HttpOperationError
from sqlmodel import select
from sqlmodel.sql.expression import SelectOfScalar

from bot import inbox, outbox
from bot.channels import deliver_elsewhere
from bot.channels import teams_extension as extension
from bot.channels.teams_size import fit
from bot.context import Context
from bot.conversation import handle
from bot.logs import log_failure
from bot.messages import Reply, Turn, Unreachable
from bot.people import by_email, by_platform_id, remember_platform_id
from bot.render import render
from bot.settings import Settings
from bot.store.models import ConversationRef, InboxItem

log = logging.getLogger(__name__)

PLATFORM = "teams"
ROUTE = "/api/messages"
DRAIN_SECONDS = 10.0  # on stop, how long resumed turns in hand may take to finish
RETRY_STATUSES = frozenset({412, 429, 502, 504})
GONE_STATUSES = frozenset({403, 404})
TOO_LARGE_STATUSES = frozenset({400, 413})  # what the connector answers a message too big
# Teams' per bot, per conversation limits: 7 messages a second, 60 in 30 seconds.
PACE_LIMITS: tuple[tuple[int, float], ...] = ((7, 1.0), (60, 30.0))

T = TypeVar("T")
Router = Callable[[Turn, Context], list[Reply]]
Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]


# -- reliability -------------------------------------------------------------------------


class Pacer:
    """Holds each send until it fits every (count, window) limit of its conversation."""

    def __init__(
        self, clock: Clock, sleep: Sleep, limits: tuple[tuple[int, float], ...] = PACE_LIMITS
    ) -> None:
        self.clock = clock
        self.sleep = sleep
        self.limits = limits
        self._sent: dict[str, deque[float]] = defaultdict(deque)
        self._locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def wait(self, conversation: str) -> None:
        """Return when one more message may go to `conversation` (and count it)."""
        async with self._locks[conversation]:
            sent = self._sent[conversation]
            longest = max(window for _, window in self.limits)
            while True:
                now = self.clock()
                while sent and sent[0] <= now - longest:
                    sent.popleft()
                delay = self._delay(sent, now)
                if delay <= 0:
                    sent.append(now)
                    self._forget_quiet(now - longest)
                    return
                await self.sleep(delay)

    def _forget_quiet(self, before: float) -> None:
        """Drop conversations with nothing recent, so a long-running server stays small."""
        if len(self._sent) < 512:
            return
        for key in [k for k, sent in self._sent.items() if not sent or sent[-1] <= before]:
            if not self._locks[key].locked():
                del self._sent[key], self._locks[key]

    def _delay(self, sent: deque[float], now: float) -> float:
        delay = 0.0
        for count, window in self.limits:
            recent = [t for t in sent if t > now - window]
            if len(recent) >= count:
                delay = max(delay, recent[-count] + window - now)
        return delay


@dataclass(eq=False)
class Retrier:
    """Retries connector calls Teams asks us to retry, with exponential backoff and jitter."""

    sleep: Sleep
    rng: Callable[[], float] = random.random
    attempts: int = 5
    base: float = 0.5
    cap: float = 30.0

    async def __call__(self, call: Callable[[], Awaitable[T]]) -> T:
        for attempt in range(self.attempts):
            try:
                return await call()
            except HttpOperationError as exc:
                status = _status(exc)
                if status not in RETRY_STATUSES or attempt == self.attempts - 1:
                    raise
                await self.sleep(self._delay(attempt, exc))
        raise AssertionError("unreachable")  # the loop returns or raises

    def _delay(self, attempt: int, exc: HttpOperationError) -> float:
        # Equal jitter: half the backoff fixed, half random, so senders that were throttled
        # together do not retry together.
        backoff = min(self.cap, self.base * 2**attempt) * (0.5 + self.rng() / 2)
        retry_after = _retry_after(exc)
        return min(self.cap, max(backoff, retry_after))


def _status(exc: HttpOperationError) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def _retry_after(exc: HttpOperationError) -> float:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    try:
        return float(headers.get("Retry-After", 0) or 0)
    except (TypeError, ValueError):
        return 0.0


class _TunedConnectorFactory(ConnectorFactory):
    """Connector clients without msrest's own urllib3 retries, so `Retrier` alone decides."""

    def __init__(self, inner: ConnectorFactory) -> None:
        self._inner = inner

    async def create(self, service_url: str, audience: str) -> Any:
        client = await self._inner.create(service_url, audience)
        policy = getattr(client.config, "retry_policy", None)
        if policy is not None:
            policy.retries = 0
            policy.policy.status_forcelist = []
        return client


class _Authentication(BotFrameworkAuthentication):
    """The configured authentication, where any token we cannot verify means 401."""

    def __init__(self, inner: BotFrameworkAuthentication) -> None:
        self._inner = inner

    async def authenticate_request(
        self, activity: Activity, auth_header: str
    ) -> AuthenticateRequestResult:
        try:
            result = await self._inner.authenticate_request(activity, auth_header)
        except PermissionError:
            raise
        except Exception as exc:  # a malformed token, unreachable signing keys...
            log_failure(log, "teams request not authenticated", exc)
            raise PermissionError("unauthorized") from None
        _check_service_url(activity, result.claims_identity)
        if result.connector_factory is not None:
            result.connector_factory = _TunedConnectorFactory(result.connector_factory)
        return result

    async def authenticate_streaming_request(
        self, auth_header: str, channel_id_header: str
    ) -> AuthenticateRequestResult:
        raise PermissionError("streaming is not supported")

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return _TunedConnectorFactory(self._inner.create_connector_factory(claims_identity))

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        return await self._inner.create_user_token_client(claims_identity)

    def create_bot_framework_client(self) -> Any:
        return self._inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return self._inner.get_originating_audience()

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        return await self._inner.authenticate_channel_request(auth_header)


def _check_service_url(activity: Activity, identity: ClaimsIdentity | None) -> None:
    """Replies go only where the validated token says: its `serviceurl` claim.

    The SDK compares the claim for channel tokens but skips the check when the activity
    names no service URL; an Emulator token carries no claim, and may only name this
    machine. Anything else is refused (401) before the turn runs.
    """
    if identity is None or identity.authentication_type == _ANONYMOUS:
        return  # emulator mode: loopback callers only, checked by the endpoint
    service_url = activity.service_url or ""
    claim = identity.get_claim_value(AuthenticationConstants.SERVICE_URL_CLAIM)
    if claim is not None and claim == service_url:
        return
    if claim is None and service_url and is_loopback_url(service_url):
        return
    raise PermissionError("the service URL is not the one the token was issued for")


_ANONYMOUS = AuthenticationConstants.ANONYMOUS_AUTH_TYPE


def is_loopback(host: str | None) -> bool:
    """A loopback address or `localhost` (the Emulator's machine)."""
    if not host:
        return False
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_loopback_url(url: str) -> bool:
    """A URL on this machine (where Emulator-mode replies may go)."""
    try:
        return is_loopback(urlsplit(url).hostname)
    except ValueError:
        return False


class TeamsConfigError(ValueError):
    """The Microsoft App settings cannot work together."""


def config_problem(settings: Settings) -> str:
    """Why the Bot Framework settings would fail at the first message, or "" when fine."""
    app_id = settings.microsoft_app_id.strip()
    if not app_id:
        return ""  # emulator mode
    kind = settings.microsoft_app_type.strip().lower()
    if kind not in ("multitenant", "singletenant", "userassignedmsi"):
        return render(
            "teams_config_error", problem="app_type", app_type=settings.microsoft_app_type
        )
    if kind != "multitenant" and not settings.microsoft_app_tenant_id.strip():
        return render("teams_config_error", problem="tenant", app_type=settings.microsoft_app_type)
    password = settings.microsoft_app_password.get_secret_value()
    if kind != "userassignedmsi" and not password:
        return render(
            "teams_config_error", problem="password", app_type=settings.microsoft_app_type
        )
    return ""


def authentication(settings: Settings) -> BotFrameworkAuthentication:
    """Bot Framework authentication from our settings; no app id = emulator mode, no auth."""
    app_id = settings.microsoft_app_id.strip()
    app_type = settings.microsoft_app_type if app_id else "MultiTenant"
    problem = config_problem(settings)
    if problem:
        raise TeamsConfigError(problem)
    config = SimpleNamespace(
        APP_ID=app_id,
        APP_PASSWORD=settings.microsoft_app_password.get_secret_value(),
        APP_TYPE=app_type,
        APP_TENANTID=settings.microsoft_app_tenant_id,
    )
    return _Authentication(ConfigurationBotFrameworkAuthentication(config))


# -- the store: replayed activities, conversation references ----------------------------


class InboxUnavailable(Exception):
    """The activity could not be stored: Teams gets 503 and sends it again."""


def _claim_activity(ctx: Context, event_id: str, activity: Activity, worker: str) -> int | None:
    """The inbox item for an activity seen for the first time (or whose earlier attempt
    died unfinished); None for a replay. Raises `InboxUnavailable` if the store is down."""
    try:
        received = inbox.receive(
            ctx.store,
            PLATFORM,
            event_id,
            activity.serialize(),
            worker,
            lease=ctx.settings.inbox_lease,
            now=ctx.now(),
        )
    except Exception as exc:
        raise InboxUnavailable() from exc
    return received.id if received else None


def _save_reference(
    ctx: Context,
    key: str,
    reference: ConversationReference,
    person_id: int | None = None,
    replace: bool = True,
) -> None:
    data = reference.serialize()
    with ctx.store.write() as session:
        row = session.exec(_reference_row(key)).first()
        if row is None:
            row = ConversationRef(platform=PLATFORM, key=key)
        elif not replace:
            return
        row.reference = data
        row.person_id = person_id if person_id is not None else row.person_id
        row.updated_at = ctx.now()
        session.add(row)


def _reference_row(key: str) -> SelectOfScalar[ConversationRef]:
    """The query for the stored Teams conversation reference under `key`."""
    return select(ConversationRef).where(
        ConversationRef.platform == PLATFORM, ConversationRef.key == key
    )


def _forget_reference(ctx: Context, key: str) -> None:
    with ctx.store.write() as session:
        for row in session.exec(_reference_row(key)):
            session.delete(row)


def _load_reference(ctx: Context, key: str) -> ConversationReference | None:
    with ctx.store.read() as session:
        row = session.exec(_reference_row(key)).first()
        data = dict(row.reference) if row else None
    return ConversationReference().deserialize(data) if data else None


def _kept(activity: Activity) -> bool:
    """Whether an activity goes through the inbox: a message, a conversation update or an
    extension's form submitted (Teams retries an invoke it got no answer to); not a search
    or a dialog opening, which only look."""
    if not activity.id:
        return False
    if activity.type == ActivityTypes.invoke:
        return activity.name == extension.SUBMIT_ACTION
    return activity.type in (ActivityTypes.message, ActivityTypes.conversation_update)


def _is_personal(reference: ConversationReference) -> bool:
    conversation = reference.conversation
    return bool(conversation and conversation.conversation_type == "personal")


def channel_key(conversation_id: str) -> str:
    """A channel's id without the `;messageid=` of the thread a message came from."""
    return conversation_id.split(";", 1)[0]


def tenant_of(activity: Activity) -> str | None:
    """The tenant id: Teams puts it in channelData (the SDK's model misspells `tenantId`)."""
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = data.get("tenant")
    tenant = tenant if isinstance(tenant, dict) else {}
    conversation = activity.conversation
    extra = getattr(conversation, "additional_properties", None) or {}
    return (
        tenant.get("id")
        or (conversation.tenant_id if conversation else None)
        or extra.get("tenantId")
    )


def is_personal(activity: Activity) -> bool:
    """A one-to-one chat with the bot."""
    conversation = activity.conversation
    kind = conversation.conversation_type if conversation else None
    # The Emulator and some test clients leave the type out of one-to-one chats.
    return kind == "personal" or (kind is None and not (conversation and conversation.is_group))


def _reference_for(activity: Activity) -> ConversationReference:
    """Where to post proactively: the conversation itself, not the thread or message."""
    reference = TurnContext.get_conversation_reference(activity)
    reference.activity_id = None
    if reference.conversation is not None:
        reference.conversation.id = channel_key(reference.conversation.id or "")
        reference.conversation.tenant_id = tenant_of(activity)
        if is_personal(activity):
            reference.conversation.conversation_type = "personal"
    return reference


# -- inbound: activities → Turns ---------------------------------------------------------

_AT_TAG = re.compile(r"</?at>", re.I)
_TAG = re.compile(r"<[^>]+>")


def message_text(activity: Activity) -> str:
    """The text of a message, with the bot's @mention removed and other mentions as names."""
    text = activity.text or ""
    if activity.entities and activity.recipient:
        text = TurnContext.remove_recipient_mention(activity) or ""
    text = _AT_TAG.sub("", text)
    text = _TAG.sub("", text) if "<" in text else text
    return html.unescape(text).replace("\xa0", " ").strip()


def submitted(activity: Activity) -> tuple[str | None, dict[str, Any]]:
    """An Adaptive Card submit: (action id, payload with the form's inputs), or (None, {})."""
    value = activity.value
    if not isinstance(value, dict) or not isinstance(value.get("action"), str):
        return None, {}
    payload = {k: v for k, v in value.items() if k not in ("action", "msteams")}
    return value["action"], payload


# -- the Messenger -----------------------------------------------------------------------


class TeamsMessenger:
    """Proactive DMs and channel posts through stored conversation references.

    Built from the server's `TeamsChannel`, or from a `Context` alone for a process that
    only sends (`crossbot digest`, the scheduler): the references are in the database.
    """

    def __init__(self, source: Context | TeamsChannel) -> None:
        self._channel = source if isinstance(source, TeamsChannel) else TeamsChannel(source)

    async def post(self, channel: str, reply: Reply) -> None:
        key = channel_key(channel.removeprefix(f"{PLATFORM}:"))
        reference = _load_reference(self._channel.ctx, key)
        if reference is None:
            raise Unreachable(channel)
        async with _gone_means_unreachable(channel):
            for activity in fit(reply):
                await self._channel.send_proactive(reference, activity)

    async def dm(self, person: str, reply: Reply) -> None:
        email = person.strip().lower()
        reference = _load_reference(self._channel.ctx, email)
        if reference is None:
            raise Unreachable(person)
        async with _gone_means_unreachable(person):
            if not _is_personal(reference):
                reference = await self._channel.open_personal(email, reference)
            for activity in fit(reply):
                await self._channel.send_proactive(reference, activity)


@asynccontextmanager
async def _gone_means_unreachable(who: str) -> AsyncIterator[None]:
    """The bot was removed, or the person left: Teams answers 403/404, we say unreachable."""
    try:
        yield
    except HttpOperationError as exc:
        if _status(exc) in GONE_STATUSES:
            raise Unreachable(who) from None
        raise


# -- the channel -------------------------------------------------------------------------


class TeamsChannel(Bot):
    """The Bot Framework endpoint, its adapter and its Messenger, for one server."""

    def __init__(
        self,
        ctx: Context,
        *,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.ctx = ctx
        self.router: Router = handle  # tests hand in a probe; nothing else replaces it
        self.app_id = ctx.settings.microsoft_app_id.strip()
        self.adapter = CloudAdapter(authentication(ctx.settings))
        self.adapter.on_turn_error = self._on_error
        self.pacer = Pacer(clock, sleep)
        self.retry = Retrier(sleep, rng)
        self.messenger = TeamsMessenger(self)
        self.worker = inbox.worker_name()  # the inbox claims of this process's requests
        settings = ctx.settings
        self.resumer = inbox.Worker(
            ctx.store,
            PLATFORM,
            self._resume,
            concurrency=inbox.pool_size(ctx.store, settings.inbox_workers),
            lease=settings.inbox_lease,
            poll_seconds=settings.inbox_poll_seconds,
        )

    @property
    def emulator_mode(self) -> bool:
        return not self.app_id

    async def handle_request(self, request: web.Request) -> web.StreamResponse:
        """`POST /api/messages`: authenticate, run the turn, answer 2xx quickly."""
        if self.emulator_mode and not _from_this_machine(request):
            return web.Response(status=403, text="emulator mode answers this machine only")
        if "application/json" not in request.headers.get("Content-Type", ""):
            return web.Response(status=415)
        try:
            body = await request.json()
        except ValueError:
            return web.Response(status=400)
        if not _is_activity(body):
            return web.Response(status=400, text="not a Bot Framework activity")
        problem = _activity_problem(body)
        if problem:
            return web.Response(status=400, text=problem)
        service_url = body.get("serviceUrl")
        if self.emulator_mode and service_url is not None and not is_loopback_url(str(service_url)):
            return web.Response(status=400, text="emulator mode replies to this machine only")
        try:
            response = await self.adapter.process(request, self)
        except InboxUnavailable:
            return web.Response(status=503, text="busy, please retry")
        return response or web.Response(status=201)

    async def on_turn(self, context: TurnContext) -> None:
        activity = context.activity
        if not self._tenant_allowed(activity):
            return
        if activity.type == ActivityTypes.installation_update:
            if activity.action == "remove":
                self._forget_conversation(activity)
            else:
                self._remember_conversation(activity)
            return
        if not _kept(activity):
            await self._run(context)  # a lookup or a form to open: answered, not kept
            return
        item = await asyncio.to_thread(
            _claim_activity, self.ctx, self._event_id(activity), activity, self.worker
        )
        if item is None:
            log.info("teams activity replayed, ignored")
            if activity.type == ActivityTypes.invoke:
                await context.send_activity(extension.invoke_response(extension.close_task()))
            return
        with inbox.delivering(self.ctx.store, item):
            await self._run(context)
        await asyncio.to_thread(inbox.finish, self.ctx.store, item, self.worker)

    async def _run(self, context: TurnContext) -> None:
        """The turn itself, for an activity just received or one resumed from the inbox."""
        kind = context.activity.type
        if kind == ActivityTypes.invoke:
            await self._on_invoke(context)
        elif kind == ActivityTypes.message:
            await self._on_message(context)
        elif kind == ActivityTypes.conversation_update:
            await self._on_conversation_update(context)

    async def _resume(self, item: InboxItem) -> None:
        """Finish an activity a stopped process left unfinished (the inbox worker's job).

        Teams no longer waits for an answer, so the turn runs again through the adapter's
        proactive path: `continue_conversation` on the stored activity's conversation and
        service URL (checked against its token when it arrived), with that activity as the
        turn's own. Sends the first attempt made are skipped (`inbox.once`); an extension's
        answer to its dialog has no one left to read it, and the rest goes to the person.
        """
        activity = Activity().deserialize(dict(item.body))
        failures: list[Exception] = []

        async def callback(context: TurnContext) -> None:
            context.activity = activity
            try:
                await self._run(context)
            except Exception as exc:  # the adapter would swallow it; the worker must know
                failures.append(exc)

        reference = TurnContext.get_conversation_reference(activity)
        await self.adapter.continue_conversation(reference, callback, self.app_id)
        if failures:
            raise failures[0]

    async def lifecycle(self, app: web.Application) -> AsyncIterator[None]:
        """With the server: resume what a stopped process (or a dead replica) left."""
        self.resumer.start()
        try:
            yield
        finally:
            await self.resumer.stop(DRAIN_SECONDS)

    def _tenant_allowed(self, activity: Activity) -> bool:
        """Only the tenants of `CROSSBOT_TEAMS_TENANTS` (or the app's own) are answered."""
        allowed = self.ctx.settings.teams_tenant_ids
        tenant = (tenant_of(activity) or "").strip().lower()
        if allowed is None or tenant in allowed:
            return True
        # The tenant id is not a secret and tells the admin what to add; nothing else is logged.
        log.warning(
            "teams activity from tenant %r refused: not in CROSSBOT_TEAMS_TENANTS", tenant[:64]
        )
        return False

    @staticmethod
    def _event_id(activity: Activity) -> str:
        conversation = activity.conversation.id if activity.conversation else ""
        return f"{conversation}|{activity.id}"

    async def _on_message(self, context: TurnContext) -> None:
        activity = context.activity
        self._remember_conversation(activity)
        email, person_id = await self._speaker(context)
        if email and person_id:
            _save_reference(
                self.ctx,
                email,
                _reference_for(activity),
                person_id,
                replace=is_personal(activity) or not self._has_personal(email),
            )
        action, payload = submitted(activity)
        turn = Turn(
            person=email,
            conversation=f"{PLATFORM}:{channel_key(activity.conversation.id)}",
            text="" if action else message_text(activity),
            action=action,
            payload=payload,
            platform=PLATFORM,
            is_direct=is_personal(activity),
            event_id=activity.id,
        )
        replies = await asyncio.to_thread(outbox.deciding(partial(self.router, turn, self.ctx)))
        here, elsewhere = _split(replies)
        for reply in here:  # the speaker first: they are waiting; notices to others follow
            await self._answer(context, turn, reply)
        for notice in await deliver_elsewhere(elsewhere, self.messenger):
            await self._answer(context, turn, notice)

    async def _on_invoke(self, context: TurnContext) -> None:
        """The message extension: "Log as referral" opens a task module, its form submits."""
        activity = context.activity
        call = extension.read_invoke(activity)
        if call is None or call.action is None:
            await context.send_activity(extension.invoke_response(extension.close_task()))
            return
        await self._invoke_turn(context, call, activity.name == extension.SUBMIT_ACTION)

    async def _invoke_turn(
        self, context: TurnContext, call: extension.ExtensionCall, submitting: bool
    ) -> None:
        activity = context.activity
        email, _ = await self._speaker(context)
        # Like Slack's shortcut, all it leads to is for the speaker alone: it goes on in their
        # one-to-one chat with the bot (where a Confirm button then finds the same draft).
        personal = self._personal_key(email) or channel_key(activity.conversation.id)
        turn = Turn(
            person=email,
            conversation=f"{PLATFORM}:{personal}",
            action=call.action,
            payload=call.payload,
            platform=PLATFORM,
            is_direct=True,
            event_id=activity.id,
        )
        replies = await asyncio.to_thread(outbox.deciding(partial(self.router, turn, self.ctx)))
        here, elsewhere = _split(replies)
        form = next((r for r in here if r.form), None)
        if form is None and not submitting and here:
            form = here[0]  # what stands in the way (say, an unknown speaker), in the dialog
        response = extension.task_card(form) if form else extension.close_task()
        await context.send_activity(extension.invoke_response(response))
        for reply in (r for r in here if r is not form):  # the speaker first, as above
            await self._answer_privately(context, email, reply)
        for notice in await deliver_elsewhere(elsewhere, self.messenger):
            await self._answer_privately(context, email, notice)

    def _personal_key(self, email: str) -> str | None:
        """The conversation id of someone's one-to-one chat with the bot, when known."""
        known = _load_reference(self.ctx, email) if email else None
        if known is None or not _is_personal(known) or known.conversation is None:
            return None
        return known.conversation.id

    async def _answer_privately(self, context: TurnContext, email: str, reply: Reply) -> None:
        """In place in a one-to-one chat; from anywhere else, as a DM (never in the channel)."""
        if is_personal(context.activity) or not email:
            await self.send_fitted(context, reply)
            return
        try:
            await self.messenger.dm(email, reply)
        except Unreachable:
            log.warning("message extension reply could not be sent as a DM; not posted")

    async def _answer(self, context: TurnContext, turn: Turn, reply: Reply) -> None:
        # Teams has no ephemeral messages: a private answer to a channel goes to a DM.
        if reply.private and not turn.is_direct and turn.person:
            try:
                await self.messenger.dm(turn.person, reply)
                return
            except Unreachable:
                log.warning("private reply could not be sent as a DM; not posted in channel")
                return
        await self.send_fitted(context, reply)

    async def _on_conversation_update(self, context: TurnContext) -> None:
        activity = context.activity
        added = activity.members_added or []
        bot_id = activity.recipient.id if activity.recipient else None
        if any(member.id == bot_id for member in added):
            self._remember_conversation(activity)
            email, person_id = await self._speaker(context) if is_personal(activity) else ("", None)
            if email and person_id:
                _save_reference(self.ctx, email, _reference_for(activity), person_id)
            await self.send_fitted(context, Reply(render("teams_welcome"), kind="welcome"))
        for member in added:
            if member.id != bot_id:
                await self._remember_member(context, member)
        if any(member.id == bot_id for member in activity.members_removed or []):
            self._forget_conversation(activity)

    async def _remember_member(self, context: TurnContext, member: ChannelAccount) -> None:
        """A person added to a team or chat: keep where to reach them (a DM needs a start)."""
        email = await self._roster_email(context, member.id or "")
        if not email:
            return
        with self.ctx.store.write() as session:
            person = by_email(session, email)
            if person is None:
                return
            if member.aad_object_id:
                remember_platform_id(session, person, PLATFORM, member.aad_object_id)
            person_id = person.id
        reference = _reference_for(context.activity)
        reference.user = ChannelAccount(id=member.id, aad_object_id=member.aad_object_id)
        _save_reference(self.ctx, email, reference, person_id, replace=False)

    def _forget_conversation(self, activity: Activity) -> None:
        """The bot was removed from a team or chat: stop posting there."""
        if activity.conversation and activity.conversation.id:
            _forget_reference(self.ctx, channel_key(activity.conversation.id))

    def _has_personal(self, email: str) -> bool:
        known = _load_reference(self.ctx, email)
        return known is not None and _is_personal(known)

    def _remember_conversation(self, activity: Activity) -> None:
        if activity.conversation and not is_personal(activity):
            _save_reference(
                self.ctx, channel_key(activity.conversation.id), _reference_for(activity)
            )

    async def _speaker(self, context: TurnContext) -> tuple[str, int | None]:
        """The speaker's email and Person id: by AAD object id, else the roster, then cached."""
        user = context.activity.from_property
        if user is None:
            return "", None
        aad = user.aad_object_id
        if aad:
            with self.ctx.store.read() as session:
                person = by_platform_id(session, PLATFORM, aad)
                if person is not None:
                    return person.email, person.id
        email = await self._roster_email(context, user.id or "")
        if not email and self.emulator_mode:
            # The Emulator has no roster; let a developer speak as an email address.
            email = next((v for v in (user.name, user.id) if v and "@" in v), "")
        if not email:
            return "", None
        with self.ctx.store.write() as session:
            person = by_email(session, email)
            if person is None:
                return email.lower(), None
            if aad:
                remember_platform_id(session, person, PLATFORM, aad)
            return person.email, person.id

    async def _roster_email(self, context: TurnContext, user_id: str) -> str:
        if not user_id:
            return ""
        try:
            member = await self.retry(lambda: TeamsInfo.get_member(context, user_id))
        except Exception as exc:  # not in the roster, or no roster (the Emulator)
            log.debug("roster lookup failed: %s", type(exc).__name__)
            return ""
        return (member.email or member.user_principal_name or "").strip().lower()

    async def send_fitted(self, context: TurnContext, reply: Reply) -> None:
        """Send a reply within Teams' size limit; if Teams still refuses it, say so plainly."""
        try:
            for activity in fit(reply):
                await self.send(context, activity)
        except HttpOperationError as exc:
            if _status(exc) not in TOO_LARGE_STATUSES:
                raise
            log.warning("teams refused a %s reply (%s)", reply.kind or "reply", _status(exc))
            refused = Reply(render("teams_reply_too_large"), kind="teams_reply_too_large")
            await self.send(context, fit(refused)[0])

    async def send(self, context: TurnContext, activity: Activity) -> None:
        """Send within a turn: paced per conversation, retried when Teams says so."""
        conversation = context.activity.conversation.id if context.activity.conversation else ""
        await self.pacer.wait(channel_key(conversation or ""))
        await inbox.once(self.retry, lambda: context.send_activity(activity))

    async def send_proactive(self, reference: ConversationReference, activity: Activity) -> None:
        """Post to a stored conversation (`continue_conversation`)."""

        failures: list[Exception] = []

        async def callback(context: TurnContext) -> None:
            # A new post, not a reply to the SDK's synthetic continuation event.
            context.activity.id = None
            try:
                await self.send(context, activity)
            except Exception as exc:  # the adapter would swallow it; the caller must know
                failures.append(exc)

        await self.adapter.continue_conversation(reference, callback, self.app_id)
        if failures:
            raise failures[0]

    async def open_personal(
        self, email: str, known: ConversationReference
    ) -> ConversationReference:
        """Start the one-to-one chat with someone met in a team, and keep its reference."""
        if known.user is None or not known.user.id:
            raise Unreachable(email)
        tenant = known.conversation.tenant_id if known.conversation else None
        parameters = ConversationParameters(
            is_group=False,
            bot=known.bot,
            members=[ChannelAccount(id=known.user.id)],
            tenant_id=tenant,
            channel_data={"tenant": {"id": tenant}} if tenant else None,
        )
        opened: list[ConversationReference] = []

        async def callback(context: TurnContext) -> None:
            reference = TurnContext.get_conversation_reference(context.activity)
            reference.activity_id = None
            reference.user = known.user
            reference.bot = known.bot
            if reference.conversation is not None:
                reference.conversation.conversation_type = "personal"
            opened.append(reference)

        await self.retry(
            lambda: self.adapter.create_conversation(
                self.app_id,
                callback,
                parameters,
                known.channel_id,
                known.service_url,
            )
        )
        if not opened:
            raise Unreachable(email)
        with self.ctx.store.read() as session:
            person = by_email(session, email)
            person_id = person.id if person else None
        _save_reference(self.ctx, email, opened[0], person_id)
        return opened[0]

    async def _on_error(self, context: TurnContext, error: Exception) -> None:
        if isinstance(error, InboxUnavailable):
            raise error  # to handle_request: 503, so that Teams retries
        log_failure(log, "teams turn failed", error, activity=context.activity.type)


TEAMS_KEY: web.AppKey[TeamsChannel] = web.AppKey("crossbot.teams", TeamsChannel)


def mount(
    app: web.Application, ctx: Context, channel: TeamsChannel | None = None
) -> TeamsChannel | None:
    """Add the Bot Framework endpoint to the server; the channel is kept at `app[TEAMS_KEY]`.

    With settings that cannot work (say SingleTenant without a tenant id) the endpoint is
    left out and the reason logged, rather than failing at the first message.
    """
    if channel is None:
        try:
            channel = TeamsChannel(ctx)
        except TeamsConfigError as exc:
            # Slack and the scheduler still run; the log says what to fix for Teams.
            log.error("%s", exc)
            return None
    app[TEAMS_KEY] = channel
    app.cleanup_ctx.append(channel.lifecycle)
    if channel.emulator_mode:
        log.warning(
            "CROSSBOT_TEAMS_EMULATOR is on: %s accepts unauthenticated activities, "
            "from this machine only. Never use it in production.",
            ROUTE,
        )

    async def messages(request: web.Request) -> web.StreamResponse:
        return await app[TEAMS_KEY].handle_request(request)

    app.router.add_post(ROUTE, messages)
    return channel


def _split(replies: list[Reply]) -> tuple[list[Reply], list[Reply]]:
    """The replies for the speaker, and those addressed to other people or channels."""
    here = [r for r in replies if not (r.to_person or r.to_channel)]
    return here, [r for r in replies if r.to_person or r.to_channel]


def _from_this_machine(request: web.Request) -> bool:
    """A loopback client talking to us directly (a proxy in between could be anyone)."""
    forwarded = any(h in request.headers for h in ("Forwarded", "X-Forwarded-For", "X-Real-IP"))
    return not forwarded and is_loopback(request.remote)


def messenger(app: web.Application) -> TeamsMessenger:
    """The Teams `Messenger` of a server built by `bot.server.build_app`."""
    return app[TEAMS_KEY].messenger


_OBJECTS = ("from", "recipient", "conversation")
_LISTS = ("entities", "membersAdded", "membersRemoved", "attachments")
_STRINGS = ("id", "text", "serviceUrl", "channelId", "action", "timestamp", "localTimestamp")


def _activity_problem(body: dict[str, Any]) -> str:
    """Why an activity's fields are of the wrong kind to be read ("" when they are fine)."""
    for key in _OBJECTS:
        if key in body and not isinstance(body[key], dict):
            return f"activity {key} is not an object"
    for key in _LISTS:
        items = body.get(key)
        if items is not None and not (
            isinstance(items, list) and all(isinstance(i, dict) for i in items)
        ):
            return f"activity {key} is not a list of objects"
    for key in _STRINGS:
        if body.get(key) is not None and not isinstance(body[key], str):
            return f"activity {key} is not a string"
    try:
        Activity().deserialize(body)
    except Exception:  # msrest says which field, with its value: not for the caller or the log
        return "activity fields of the wrong type"
    return ""


def _is_activity(body: object) -> bool:
    """The fields every activity the Bot Framework sends has; anything less is refused."""
    if not isinstance(body, dict) or not isinstance(body.get("type"), str):
        return False
    if body["type"] not in ("message", "conversationUpdate", "invoke"):
        return True  # other kinds are acknowledged and ignored by the handlers
    conversation, sender = body.get("conversation"), body.get("from")
    return (
        isinstance(conversation, dict)
        and bool(conversation.get("id"))
        and isinstance(sender, dict)
        and isinstance(body.get("serviceUrl"), str)
    )
