"""The weekly digest on seeded data, its chart, posting, the personal digest and the CLI."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from bot import campaigns, digest, jobs
from bot.context import Context
from bot.store import Store
from bot.store.models import (
    Campaign,
    DigestIssue,
    PointEvent,
    ServiceCard,
    Story,
)
from tests import factories
from tests.conftest import RecordingMessenger, frozen_clock, load_benchmark, load_sample

pytestmark = pytest.mark.postgres  # also on PostgreSQL under -m slow

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday 09:00 London
WEEK = datetime(2026, 11, 16, 0, 0, tzinfo=UTC)  # the week reported: 16–22 November
SAM = "sam.patel@hartwellfinch.example"  # Tax
PRIYA = "priya.shah@hartwellfinch.example"  # Employment
JAMES = "james.thornton@hartwellfinch.example"  # Corporate
HELEN = "helen.carmichael@hartwellfinch.example"  # Real Estate
KOFI = "kofi.asante@hartwellfinch.example"  # Employment
LONG_AGO = datetime(2025, 1, 6, tzinfo=UTC)


clock = frozen_clock(NOW, autouse=True)


@pytest.fixture
def seeded(ctx: Context) -> Context:
    """A week of activity, a week before it, and older history."""
    ctx.settings.digest_channel = "C-DIGEST"
    with ctx.store.write() as session:
        for card in session.exec(select(ServiceCard)):
            card.loaded_at = card.changed_at = LONG_AGO
            session.add(card)
        factories.referral(
            session, "Northwind Foods Ltd", SAM, PRIYA, WEEK + timedelta(days=1), "won", 30_000
        )
        factories.referral(
            session, "Acme Logistics plc", SAM, PRIYA, WEEK + timedelta(days=2), "accepted"
        )
        factories.referral(session, "Blue Fin Hotels", JAMES, HELEN, WEEK + timedelta(days=3))
        factories.referral(
            session, "Pennine Dairies Ltd", HELEN, KOFI, WEEK - timedelta(days=6), "accepted"
        )
        factories.referral(
            session, "Kestrel Retail Group plc", HELEN, SAM, WEEK - timedelta(weeks=5)
        )
        sam = factories.person(session, SAM)
        northwind = factories.client(session, "Northwind Foods Ltd")
        for title, published, status in [
            ("Tax and Employment win together", WEEK + timedelta(days=4), "published"),
            ("An older win", WEEK - timedelta(days=10), "published"),
            ("Still waiting", None, "pending"),
        ]:
            session.add(
                Story(
                    author_id=sam.id,
                    title=title,
                    body="The client needed both teams.",
                    teams=["Tax", "Employment"],
                    client_id=northwind.id,
                    value=30_000,
                    currency="GBP",
                    status=status,
                    published_at=published,
                )
            )
    return ctx


def _build(ctx: Context, now: datetime = NOW) -> digest.Digest:
    with ctx.store.read() as session:
        return digest.build_digest(session, now, LONDON)


def test_the_week_is_the_seven_local_days_before_today():
    start, end = digest.week_bounds(NOW, LONDON)
    assert (start, end) == (WEEK, WEEK + timedelta(days=7))
    # In summer the week starts at local (BST) midnight.
    start, _ = digest.week_bounds(datetime(2026, 6, 15, 8, tzinfo=UTC), LONDON)
    assert start == datetime(2026, 6, 7, 23, tzinfo=UTC)


def test_headline_figures_against_the_week_before(seeded: Context):
    built = _build(seeded)
    assert built.week_start == date(2026, 11, 16)
    week, before = built.this_week, built.last_week
    assert (week.made, week.accepted, week.won) == (3, 2, 1)
    assert week.value_won == {"GBP": 30_000}
    assert (before.made, before.accepted, before.won) == (1, 1, 0)
    text = digest.digest_text(built)
    assert "3 referrals made" in text and "▲ 2 on last week's 1" in text
    assert "£30k" in text


def test_the_weeks_published_stories_keep_the_client_anonymous(seeded: Context):
    built = _build(seeded)
    assert [s.title for s in built.stories] == ["Tax and Employment win together"]
    text = digest.digest_text(built)
    assert "a food manufacturing client" in text and "Northwind" not in text
    assert "Still waiting" not in text and "An older win" not in text


def test_givers_and_team_balance(seeded: Context):
    built = _build(seeded)
    assert [(g.name, g.count) for g in built.top_people] == [
        ("Sam Patel", 2),
        ("James Thornton", 1),
    ]
    assert [(g.name, g.count) for g in built.top_teams] == [("Tax", 2), ("Corporate", 1)]
    givers = {b.team: b.net for b in built.net_givers}
    receivers = {b.team: b.net for b in built.net_receivers}
    assert givers["Corporate"] == 1 and givers["Real Estate"] == 1
    assert receivers == {"Employment": -3}
    text = digest.digest_text(built)
    assert "Sam Patel (2)" in text
    # Top givers are people and counts; client names never appear there.
    assert "Acme" not in text and "Blue Fin" not in text


def test_campaign_standings_only_while_one_runs(seeded: Context):
    assert _build(seeded).standings == []
    with seeded.store.write() as session:
        campaign = Campaign(
            name="Cross-selling week",
            starts_at=WEEK,
            ends_at=NOW + timedelta(days=2),
            status="running",
        )
        session.add(campaign)
        session.flush()
        sam = factories.person(session, SAM)
        helen = factories.person(session, HELEN)
        for n, (person, points) in enumerate([(sam, 10), (helen, 5), (sam, 3)]):
            session.add(
                PointEvent(
                    key=f"test:{n}",
                    campaign_id=campaign.id,
                    person_id=person.id,
                    team=person.team,
                    kind="referral",
                    points=points,
                )
            )
    standings = _build(seeded).standings
    assert [(s.team, s.points) for s in standings] == [("Tax", 13), ("Real Estate", 5)]
    # ranked as the leaderboard ranks teams: points per head, not raw points
    with seeded.store.read() as session:
        running = session.exec(select(Campaign)).one()
        boards = campaigns.compute_boards(session, running, NOW, LONDON)
    assert [s.team for s in standings] == [t.name for t in boards.teams if t.points]
    assert [s.per_head for s in standings] == [t.per_head for t in boards.teams if t.points]
    assert "Cross-selling week — standings" in digest.digest_text(_build(seeded))
    assert _build(seeded, NOW + timedelta(days=3)).standings == []


def test_new_and_updated_cards(seeded: Context):
    with seeded.store.write() as session:
        new = session.get(ServiceCard, "employment")
        changed = session.get(ServiceCard, "business-tax")
        assert new and changed
        new.loaded_at = new.changed_at = WEEK + timedelta(days=1)
        changed.changed_at = WEEK + timedelta(days=2)
        session.add_all([new, changed])
    built = _build(seeded)
    assert [c.card_id for c in built.new_cards] == ["employment"]
    assert [c.card_id for c in built.updated_cards] == ["business-tax"]


def test_spotlight_rotates_fairly_and_never_repeats(seeded: Context):
    with seeded.store.read() as session:
        cards = session.exec(select(ServiceCard)).all()
    freshest = max(cards, key=lambda c: (c.updated or date.min, c.id))
    shown: list[str] = []
    for week in range(len(cards) + 5):
        now = NOW + timedelta(weeks=week)
        with seeded.store.write() as session:
            built = digest.build_digest(session, now, LONDON)
            assert built.spotlight is not None
            assert built.spotlight.situation and built.spotlight.question
            digest.record_issue(session, built, now)
        shown.append(built.spotlight.card_id)
    assert shown[0] == freshest.id  # recently updated cards come first
    assert len(set(shown[: len(cards)])) == len(cards)  # everyone once before any repeat
    assert all(a != b for a, b in zip(shown, shown[1:], strict=False))


def test_a_card_updated_since_its_spotlight_comes_round_sooner(seeded: Context):
    shown = []
    for week in range(3):
        now = NOW + timedelta(weeks=week)
        with seeded.store.write() as session:
            built = digest.build_digest(session, now, LONDON)
            digest.record_issue(session, built, now)
        shown.append(built.spotlight.card_id if built.spotlight else "")
    with seeded.store.write() as session:
        card = session.get(ServiceCard, shown[0])
        assert card is not None
        card.changed_at = NOW + timedelta(weeks=3)
        session.add(card)
    with seeded.store.read() as session:
        later = digest.build_digest(session, NOW + timedelta(weeks=4), LONDON)
    assert later.spotlight is not None and later.spotlight.card_id == shown[0]


def test_the_spotlight_is_stable_within_a_week(seeded: Context):
    first = _build(seeded)
    with seeded.store.write() as session:
        digest.record_issue(session, first, NOW)
    again = _build(seeded, NOW + timedelta(hours=3))
    assert again.spotlight == first.spotlight


def test_chart_data_and_png(seeded: Context):
    built, png = jobs.build(seeded, NOW)
    chart = built.chart
    assert len(chart.weeks) == 8 and chart.weeks[-1] == date(2026, 11, 16)
    assert chart.series["Tax"][-1] == 2 and chart.series["Real Estate"][-2] == 1
    assert chart.series["Real Estate"][-6] == 1
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5_000


async def test_posting_through_the_messenger(seeded: Context):
    messenger = RecordingMessenger()
    result = await jobs.post_digest(seeded, messenger, NOW)
    assert [(channel, reply.kind) for channel, reply in messenger.posts] == [
        ("C-DIGEST", "digest"),
        ("C-DIGEST", "digest_chart"),
    ]
    chart = messenger.posts[1][1]
    assert chart.image and chart.image.startswith(b"\x89PNG") and chart.image_alt
    assert result["week_start"] == "2026-11-16" and result["stories"] == 1
    with seeded.store.read() as session:
        issue = session.exec(select(DigestIssue)).one()
    assert issue.week_start == date(2026, 11, 16) and issue.spotlight_card_id == result["spotlight"]


async def test_personal_digest_for_those_who_opt_in(seeded: Context, chat):
    replies = chat(PRIYA).send("/crossbot digest on")
    assert replies[0].kind == "digest_opt" and "every week" in replies[0].text
    assert "on" in chat(PRIYA).send("/crossbot digest")[0].text
    messenger = RecordingMessenger()
    result = await jobs.send_personal_digests(seeded, messenger, NOW)
    assert result == {"sent": 1, "unreachable": 0}
    [(email, reply)] = messenger.dms
    assert email == PRIYA and "Acme Logistics plc" in reply.text and "Waiting on you" in reply.text
    chat(PRIYA).send("/crossbot digest off")
    messenger = RecordingMessenger()
    assert (await jobs.send_personal_digests(seeded, messenger, NOW))["sent"] == 0


async def test_personal_digest_lists_my_own_open_referrals(seeded: Context):
    with seeded.store.write() as session:
        sam = factories.person(session, SAM)
        sam.digest_opt_in = True
        session.add(sam)
    messenger = RecordingMessenger()
    await jobs.send_personal_digests(seeded, messenger, NOW)
    [(email, reply)] = messenger.dms
    assert email == SAM and "Your open referrals" in reply.text and "Priya Shah" in reply.text
    assert "Northwind" not in reply.text  # won: no longer open


# -- the CLI ----------------------------------------------------------------------------------


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from bot.settings import get_settings

    url = f"sqlite:///{tmp_path / 'crossbot.db'}"
    store = load_sample(Store(url))
    with store.write() as session:
        factories.referral(session, "Northwind Foods Ltd", SAM, PRIYA, WEEK + timedelta(days=1))
    store.dispose()
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "MicrosoftAppId"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CROSSBOT_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_cli_preview_prints_and_writes_the_chart(cli_env: Path):
    from bot.cli import app

    chart = cli_env / "out" / "chart.png"
    result = CliRunner().invoke(app, ["digest", "--preview", "--chart", str(chart)])
    assert result.exit_code == 0, result.output
    assert "Cross-selling this week" in result.output and str(chart) in result.output
    assert chart.read_bytes().startswith(b"\x89PNG")
    with Store(f"sqlite:///{cli_env / 'crossbot.db'}").read() as session:
        assert session.exec(select(DigestIssue)).all() == []  # a preview records nothing


def test_cli_post_without_a_platform_says_what_to_set(cli_env: Path, monkeypatch):
    from bot.cli import app
    from bot.settings import get_settings

    result = CliRunner().invoke(app, ["digest"])
    assert result.exit_code == 1 and "CROSSBOT_DIGEST_CHANNEL" in result.output
    monkeypatch.setenv("CROSSBOT_DIGEST_CHANNEL", "C-DIGEST")
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["digest"])
    assert result.exit_code == 1 and "SLACK_BOT_TOKEN" in result.output


async def test_the_scheduled_digest_skips_a_week_already_posted_by_hand(seeded: Context):
    messenger = RecordingMessenger()
    await jobs.post_digest(seeded, messenger, NOW)  # `crossbot digest` at 08:00
    result = await jobs.post_digest(seeded, messenger, NOW + timedelta(hours=1), again=False)
    assert result["skipped"] == "already posted" and len(messenger.posts) == 2


def test_the_scale_benchmark_runs_small(tmp_path: Path):
    bench = load_benchmark("digest_scale")
    store = Store(f"sqlite:///{tmp_path / 'bench.db'}")
    bench.generate(store, people=200, referrals=2_000)
    with store.read() as session:
        built = digest.build_digest(session, bench.NOW, LONDON)
        personal = digest.personal_digests(session, bench.NOW)
    assert built.this_week.made > 0 and built.spotlight is not None and personal
    store.dispose()
