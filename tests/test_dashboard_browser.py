"""The dashboard in a real browser: Debian's chromium, driven by Playwright (slow suite).

Sign in from a link, read the overview's funnel, filter the referrals, download the CSV,
sign out; screenshots along the way must show something (not a blank page).
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from PIL import Image

from tests.dashboard_driver import ADMIN, Dashboard, dashboard

__all__ = ["dashboard"]  # the fixture

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
playwright_api = pytest.importorskip("playwright.async_api")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def clock() -> Iterator[None]:
    """Real time here: the browser's own clock decides when cookies expire."""
    yield None


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    async with playwright_api.async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS
        )
        yield chromium
        await chromium.close()


def assert_not_blank(path: Path) -> None:
    """A screenshot with real content: many colours, not one flat page."""
    with Image.open(path) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000) or []
    assert len(colours) > 50, f"{path.name} looks blank"


async def test_sign_in_read_filter_download_and_sign_out(
    dashboard: Dashboard, browser, tmp_path: Path
) -> None:
    context = await browser.new_context(
        accept_downloads=True, viewport={"width": 1280, "height": 900}
    )
    page = await context.new_page()
    url = dashboard.link(ADMIN).replace(
        dashboard.ctx.settings.public_url, str(dashboard.server.make_url("")).rstrip("/")
    )

    await page.goto(url)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/dashboard")
    assert await page.get_by_role("heading", level=1).inner_text() == "Overview"
    funnel = page.locator("#funnel-table td")
    stages = {
        await c.get_attribute("data-stage"): int(await c.inner_text()) for c in await funnel.all()
    }
    assert stages["new"] >= stages["accepted"] >= stages["won"] >= 1
    assert await page.locator("svg.chart").first.is_visible()
    await page.screenshot(path=tmp_path / "overview.png", full_page=True)

    await page.keyboard.press("Tab")  # the first stop is the skip link
    assert await page.evaluate("document.activeElement.textContent") == "Skip to the content"

    await page.get_by_role("link", name="Referrals", exact=True).click()
    await page.get_by_label("Status").select_option("new")
    await page.get_by_role("button", name="Filter").click()
    await page.wait_for_url("**/dashboard/referrals?*status=new*")
    rows = page.locator("#referrals tbody tr")
    statuses = [await r.locator("td").nth(6).inner_text() for r in await rows.all()]
    assert statuses and set(statuses) == {"new"}
    await page.screenshot(path=tmp_path / "referrals.png", full_page=True)

    async with page.expect_download() as waiting:
        await page.get_by_role("link", name="Download these as CSV").click()
    download = await waiting.value
    saved = tmp_path / "referrals.csv"
    await download.save_as(saved)
    with saved.open(encoding="utf-8") as handle:
        exported = list(csv.DictReader(handle))
    assert len(exported) == len(statuses) and {r["status"] for r in exported} == {"new"}

    phone = await browser.new_context(viewport={"width": 375, "height": 740})
    await phone.add_cookies(await context.cookies())
    small = await phone.new_page()
    await small.goto(str(dashboard.server.make_url("/dashboard/teams")))
    # Wide tables scroll inside their box; the page itself never scrolls sideways.
    assert await small.evaluate("document.documentElement.scrollWidth") <= 375
    await small.screenshot(path=tmp_path / "teams-phone.png", full_page=True)
    await phone.close()

    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_load_state()
    assert "signed out" in await page.get_by_role("heading", level=1).inner_text()
    await page.goto(str(dashboard.server.make_url("/dashboard")))
    assert await page.get_by_role("heading", level=1).inner_text() == "Please sign in"
    await context.close()

    for name in ("overview.png", "referrals.png", "teams-phone.png"):
        assert_not_blank(tmp_path / name)  # (`pytest --basetemp DIR` keeps them to look at)
