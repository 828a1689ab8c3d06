"""A browser without a browser: one cookie jar per person, against the real server app."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.context import Context
from bot.dashboard import issue_link
from bot.people import by_email
from bot.seed import seed_demo
from bot.server import build_app
from bot.store.models import Person
from tests.conftest import write_or_copy

NOW = datetime.fromisoformat("2026-11-20T10:00:00+00:00")
ADMIN = "alex.morgan@hartwellfinch.example"
SAM = "sam.patel@hartwellfinch.example"  # an ambassador (Tax); the demo's referrals involve him
PRIYA = "priya.shah@hartwellfinch.example"  # a member (Employment)

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no CSRF field"
    return found[1]


def path_of(url: str) -> str:
    return urlsplit(url).path


@dataclass
class Browser:
    """One person's browser: its own cookies, talking HTTP to the test server."""

    server: TestServer
    session: aiohttp.ClientSession

    async def get(self, path: str, **kwargs: object) -> tuple[int, str]:
        async with self.session.get(self.server.make_url(path), **kwargs) as response:
            return response.status, await response.text()

    async def post(self, path: str, data: dict[str, str]) -> tuple[int, str]:
        async with self.session.post(self.server.make_url(path), data=data) as response:
            return response.status, await response.text()

    async def open_link(self, url: str) -> tuple[int, str]:
        """What a person does with the link: open it, press Sign in."""
        status, html = await self.get(path_of(url))
        if status != 200:
            return status, html
        return await self.post(path_of(url), {"csrf": csrf_of(html)})

    def cookie(self, name: str) -> str | None:
        found = [c for c in self.session.cookie_jar if c.key == name]
        return found[0].value if found else None


@dataclass
class Dashboard:
    ctx: Context
    server: TestServer

    def person(self, email: str) -> Person:
        with self.ctx.store.read() as session:
            found = by_email(session, email)
        assert found is not None
        return found

    def link(self, email: str) -> str:
        return issue_link(self.ctx, self.person(email))

    async def browser(self) -> Browser:
        jar = aiohttp.CookieJar(unsafe=True)
        browser = Browser(self.server, aiohttp.ClientSession(cookie_jar=jar))
        self._browsers.append(browser)
        return browser

    async def signed_in(self, email: str) -> Browser:
        browser = await self.browser()
        status, html = await browser.open_link(self.link(email))
        assert status == 200, html
        return browser

    def __post_init__(self) -> None:
        self._browsers: list[Browser] = []

    async def close(self) -> None:
        for browser in self._browsers:
            await browser.session.close()


def seed(ctx: Context) -> None:
    """The demo's activity: referrals through their lifecycle, a running campaign, ideas
    (copied from the worker's template of it where that is the same: `write_or_copy`)."""
    write_or_copy(ctx, seed_demo_activity)


def seed_demo_activity(ctx: Context) -> None:
    with ctx.store.write() as session:
        seed_demo(session, ctx.catalog(), ctx.now(), ctx.settings)


@pytest.fixture
async def dashboard(ctx: Context, clock: object) -> AsyncIterator[Dashboard]:
    """The real server app (dashboard mounted) over the sample firm with the demo's activity."""
    seed(ctx)
    server = TestServer(build_app(ctx))
    await server.start_server()
    found = Dashboard(ctx, server)
    yield found
    await found.close()
    await server.close()
