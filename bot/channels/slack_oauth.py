"""Slack OAuth mode: installs into any number of workspaces, each answered with its own token.

On when `SLACK_CLIENT_ID` and `SLACK_CLIENT_SECRET` are set. `GET /slack/install` sends the
installer to Slack with a one-time state (kept in `slack_oauth_states` and a cookie);
`GET /slack/oauth_redirect` exchanges the code (`oauth.v2.access`) and keeps the
installation in `slack_installations` / `slack_bots` on Crossbot's own database, through
slack_sdk's SQLAlchemy stores run in a worker thread (they are synchronous; Crossbot's
engine is too). Bolt then finds each request's bot token by team or enterprise (an
Enterprise Grid org-wide install answers every workspace of the org) and refreshes tokens
that rotate `CROSSBOT_SLACK_TOKEN_ROTATION_MINUTES` before they expire.

`Workspaces` keeps one `SlackMessenger` per team, so everything a turn sends goes out with
the token of the workspace it came from. People are matched by email in every workspace.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select

from bot.settings import Settings
from bot.store import Store
from bot.store.slack_tables import bots

if TYPE_CHECKING:
    from bot.channels.slack import SlackMessenger

log = logging.getLogger("bot.channels.slack.oauth")
log.setLevel(logging.WARNING)  # the SDK's own INFO lines name installers and teams
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
STATE_SECONDS = 600

# The messenger of the workspace the request being handled came from (set per request).
current: ContextVar[SlackMessenger | None] = ContextVar("crossbot_slack_workspace", default=None)


def oauth_enabled(settings: Settings) -> bool:
    """OAuth mode: a client id and secret are set (else the one `SLACK_BOT_TOKEN`)."""
    secret = settings.slack_client_secret
    return bool(settings.slack_client_id and secret and secret.get_secret_value())


T = TypeVar("T")
S = TypeVar("S")  # the synchronous slack_sdk store a `_Threaded` wraps


async def _off_loop(store: Store, call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run one of slack_sdk's store calls in a thread, taking turns with our own writers:
    it opens its own connections, which on SQLite must not interleave with ours."""

    def serialised() -> T:
        with store.serialised():
            return call(*args, **kwargs)

    return await asyncio.to_thread(serialised)


class _Threaded(Generic[S]):
    """One of slack_sdk's synchronous SQLAlchemy stores, called off the loop on our engine."""

    def __init__(self, sync: S, store: Store) -> None:
        self.sync = sync
        self.store = store

    @property
    def logger(self) -> logging.Logger:
        return log


class ThreadedInstallationStore(_Threaded[SQLAlchemyInstallationStore], AsyncInstallationStore):
    """slack_sdk's SQLAlchemy installation store on our (synchronous) engine, off the loop."""

    async def async_save(self, installation: Installation) -> None:
        await _off_loop(self.store, self.sync.save, installation)

    async def async_save_bot(self, bot: Bot) -> None:
        await _off_loop(self.store, self.sync.save_bot, bot)

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        return await _off_loop(
            self.store,
            self.sync.find_bot,
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        return await _off_loop(
            self.store,
            self.sync.find_installation,
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
            is_enterprise_install=is_enterprise_install,
        )

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await _off_loop(
            self.store, self.sync.delete_bot, enterprise_id=enterprise_id, team_id=team_id
        )

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        await _off_loop(
            self.store,
            self.sync.delete_installation,
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
        )


class ThreadedStateStore(_Threaded[SQLAlchemyOAuthStateStore], AsyncOAuthStateStore):
    """slack_sdk's SQLAlchemy OAuth state store, off the loop: any replica can finish."""

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        return await _off_loop(self.store, self.sync.issue)

    async def async_consume(self, state: str) -> bool:
        return await _off_loop(self.store, self.sync.consume, state)


def oauth_flow(
    settings: Settings, store: Store, client: AsyncWebClient, scopes: Iterable[str]
) -> AsyncOAuthFlow:
    """Bolt's OAuth flow over Crossbot's database, asking for exactly `scopes`."""
    client_id = settings.slack_client_id or ""
    secret = settings.slack_client_secret
    installations = ThreadedInstallationStore(
        SQLAlchemyInstallationStore(client_id, store.engine, logger=log), store
    )
    states = ThreadedStateStore(
        SQLAlchemyOAuthStateStore(STATE_SECONDS, store.engine, logger=log), store
    )
    oauth = AsyncOAuthSettings(
        client_id=client_id,
        client_secret=secret.get_secret_value() if secret else "",
        scopes=sorted(scopes),
        redirect_uri=settings.public_url.rstrip("/") + REDIRECT_PATH,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        install_page_rendering_enabled=False,  # "Add to Slack" goes straight to Slack
        installation_store=installations,
        installation_store_bot_only=True,
        token_rotation_expiration_minutes=settings.slack_token_rotation_minutes,
        state_store=states,
        state_expiration_seconds=STATE_SECONDS,
        logger=log,
    )
    return AsyncOAuthFlow(client=client, settings=oauth, logger=log)


async def handle_oauth(flow: AsyncOAuthFlow, request: web.Request) -> web.Response:
    """`GET /slack/install` and `GET /slack/oauth_redirect`, answered by Bolt's flow."""
    bolt_request = await to_bolt_request(request)
    if request.path == INSTALL_PATH:
        response = await flow.handle_installation(bolt_request)
    else:
        response = await flow.handle_callback(bolt_request)
    return await to_aiohttp_response(response)


class Workspaces:
    """One messenger per Slack team (or Enterprise Grid org), with that install's token."""

    def __init__(self, build: Callable[[str], SlackMessenger]) -> None:
        self.build = build
        self._messengers: dict[tuple[str, str], SlackMessenger] = {}

    def known(self, enterprise_id: str | None, team_id: str | None) -> SlackMessenger | None:
        """The workspace's messenger if this process has one already."""
        return self._messengers.get((enterprise_id or "", team_id or ""))

    def messenger(
        self, enterprise_id: str | None, team_id: str | None, token: str
    ) -> SlackMessenger:
        """The workspace's messenger; a rotated token replaces the old one in place."""
        key = (enterprise_id or "", team_id or "")
        found = self._messengers.get(key)
        if found is None:
            found = self._messengers[key] = self.build(token)
        found.client.token = token
        return found


def installed_bots(store: Store, client_id: str) -> list[tuple[str, str, str]]:
    """(enterprise id, team id, bot token) of every installed workspace, newest first."""
    query = (
        select(bots.c.enterprise_id, bots.c.team_id, bots.c.bot_token)
        .where(bots.c.client_id == client_id)
        .order_by(bots.c.installed_at.desc(), bots.c.id.desc())
    )
    seen: set[tuple[str, str]] = set()
    found: list[tuple[str, str, str]] = []
    with store.engine.connect() as connection:
        for enterprise, team, token in connection.execute(query):
            key = (enterprise or "", team or "")
            if token and key not in seen:  # the newest install of each workspace
                seen.add(key)
                found.append((*key, str(token)))
    return found
