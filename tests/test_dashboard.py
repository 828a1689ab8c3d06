"""The dashboard over HTTP, as each role sees it: pages, privacy, sign-in, sessions, CSRF."""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import os
import re
import subprocess
import sys
from datetime import timedelta
from html import escape
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlmodel import select

from bot import conversation, referrals
from bot.context import Context
from bot.dashboard import RedactingAccessLogger, _auth
from bot.messages import Turn
from bot.server import build_app
from bot.settings import Settings
from bot.store import Store
from bot.store.models import (
    AskedQuestion,
    Client,
    DashboardLink,
    DashboardSession,
    Referral,
    Story,
)
from tests.conftest import REPO, SAMPLE_CONTENT, free_port, frozen_clock, load_benchmark
from tests.dashboard_driver import ADMIN, NOW, PRIYA, SAM, Dashboard, csrf_of, dashboard, path_of
from tests.factories import referral as make_referral
from tests.test_cli import crossbot

__all__ = ["dashboard"]  # the fixture

clock = frozen_clock(NOW)

PAGES = [
    "/dashboard",
    "/dashboard/referrals",
    "/dashboard/teams",
    "/dashboard/cards",
    "/dashboard/campaigns",
]


def client_names(d: Dashboard) -> dict[int, str]:
    """Every referral's client, by referral id."""
    with d.ctx.store.read() as session:
        rows = session.exec(
            select(Referral.id, Client.name).join(Client, Client.id == Referral.client_id)
        ).all()
    return {rid: name for rid, name in rows if rid is not None}


def visible_ids(d: Dashboard, email: str) -> set[int]:
    person = d.person(email)
    with d.ctx.store.read() as session:
        rows = session.exec(select(Referral)).all()
        return {r.id for r in rows if r.id and referrals.can_see(person, r, session)}


# -- pages and roles ------------------------------------------------------------------------


@pytest.mark.parametrize("email", [ADMIN, SAM, PRIYA])
@pytest.mark.parametrize("path", PAGES)
async def test_every_page_opens_for_every_role(dashboard: Dashboard, email: str, path: str) -> None:
    browser = await dashboard.signed_in(email)

    status, html = await browser.get(path)

    assert status == 200, html
    assert "<h1>" in html and "Sign out" in html and "something went wrong" not in html
    assert 'aria-current="page"' in html


async def test_the_overview_shows_the_funnel_the_value_and_the_campaign(
    dashboard: Dashboard,
) -> None:
    browser = await dashboard.signed_in(ADMIN)

    _, html = await browser.get("/dashboard")

    with dashboard.ctx.store.read() as session:
        reached = dict(referrals.funnel(session))
        won = referrals.value_won(session)
    for stage in ("new", "accepted", "meeting", "proposal", "won"):
        assert f'data-stage="{stage}">{reached[stage]}<' in html
    assert reached["new"] == len(client_names(dashboard)) > reached["won"] >= 1
    assert "<svg" in html and "Referral funnel" in html
    total = sum(t for _, _, t, _ in won)
    assert f"£{total / 1000:.0f}k" in html
    assert "Cross-selling" in html or "standings" in html
    assert "Waiting on someone" in html
    with dashboard.ctx.store.read() as session:
        [story] = session.exec(select(Story)).all()
    assert escape(story.title) in html  # the win story, worded as the digest does


async def test_a_member_sees_their_team_not_the_firm(dashboard: Dashboard) -> None:
    browser = await dashboard.signed_in(PRIYA)

    _, overview = await browser.get("/dashboard")
    _, teams = await browser.get("/dashboard/teams")

    assert "Overview — Employment" in overview
    assert "The whole firm" not in overview
    assert "Teams: who refers to whom — Employment" in teams


async def test_a_member_asking_for_an_admin_page_gets_a_kind_403(dashboard: Dashboard) -> None:
    for email in (PRIYA, SAM):
        browser = await dashboard.signed_in(email)
        status, html = await browser.get("/dashboard/sessions")
        assert status == 403
        assert "That page is for admins" in html and "Traceback" not in html
    admin = await dashboard.signed_in(ADMIN)
    status, html = await admin.get("/dashboard/sessions")
    assert status == 200 and "Priya Shah" in html and "Sam Patel" in html


