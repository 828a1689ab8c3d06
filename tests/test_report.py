"""`crossbot report`: CSV files with the expected headers and real PNG charts."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import select
from typer.testing import CliRunner

from bot import charts
from bot.campaigns import compute_boards, record_idea
from bot.catalog import load_catalog, load_into
from bot.cli import app
from bot.report import write_report
from bot.seed import seed_activity
from bot.settings import get_settings
from bot.store import Store
from bot.store.models import Referral
from tests.campaign_support import NADIA, OWEN, PRIYA, later
from tests.conftest import SAMPLE_CONTENT
from tests.factories import person

NOW = datetime(2026, 11, 20, 10, tzinfo=UTC)


def header(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as handle:
        return next(csv.reader(handle))


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def seeded(ctx) -> None:
    with ctx.store.write() as session:
        seed_activity(session, ctx.catalog(), NOW)


def test_report_writes_csv_and_png(ctx, tmp_path: Path) -> None:
    seeded(ctx)
    with ctx.store.read() as session:
        report = write_report(session, tmp_path / "out")
    names = {p.name for p in report.files}
    assert {"funnel.csv", "value_won.csv", "team_matrix.csv", "team_balance.csv"} <= names
    assert {"funnel.png", "value_won.png", "team_matrix.png", "team_balance.png"} <= names
    out = tmp_path / "out"
    assert header(out / "funnel.csv") == ["status", "reached", "now"]
    assert header(out / "value_won.csv") == [
        "receiver_team",
        "currency",
        "value_won",
        "referrals_won",
    ]
    assert header(out / "team_matrix.csv") == ["giver_team", "receiver_team", "referrals"]
    assert header(out / "team_balance.csv") == ["team", "given", "received", "net", "role"]
    for png in out.glob("*.png"):
        assert png.read_bytes().startswith(charts.PNG_MAGIC), png
    funnel = {r["status"]: int(r["reached"]) for r in rows(out / "funnel.csv")}
    assert funnel["new"] == 5 and funnel["accepted"] == 3 and funnel["won"] == 1
    won = rows(out / "value_won.csv")
    assert sum(float(r["value_won"]) for r in won) == 18_000
    balance = rows(out / "team_balance.csv")
    assert sum(int(r["net"]) for r in balance) == 0
    assert {r["role"] for r in balance} <= {"net giver", "net receiver", "balanced"}
    assert "campaign_standings.csv" not in names  # no campaign, no standings


def test_report_never_names_clients(ctx, tmp_path: Path) -> None:
    seeded(ctx)
    with ctx.store.read() as session:
        write_report(session, tmp_path)
    text = " ".join(p.read_text() for p in tmp_path.glob("*.csv"))
    assert "Northwind" not in text and "Calder" not in text


def test_campaign_standings_rank_teams_per_head_as_the_leaderboard_does(
    ctx, week, tmp_path: Path
) -> None:
    """Operations (one person, 10 points) leads Employment (four people, 20 points)."""
    with ctx.store.write() as session:
        for email in (NADIA, PRIYA, OWEN):
            author = person(session, email)
            for n in range(5):
                record_idea(session, author, f"Idea {n}: VAT help for Acme", later(hours=1))
    with ctx.store.read() as session:
        report = write_report(session, tmp_path, later(hours=2), ctx.settings.zone)
        board = compute_boards(session, week, later(hours=2), ctx.settings.zone)
    assert report.campaigns == 1
    standings = rows(tmp_path / "campaign_standings.csv")
    teams = [r for r in standings if r["kind"] == "team"]
    assert [(r["rank"], r["name"], r["points"], r["headcount"], r["per_head"]) for r in teams] == [
        ("1", "Operations", "10", "1", "10.0"),
        ("2", "Employment", "20", "4", "5.0"),
    ]
    assert [r["name"] for r in teams] == [t.name for t in board.teams if t.points]
    assert not [r for r in standings if r["kind"] == "person"]  # nobody opted in
    assert (tmp_path / "campaign_standings.png").read_bytes().startswith(charts.PNG_MAGIC)


def test_report_on_an_empty_database(ctx, tmp_path: Path) -> None:
    with ctx.store.read() as session:
        report = write_report(session, tmp_path)
    assert report.referrals == 0
    assert (tmp_path / "funnel.png").read_bytes().startswith(charts.PNG_MAGIC)


def test_report_command(tmp_path: Path, monkeypatch) -> None:
    url = f"sqlite:///{tmp_path / 'crossbot.db'}"
    store = Store(url)
    with store.write() as session:
        catalog = load_catalog(SAMPLE_CONTENT)
        load_into(session, catalog)
        seed_activity(session, catalog, NOW)
    store.dispose()
    monkeypatch.setenv("CROSSBOT_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["report", "--out", str(tmp_path / "report")])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "funnel.csv" in result.output
    assert (tmp_path / "report" / "team_matrix.png").read_bytes().startswith(charts.PNG_MAGIC)


def test_chart_helpers_return_png() -> None:
    assert charts.bar_chart(["a", "b"], [1, -2], "t").startswith(charts.PNG_MAGIC)
    assert charts.funnel_chart([("new", 5), ("won", 1)], "t").startswith(charts.PNG_MAGIC)
    assert charts.matrix_chart(["x"], ["y"], [[3]], "t").startswith(charts.PNG_MAGIC)
    assert charts.bar_chart([], [], "empty").startswith(charts.PNG_MAGIC)


def test_demo_seed_gives_the_demo_person_referrals(ctx, chat) -> None:
    seeded(ctx)
    [listing] = chat("sam.patel@hartwellfinch.example").send("my referrals")[:1]
    assert "**Sent** (1)" in listing.text and "**Received** (1)" in listing.text


def test_piped_demo_shows_my_referrals(tmp_path: Path) -> None:
    from tests.test_cli import crossbot

    result = crossbot("demo", cwd=tmp_path, stdin="my referrals\n")
    assert result.returncode == 0, result.stderr
    assert "Your referrals" in result.stdout and "Sent (1)" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_report_cells_that_a_spreadsheet_would_run_are_neutralised(ctx, tmp_path: Path) -> None:
    """OWASP's CSV-injection rule: a team named like a formula is written as text."""
    seeded(ctx)
    with ctx.store.write() as session:
        for referral in session.exec(select(Referral)).all():
            referral.referrer_team = "=2+5"
            referral.receiver_team = "@SUM(A1)"
    with ctx.store.read() as session:
        report = write_report(session, tmp_path / "out")
    written = "\n".join(p.read_text(encoding="utf-8") for p in report.files if p.suffix == ".csv")
    teams = {r["team"] for r in rows(tmp_path / "out" / "team_balance.csv")}
    assert teams == {"'=2+5", "'@SUM(A1)"}
    for cell in csv.reader(written.splitlines()):
        assert not any(value.startswith(("=", "+", "@")) for value in cell)


def test_safe_cell_follows_owasp() -> None:
    from bot.exports import safe_cell

    assert [safe_cell(v) for v in ["=1", "+1", "-1", "@a", "\tx", "\rx"]] == [
        "'=1",
        "'+1",
        "'-1",
        "'@a",
        "'\tx",
        "'\rx",
    ]
    assert [safe_cell(v) for v in ["Tax", -3, 2.5, None]] == ["Tax", -3, 2.5, None]
