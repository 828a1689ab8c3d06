"""The dashboard's routes on the server's aiohttp app: pages, the CSV, sign-in and sign-out.

Handlers read the request, call `_pages` off the event loop (the domain is synchronous) and
render `templates/`. Every page needs a live session; every POST checks a CSRF token.
"""

from __future__ import annotations

import asyncio
import functools
import io
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from aiohttp.web_log import AccessLogger
from jinja2 import Environment

from bot.context import Context
from bot.dashboard import _auth, _pages, _templates
from bot.exports import write_csv
from bot.logs import log_failure
from bot.store.models import Person

log = logging.getLogger(__name__)

COOKIE = "crossbot_session"
SIGNIN_COOKIE = "crossbot_signin"
PREFIX = "/dashboard"
_SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    # The sign-in URL holds a token: never send it on as a Referer.
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}

Builder = Callable[[Any, _pages.Viewer], dict[str, Any]]
DatedView = Callable[[Any, _pages.Viewer, datetime, ZoneInfo], Any]  # a page as of a moment


@dataclass
class Dashboard:
    """The dashboard of one server: its context, cookie key and templates."""

    ctx: Context
    key: bytes
    env: Environment

    # -- plumbing ---------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.ctx.now()

    def html(self, template: str, status: int = 200, **data: Any) -> web.Response:
        text = self.env.get_template(f"{template}.html.j2").render(**data)
        return web.Response(
            text=text, status=status, content_type="text/html", headers=_SECURITY_HEADERS
        )

    def message(self, kind: str, status: int, signed: _auth.SignedIn | None = None) -> web.Response:
        """A kind page (signed out, link used, not allowed...) saying what to do next."""
        return self.html("message", status, kind=kind, **self._common(signed))

    def _common(self, signed: _auth.SignedIn | None) -> dict[str, Any]:
        return {
            "me": signed.person if signed else None,
            "csrf": signed.session.csrf_token if signed else "",
            "page": "",
        }

    def secure(self, request: web.Request) -> bool:
        return request.secure or self.ctx.settings.public_url.startswith("https://")

    def set_session_cookie(
        self, request: web.Request, response: web.StreamResponse, raw: str
    ) -> None:
        response.set_cookie(
            COOKIE,
            _auth.sign(self.key, raw),
            path=PREFIX,
            max_age=int(_auth.IDLE_TIMEOUT.total_seconds()),
            httponly=True,
            secure=self.secure(request),
            samesite="Lax",
        )

    async def signed_in(self, request: web.Request) -> _auth.SignedIn:
        """The live session of this request, or a 401 page saying how to sign in."""
        raw = _auth.unsign(self.key, request.cookies.get(COOKIE))
        found = await asyncio.to_thread(self._lookup, raw) if raw else None
        if found is None:
            raise self._stop(self.message("signed_out" if raw else "sign_in", 401))
        return found

    def _lookup(self, raw: str) -> _auth.SignedIn | None:
        now = self.now()
        with self.ctx.store.read() as session:
            found = _auth.live_session(session, raw, now)
        if found is not None and now - found.session.last_seen_at >= _auth.TOUCH_EVERY:
            assert found.session.id is not None
            with self.ctx.store.write() as session:
                _auth.touch(session, found.session.id, now)
        return found

    @staticmethod
    def _stop(response: web.Response) -> web.HTTPException:
        error = web.HTTPException(
            text=response.text, content_type="text/html", headers=_SECURITY_HEADERS
        )
        error.set_status(response.status)
        return error

    async def page(
        self, request: web.Request, template: str, build: Builder, admin: bool = False
    ) -> web.Response:
        signed = await self.signed_in(request)
        if admin and not signed.person.is_admin:
            return self.message("forbidden", 403, signed)
        viewer = _pages.Viewer(signed.person)

        def render() -> web.Response:
            with self.ctx.store.read() as session:
                data = build(session, viewer)
            return self.html(template, **(self._common(signed) | {"page": template}), **data)

        response = await asyncio.to_thread(render)
        self.set_session_cookie(request, response, signed.token)
        return response

    async def form(self, request: web.Request) -> tuple[_auth.SignedIn, Any]:
        """A signed-in POST with its CSRF token checked (a 403 page otherwise)."""
        signed = await self.signed_in(request)
        data = await request.post()
        if not _auth.same_token(signed.session.csrf_token, data.get("csrf")):
            raise self._stop(self.message("csrf", 403, signed))
        return signed, data

    def as_of_now(self, key: str, view: DatedView) -> Builder:
        """A page's builder: `view` as of now in the firm's zone, given to the template as `key`."""

        def build(session: Any, viewer: _pages.Viewer) -> dict[str, Any]:
            return {key: view(session, viewer, self.now(), self.ctx.settings.zone)}

        return build

    # -- pages ------------------------------------------------------------------------------

    async def overview(self, request: web.Request) -> web.Response:
        return await self.page(request, "overview", self.as_of_now("o", _pages.overview))

    async def referral_list(self, request: web.Request) -> web.Response:
        filters = _pages.Filters.parse(dict(request.query))

        def build(session: Any, viewer: _pages.Viewer) -> dict[str, Any]:
            zone = self.ctx.settings.zone
            return {"t": _pages.referral_table(session, viewer, filters, zone)}

        return await self.page(request, "referrals", build)

    async def referral_csv(self, request: web.Request) -> web.Response:
        signed = await self.signed_in(request)
        filters = _pages.Filters.parse(dict(request.query))
        if filters.problems:
            return await self.referral_list(request)
        viewer = _pages.Viewer(signed.person)

        def build() -> str:
            with self.ctx.store.read() as session:
                table = _pages.referral_table(
                    session, viewer, filters, self.ctx.settings.zone, everything=True
                )
            handle = io.StringIO()
            write_csv(handle, _pages.CSV_HEADER, _pages.csv_rows(table))
            return handle.getvalue()

        text = await asyncio.to_thread(build)
        return web.Response(
            text=text,
            content_type="text/csv",
            charset="utf-8",
            headers={
                **_SECURITY_HEADERS,
                "Content-Disposition": 'attachment; filename="crossbot-referrals.csv"',
            },
        )

    async def referral_detail(self, request: web.Request) -> web.Response:
        ident = request.match_info["id"]
        signed = await self.signed_in(request)
        if not ident.isdigit():
            return self.message("not_found", 404, signed)
        viewer = _pages.Viewer(signed.person)

        def build() -> _pages.Trail | None:
            with self.ctx.store.read() as session:
                return _pages.audit_trail(session, viewer, int(ident), self.ctx.settings.zone)

        trail = await asyncio.to_thread(build)
        if trail is None:
            return self.message("not_found", 404, signed)
        return self.html("referral", **self._common(signed) | {"page": "referrals"}, trail=trail)

    async def teams(self, request: web.Request) -> web.Response:
        query = dict(request.query)

        def build(session: Any, viewer: _pages.Viewer) -> dict[str, Any]:
            return {"t": _pages.teams_page(session, viewer, query, self.ctx.settings.zone)}

        return await self.page(request, "teams", build)

    async def cards(self, request: web.Request) -> web.Response:
        def build(session: Any, viewer: _pages.Viewer) -> dict[str, Any]:
            today = self.now().astimezone(self.ctx.settings.zone).date()
            return {
                "c": _pages.cards_page(session, viewer, today, self.ctx.settings.card_review_months)
            }

        return await self.page(request, "cards", build)

    async def campaigns(self, request: web.Request) -> web.Response:
        return await self.page(request, "campaigns", self.as_of_now("c", _pages.campaigns_page))

    async def sessions(self, request: web.Request) -> web.Response:
        def build(session: Any, viewer: _pages.Viewer) -> dict[str, Any]:
            return {"sessions": _auth.open_sessions(session, self.now())}

        return await self.page(request, "sessions", build, admin=True)

    async def end_other_session(self, request: web.Request) -> web.StreamResponse:
        signed, _ = await self.form(request)
        if not signed.person.is_admin:
            return self.message("forbidden", 403, signed)
        ident = request.match_info["id"]
        if ident.isdigit():
            await asyncio.to_thread(self._end, int(ident))
        raise web.HTTPSeeOther(f"{PREFIX}/sessions")

    def _end(self, session_id: int) -> None:
        with self.ctx.store.write() as session:
            _auth.end_session(session, session_id, self.now())

    # -- signing in and out -----------------------------------------------------------------

    async def signin_page(self, request: web.Request) -> web.Response:
        """The link from the bot: a button that signs in (a link preview can't use it up)."""
        token = request.match_info["token"]
        problem = await asyncio.to_thread(self._link_problem, token)
        if problem is not None:
            return self.message(f"link_{problem}", 410 if problem != "unknown" else 404)
        nonce = _auth.new_token()
        response = self.html("signin", **(self._common(None) | {"csrf": nonce}), token=token)
        response.set_cookie(
            SIGNIN_COOKIE,
            _auth.sign(self.key, nonce),
            path=f"{PREFIX}/signin",
            max_age=int(_auth.LINK_LIFETIME.total_seconds()),
            httponly=True,
            secure=self.secure(request),
            samesite="Lax",
        )
        return response

    def _link_problem(self, token: str) -> str | None:
        with self.ctx.store.read() as session:
            try:
                _auth.check_link(session, token, self.now())
            except _auth.SignInError as exc:
                return exc.code
        return None

    async def signin(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        data = await request.post()
        nonce = _auth.unsign(self.key, request.cookies.get(SIGNIN_COOKIE))
        if nonce is None or not _auth.same_token(nonce, data.get("csrf")):
            return self.message("signin_csrf", 403)

        def redeem() -> str | _auth.SignInError:
            try:
                with self.ctx.store.write() as session:
                    raw, _ = _auth.redeem_link(session, token, self.now())
                    return raw
            except _auth.SignInError as exc:
                return exc

        result = await asyncio.to_thread(redeem)
        if isinstance(result, _auth.SignInError):
            return self.message(f"link_{result.code}", 410 if result.code != "unknown" else 404)
        response = web.Response(status=303, headers={**_SECURITY_HEADERS, "Location": PREFIX})
        self.set_session_cookie(request, response, result)
        response.del_cookie(SIGNIN_COOKIE, path=f"{PREFIX}/signin")
        return response

    async def signout(self, request: web.Request) -> web.Response:
        signed, _ = await self.form(request)
        assert signed.session.id is not None
        await asyncio.to_thread(self._end, signed.session.id)
        response = self.message("bye", 200)
        response.del_cookie(COOKIE, path=PREFIX)
        return response


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _kind_errors(handler: Handler) -> Handler:
    """No stack trace reaches a browser: an unexpected failure is a kind page.

    Around each dashboard route rather than an app middleware, so that the requests of the
    other routes (Slack's, Teams') pass through no middleware at all."""

    @functools.wraps(handler)
    async def kind(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException:
            raise
        except Exception as exc:
            log_failure(log, "dashboard page failed", exc, path=request.path.split("/signin/")[0])
            return request.app[DASHBOARD_KEY].message("error", 500)

    return kind


DASHBOARD_KEY: web.AppKey[Dashboard] = web.AppKey("crossbot.dashboard", Dashboard)
# (method, path under PREFIX, the Dashboard method that answers it), each behind the kind
# error page.
_ROUTES = (
    ("GET", "", "overview"),
    ("GET", "/", "overview"),
    ("GET", "/referrals", "referral_list"),
    ("GET", "/referrals.csv", "referral_csv"),
    ("GET", "/referrals/{id}", "referral_detail"),
    ("GET", "/teams", "teams"),
    ("GET", "/cards", "cards"),
    ("GET", "/campaigns", "campaigns"),
    ("GET", "/sessions", "sessions"),
    ("POST", "/sessions/{id}/end", "end_other_session"),
    ("GET", "/signin/{token}", "signin_page"),
    ("POST", "/signin/{token}", "signin"),
    ("POST", "/signout", "signout"),
)


def mount(app: web.Application, ctx: Context) -> Dashboard:
    """Add `/dashboard` and its pages to the server's app."""
    dashboard = Dashboard(ctx, _auth.signing_key(ctx.settings), _templates.environment())
    app[DASHBOARD_KEY] = dashboard
    add = {"GET": app.router.add_get, "POST": app.router.add_post}  # GET answers HEAD too
    for method, path, page in _ROUTES:
        add[method](PREFIX + path, _kind_errors(getattr(dashboard, page)))
    return dashboard


class RedactingAccessLogger(AccessLogger):
    """aiohttp's access log, without the token of a sign-in link (its path holds one)."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        if request.path.startswith(f"{PREFIX}/signin/"):
            request = _Redacted(request)  # type: ignore[assignment]
        super().log(request, response, time)


class _Redacted:
    """A request as the access log sees it, with the sign-in token cut from its path."""

    path = path_qs = f"{PREFIX}/signin/..."

    def __init__(self, request: web.BaseRequest) -> None:
        self._request = request

    def __getattr__(self, name: str) -> Any:
        return getattr(self._request, name)


def issue_link(ctx: Context, person: Person) -> str:
    """A one-time sign-in link for `person` (what `/crossbot dashboard` sends)."""
    with ctx.store.write() as session:
        token = _auth.create_link(session, person, ctx.now())
    return _auth.link_url(ctx.settings, token)