async def test_a_page_that_fails_is_a_kind_500_and_other_routes_run_no_middleware(
    ctx: Context, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(self: object, request: object) -> None:
        raise RuntimeError("a bug in a page")

    monkeypatch.setattr("bot.dashboard._web.Dashboard.teams", broken)
    app = build_app(ctx)
    assert not app.middlewares  # the kind page wraps the dashboard's routes, not every request
    server = TestServer(app)
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(server.make_url("/dashboard/teams")) as response:
                status, html = response.status, await response.text()
            async with session.get(server.make_url("/dashboard/nowhere")) as response:
                missing = response.status
    finally:
        await server.close()

    assert status == 500
    assert "Sorry, something went wrong" in html and "a bug in a page" not in html
    assert "Traceback" not in html
    assert "dashboard page failed" in caplog.text
    assert missing == 404


async def test_client_names_appear_only_where_the_viewer_may_see_the_referral(
    dashboard: Dashboard,
) -> None:
    names = client_names(dashboard)
    for email in (ADMIN, SAM, PRIYA):
        browser = await dashboard.signed_in(email)
        _, html = await browser.get("/dashboard/referrals")
        _, overview = await browser.get("/dashboard")
        allowed = visible_ids(dashboard, email)
        for rid, name in names.items():
            shown = escape(name)  # "Thistle & Tweed" is "Thistle &amp; Tweed" in the page
            if rid in allowed:
                assert shown in html, (email, name)
            else:
                assert shown not in html and shown not in overview, (email, name)
    assert visible_ids(dashboard, SAM) != set(names)  # the ambassador is not party to all


async def test_a_member_lists_only_the_referrals_they_may_see(dashboard: Dashboard) -> None:
    with dashboard.ctx.store.write() as session:
        mine = make_referral(session, "Acme Logistics plc", PRIYA, SAM, NOW - timedelta(days=1))
        theirs = make_referral(session, "Acme Logistics plc", SAM, ADMIN, NOW - timedelta(days=1))
    browser = await dashboard.signed_in(PRIYA)

    _, html = await browser.get("/dashboard/referrals")
    status, trail = await browser.get(f"/dashboard/referrals/{theirs.id}")

    assert f'href="/dashboard/referrals/{mine.id}"' in html
    assert f'href="/dashboard/referrals/{theirs.id}"' not in html
    assert status == 404 and "Nothing to show here" in trail


async def test_each_row_links_to_its_audit_trail(dashboard: Dashboard) -> None:
    with dashboard.ctx.store.write() as session:
        row = make_referral(
            session,
            "Acme Logistics plc",
            PRIYA,
            SAM,
            NOW - timedelta(days=9),
            status="won",
            value=30_000,
        )
    browser = await dashboard.signed_in(ADMIN)

    _, html = await browser.get("/dashboard/referrals?status=won")
    status, trail = await browser.get(f"/dashboard/referrals/{row.id}")

    assert f'href="/dashboard/referrals/{row.id}"' in html
    assert status == 200
    for step in ("new", "accepted", "meeting held", "proposal sent", "won"):
        assert step in trail
    assert trail.count("<tr>") == 1 + len(referrals.USUAL_PATH["won"])  # header + one per event
    assert "Acme Logistics plc" in trail


async def test_an_ambassador_sees_the_trail_without_the_client(dashboard: Dashboard) -> None:
    with dashboard.ctx.store.write() as session:
        row = make_referral(session, "Acme Logistics plc", PRIYA, ADMIN, NOW - timedelta(days=2))
    browser = await dashboard.signed_in(SAM)

    status, trail = await browser.get(f"/dashboard/referrals/{row.id}")

    assert status == 200 and "client hidden" in trail and "Acme Logistics plc" not in trail


async def test_filters_narrow_the_table_and_the_csv_is_exactly_what_it_shows(
    dashboard: Dashboard,
) -> None:
    with dashboard.ctx.store.write() as session:
        session.add(Client(name='=HYPERLINK("http://x")', owner_id=dashboard.person(PRIYA).id))
        session.flush()
        make_referral(session, '=HYPERLINK("http://x")', PRIYA, SAM, NOW - timedelta(days=3))
    browser = await dashboard.signed_in(ADMIN)
    query = "?status=new&team=Employment"

    _, html = await browser.get("/dashboard/referrals" + query)
    status, text = await browser.get("/dashboard/referrals.csv" + query)

    assert status == 200
    rows = list(csv.DictReader(io.StringIO(text)))
    with dashboard.ctx.store.read() as session:
        expected = [
            r
            for r in session.exec(select(Referral)).all()
            if r.status == "new" and "Employment" in (r.referrer_team, r.receiver_team)
        ]
    assert sorted(int(r["id"]) for r in rows) == sorted(r.id for r in expected)
    assert f"{len(expected)} referral" in html
    assert all(r["status"] == "new" for r in rows)
    assert '\'=HYPERLINK("http://x")' in [r["client"] for r in rows]  # formula-safe
    [link] = re.findall(r'href="(/dashboard/referrals\.csv[^"]*)"', html)
    assert sorted(link.split("?")[1].split("&amp;")) == ["status=new", "team=Employment"]


async def test_the_ambassadors_csv_leaves_out_clients_they_may_not_see(
    dashboard: Dashboard,
) -> None:
    browser = await dashboard.signed_in(SAM)
    _, text = await browser.get("/dashboard/referrals.csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    allowed, names = visible_ids(dashboard, SAM), client_names(dashboard)
    assert len(rows) == len(names)
    for row in rows:
        expected = names[int(row["id"])] if int(row["id"]) in allowed else ""
        assert row["client"] == expected


async def test_filter_by_person_and_date(dashboard: Dashboard) -> None:
    with dashboard.ctx.store.write() as session:
        old = make_referral(session, "Acme Logistics plc", PRIYA, SAM, NOW - timedelta(days=60))
        new = make_referral(session, "Acme Logistics plc", PRIYA, SAM, NOW - timedelta(days=1))
    browser = await dashboard.signed_in(ADMIN)
    since = (NOW - timedelta(days=10)).date().isoformat()

    _, html = await browser.get(f"/dashboard/referrals?person=priya&from={since}")

    assert f'/dashboard/referrals/{new.id}"' in html
    assert f'/dashboard/referrals/{old.id}"' not in html


async def test_a_bad_date_names_the_field_and_keeps_the_other_filters(
    dashboard: Dashboard,
) -> None:
    browser = await dashboard.signed_in(ADMIN)

    status, html = await browser.get("/dashboard/referrals?status=won&from=30/11/2026&person=sam")

    assert status == 200
    assert "the “made from” date" in html and "2026-11-30" in html
    assert '<option value="won" selected>' in html and 'value="sam"' in html
    assert 'value="30/11/2026"' in html


async def test_the_teams_page_has_the_matrix_over_a_chosen_period(dashboard: Dashboard) -> None:
    browser = await dashboard.signed_in(ADMIN)
    with dashboard.ctx.store.read() as session:
        matrix = referrals.team_matrix(session)
    (giver, taker), n = next(iter(matrix.items()))

    _, html = await browser.get("/dashboard/teams")
    _, empty = await browser.get("/dashboard/teams?from=2020-01-01&to=2020-01-31")

    assert 'id="matrix"' in html and escape(giver) in html and escape(taker) in html
    assert "net giver" in html and "net receiver" in html
    assert "No referrals between teams in this period." in empty


async def test_the_cards_page_shows_freshness_owners_and_questions(dashboard: Dashboard) -> None:
    """Questions answered per card for everyone; the questions' words for admins only."""
    with dashboard.ctx.store.write() as session:
        session.add(AskedQuestion(question="who does TUPE?", cards=["employment"]))
        session.add(
            AskedQuestion(question="who can fix the <b>coffee</b> machine?", reason="internal")
        )
        session.add(
            AskedQuestion(
                question="who does pensions?", cards=["employment"], feedback="missed", note="SIPPs"
            )
        )
    member = await dashboard.signed_in(PRIYA)
    admin = await dashboard.signed_in(ADMIN)

    _, html = await member.get("/dashboard/cards")
    _, admins = await admin.get("/dashboard/cards")

    assert "Employment law" in html and "Priya Shah" in html
    assert "coffee" not in html and "pensions" not in html and "only admins see them" in html
    assert escape("who can fix the <b>coffee</b> machine?") in admins and "<b>coffee" not in admins
    assert "who does pensions?" in admins and "SIPPs" in admins and "who does TUPE?" not in admins


async def test_the_campaigns_page_shows_standings_ideas_and_history(dashboard: Dashboard) -> None:
    browser = await dashboard.signed_in(PRIYA)

    _, html = await browser.get("/dashboard/campaigns")

    assert "(running)" in html and 'id="team-standings"' in html
    assert 'id="ideas"' in html and "No ideas yet" not in html
    assert 'id="history"' in html and "<polyline" in html


# -- signing in ----------------------------------------------------------------------------


async def test_a_link_signs_in_once_and_sets_a_safe_cookie(dashboard: Dashboard) -> None:
    browser = await dashboard.browser()
    url = dashboard.link(PRIYA)

    status, html = await browser.get(path_of(url))
    assert status == 200 and "Sign in" in html  # opening it (or a link preview) uses nothing
    async with browser.session.post(
        browser.server.make_url(path_of(url)), data={"csrf": csrf_of(html)}, allow_redirects=False
    ) as response:
        assert response.status == 303 and response.headers["Location"] == "/dashboard"
        cookie = response.cookies["crossbot_session"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/dashboard"
    assert not cookie["secure"]  # plain http here
    assert int(cookie["max-age"]) == 8 * 3600

    again = await dashboard.browser()
    status, html = await again.get(path_of(url))
    assert status == 410 and "already been used" in html and "/crossbot dashboard" in html
    with dashboard.ctx.store.read() as session:
        [link] = session.exec(select(DashboardLink)).all()
    assert url.rsplit("/", 1)[1] not in link.token_hash  # only the hash is stored


async def test_an_expired_link_is_refused_kindly(dashboard: Dashboard, clock) -> None:
    url = dashboard.link(PRIYA)
    clock.shift(timedelta(minutes=11))
    browser = await dashboard.browser()

    status, html = await browser.open_link(url)

    assert status == 410 and "expired" in html and "/crossbot dashboard" in html
    assert browser.cookie("crossbot_session") is None


async def test_a_link_made_up_or_cut_short_is_refused(dashboard: Dashboard) -> None:
    browser = await dashboard.browser()
    url = dashboard.link(PRIYA)
    status, html = await browser.get(path_of(url)[:-3])
    assert status == 404 and "/crossbot dashboard" in html


async def test_the_link_is_bound_to_its_person(dashboard: Dashboard) -> None:
    browser = await dashboard.signed_in(PRIYA)
    _, html = await browser.get("/dashboard")
    assert "Priya Shah" in html and "Alex Morgan</span>" not in html


async def test_signing_in_needs_the_forms_own_token(dashboard: Dashboard) -> None:
    browser = await dashboard.browser()
    url = dashboard.link(PRIYA)

    status, html = await browser.post(path_of(url), {"csrf": "guessed"})

    assert status == 403 and "Open the link from Crossbot again" in html
    status, _ = await browser.open_link(url)  # the link was not used up
    assert status == 200


async def test_a_forged_or_altered_cookie_is_refused(dashboard: Dashboard) -> None:
    real = await dashboard.signed_in(PRIYA)
    value = real.cookie("crossbot_session")
    assert value is not None
    token = value.rsplit(".", 1)[0]
    forged = [
        "not-a-session",
        token,  # no signature
        value[:-2] + ("AA" if not value.endswith("AA") else "BB"),  # altered signature
        _auth.sign(b"someone-elses-key", token),
        _auth.sign(b"guessed-key", "made-up-session"),
    ]
    for cookie in forged:
        browser = await dashboard.browser()
        status, html = await browser.get(
            "/dashboard", headers={"Cookie": f"crossbot_session={cookie}"}
        )
        assert status == 401, cookie
        assert "/crossbot dashboard" in html


async def test_without_a_session_every_page_says_how_to_sign_in(dashboard: Dashboard) -> None:
    browser = await dashboard.browser()
    for path in [*PAGES, "/dashboard/sessions", "/dashboard/referrals.csv"]:
        status, html = await browser.get(path)
        assert status == 401 and "Please sign in" in html, path


async def test_sign_out_needs_the_csrf_token_and_ends_the_session_on_the_server(
    dashboard: Dashboard,
) -> None:
    browser = await dashboard.signed_in(PRIYA)
    cookie = browser.cookie("crossbot_session")
    _, html = await browser.get("/dashboard")

    status, refused = await browser.post("/dashboard/signout", {})
    assert status == 403 and "That form had expired" in refused
    assert (await browser.get("/dashboard"))[0] == 200  # still signed in

    status, bye = await browser.post("/dashboard/signout", {"csrf": csrf_of(html)})
    assert status == 200 and "signed out" in bye
    replay = await dashboard.browser()  # the old cookie, kept by someone, is worthless now
    status, _ = await replay.get("/dashboard", headers={"Cookie": f"crossbot_session={cookie}"})
    assert status == 401
    with dashboard.ctx.store.read() as session:
        [row] = session.exec(select(DashboardSession)).all()
    assert row.ended_at is not None


async def test_a_session_ends_after_eight_idle_hours(dashboard: Dashboard, clock) -> None:
    browser = await dashboard.signed_in(PRIYA)
    cookie = {"Cookie": f"crossbot_session={browser.cookie('crossbot_session')}"}
    clock.shift(timedelta(hours=7))
    assert (await browser.get("/dashboard/cards"))[0] == 200  # activity keeps it alive
    clock.shift(timedelta(hours=7))
    assert (await browser.get("/dashboard/cards"))[0] == 200
    clock.shift(timedelta(hours=8, minutes=1))

    status, html = await browser.get("/dashboard", headers=cookie)  # kept past its max-age

    assert status == 401 and "Your session has ended" in html


async def test_an_admin_ends_someone_elses_session_with_a_csrf_protected_form(
    dashboard: Dashboard,
) -> None:
    priya = await dashboard.signed_in(PRIYA)
    admin = await dashboard.signed_in(ADMIN)
    _, html = await admin.get("/dashboard/sessions")
    priya_id = dashboard.person(PRIYA).id
    with dashboard.ctx.store.read() as session:
        target = next(
            s for s in session.exec(select(DashboardSession)).all() if s.person_id == priya_id
        )

    status, _ = await admin.post(f"/dashboard/sessions/{target.id}/end", {})
    assert status == 403 and (await priya.get("/dashboard"))[0] == 200
    status, _ = await admin.post(f"/dashboard/sessions/{target.id}/end", {"csrf": csrf_of(html)})
    assert status == 200
    assert (await priya.get("/dashboard"))[0] == 401


async def test_the_cookie_is_secure_when_served_over_https(dashboard: Dashboard) -> None:
    dashboard.ctx.settings.public_url = "https://crossbot.example"
    browser = await dashboard.browser()
    url = dashboard.link(PRIYA)
    assert url.startswith("https://crossbot.example/dashboard/signin/")
    async with browser.session.get(browser.server.make_url(path_of(url))) as response:
        html = await response.text()
        form_cookie = response.cookies["crossbot_signin"]
    assert form_cookie["secure"] and form_cookie["httponly"]
    async with browser.session.post(
        browser.server.make_url(path_of(url)),
        data={"csrf": csrf_of(html)},
        headers={"Cookie": f"crossbot_signin={form_cookie.value}"},
        allow_redirects=False,
    ) as response:
        assert response.status == 303
        assert response.cookies["crossbot_session"]["secure"]


# -- asking the bot for a link -------------------------------------------------------------

_LINK = re.compile(r"https?://\S+/dashboard/signin/[\w-]+")


async def test_the_chat_command_sends_a_private_link_that_signs_in(
    dashboard: Dashboard, chat
) -> None:
    [reply] = chat(PRIYA).send("/crossbot dashboard")

    assert reply.kind == "dashboard_link" and reply.private
    [url] = _LINK.findall(reply.text)
    browser = await dashboard.browser()
    status, html = await browser.open_link(url.rstrip(")"))
    assert status == 200 and "Priya Shah" in html and "Overview — Employment" in html


def test_asked_in_a_shared_place_the_link_goes_by_dm(ctx) -> None:
    replies = conversation.handle(
        Turn(
            person=PRIYA, conversation="teams:channel", text="/crossbot dashboard", is_direct=False
        ),
        ctx,
    )

    [link, notice] = replies
    assert link.to_person == PRIYA and _LINK.search(link.text)
    assert notice.to_person is None and not _LINK.search(notice.text)


def test_the_cli_prints_a_link_for_admins_only(tmp_path: Path) -> None:
    env = {"CROSSBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'crossbot.db'}"}
    assert crossbot("load", str(SAMPLE_CONTENT), cwd=tmp_path, env=env).returncode == 0

    made = crossbot("dashboard", "link", "--as", ADMIN, cwd=tmp_path, env=env)
    refused = crossbot("dashboard", "link", "--as", PRIYA, cwd=tmp_path, env=env)

    assert made.returncode == 0, made.stderr
    assert _LINK.search(made.stdout) and "10 minutes" in made.stdout
    assert refused.returncode == 2 and "isn't an admin" in refused.stderr
    assert not _LINK.search(refused.stdout + refused.stderr)
    assert "Traceback" not in made.stderr + refused.stderr


async def test_demo_serve_prints_a_link_and_the_overview_shows_the_demo(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("CROSSBOT_DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "demo", "--serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first, url = process.stdout.readline(), process.stdout.readline().strip()
        assert "Alex Morgan" in first and url.startswith(f"http://localhost:{port}/dashboard/")
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            html = ""
            for _ in range(100):  # the server starts just after printing the link
                try:
                    async with http.get(url) as response:
                        html = await response.text()
                    break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            async with http.post(url, data={"csrf": csrf_of(html)}) as response:
                overview = await response.text()
        assert response.status == 200
        # Two wins: the seeded story's, and one still waiting for its story (a nudge's cause).
        assert 'data-stage="won">2<' in overview and "Waiting on someone" in overview
        assert "standings" in overview  # the seeded campaign
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_the_scale_benchmark_runs_small(tmp_path: Path) -> None:
    bench = load_benchmark("dashboard_scale")
    store = Store(f"sqlite:///{tmp_path / 'bench.db'}")
    bench.build_firm(store, people=200, referrals=1_000, events=2_000)
    ctx = Context(store, Settings(_env_file=None), now=lambda: bench.NOW)  # type: ignore[call-arg]
    emails = ["person1@bigfirm.example", "person7@bigfirm.example"]

    results = asyncio.run(bench.time_pages(ctx, emails, repeat=1))

    admin_pages, member_pages = results.values()
    assert {status for _, _, status in admin_pages.values()} == {200}
    assert member_pages["sign-ins"][2] == 403  # a member asking for the admin page
    assert all(s in (200, 404) for n, (_, _, s) in member_pages.items() if n != "sign-ins")
    store.dispose()


async def test_the_access_log_never_holds_a_sign_in_token(ctx, caplog) -> None:
    server = TestServer(build_app(ctx))
    await server.start_server(access_log_class=RedactingAccessLogger)  # as `serve` runs it
    found = Dashboard(ctx, server)
    try:
        url = found.link(PRIYA)
        browser = await found.browser()
        with caplog.at_level(logging.INFO, logger="aiohttp.access"):
            status, _ = await browser.open_link(url)
            await browser.get("/dashboard/cards")
    finally:
        await found.close()
        await server.close()
    assert status == 200
    assert caplog.text.count("/dashboard/signin/... ") == 2 and "/dashboard/cards" in caplog.text
    assert url.rsplit("/", 1)[1] not in caplog.text
