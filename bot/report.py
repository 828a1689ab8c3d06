"""`crossbot report`: referral funnel, value won, team give/receive matrix, campaign standings.

Writes CSV files (for spreadsheets) and PNG charts (for slides) into one folder. Figures
are aggregates: no client names appear anywhere in the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot import charts, referrals
from bot.campaigns import Standing, compute_boards
from bot.exports import write_csv
from bot.money import format_money
from bot.store.models import Campaign

__all__ = ["Report", "write_report"]


@dataclass
class Report:
    """What was written, for the CLI's summary."""

    folder: Path
    files: list[Path] = field(default_factory=list)
    referrals: int = 0
    campaigns: int = 0


def write_report(
    session: Session, folder: Path, now: datetime | None = None, zone: ZoneInfo | None = None
) -> Report:
    """Write every CSV and PNG of the report into `folder` (created if need be); campaign
    standings are as of `now` in the firm's time zone `zone` (default: now, UTC)."""
    folder.mkdir(parents=True, exist_ok=True)
    report = Report(folder)
    current = dict(referrals.status_counts(session))
    report.referrals = sum(current.values())
    _funnel(session, report, current)
    _value_won(session, report)
    _teams(session, report)
    _campaigns(session, report, now or datetime.now(UTC), zone or ZoneInfo("UTC"))
    return report


def _funnel(session: Session, report: Report, current: dict[str, int]) -> None:
    reached = referrals.funnel(session)
    _csv(
        report,
        "funnel.csv",
        ["status", "reached", "now"],
        [[status, n, current.get(status, 0)] for status, n in reached],
    )
    road = [(s, n) for s, n in reached if s in (*referrals.USUAL_PATH["won"], "lost")]
    _png(report, "funnel.png", charts.funnel_chart(road, "Referral funnel"))


def _value_won(session: Session, report: Report) -> None:
    rows = referrals.value_won(session)
    _csv(
        report,
        "value_won.csv",
        ["receiver_team", "currency", "value_won", "referrals_won"],
        [[team, currency, f"{total:.2f}", n] for team, currency, total, n in rows],
    )
    labels = [f"{team} ({format_money(total, currency)})" for team, currency, total, _ in rows]
    chart = charts.bar_chart(labels, [t for _, _, t, _ in rows], "Value won by team", "value won")
    _png(report, "value_won.png", chart)


def _teams(session: Session, report: Report) -> None:
    matrix = referrals.team_matrix(session)
    _csv(
        report,
        "team_matrix.csv",
        ["giver_team", "receiver_team", "referrals"],
        [[giver, taker, n] for (giver, taker), n in sorted(matrix.items())],
    )
    teams = sorted({t for pair in matrix for t in pair})
    grid = [[float(matrix.get((giver, taker), 0)) for taker in teams] for giver in teams]
    chart = charts.matrix_chart(
        teams, teams, grid, "Referrals given (rows) to received (columns)", "giver", "receiver"
    )
    _png(report, "team_matrix.png", chart)
    balance = referrals.net_givers(matrix)
    _csv(
        report,
        "team_balance.csv",
        ["team", "given", "received", "net", "role"],
        [[team, given, taken, net, _role(net)] for team, given, taken, net in balance],
    )
    chart = charts.bar_chart(
        [team for team, *_ in balance],
        [float(net) for *_, net in balance],
        "Net givers (+) and net receivers (−)",
        "given − received",
    )
    _png(report, "team_balance.png", chart)


def _role(net: int) -> str:
    return "net giver" if net > 0 else "net receiver" if net < 0 else "balanced"


def _campaigns(session: Session, report: Report, now: datetime, zone: ZoneInfo) -> None:
    """Each campaign's teams ranked as its leaderboard ranks them (points per head, raw points
    beside), then the people who opted in to leaderboards."""
    campaigns = list(session.exec(select(Campaign).order_by(col(Campaign.starts_at))))
    report.campaigns = len(campaigns)
    if not campaigns:
        return
    rows: list[list[object]] = []
    latest: list[Standing] = []
    for campaign in campaigns:
        boards = compute_boards(session, campaign, now, zone)
        latest = [t for t in boards.teams if t.points]
        rows += [
            [campaign.name, "team", t.per_head_rank, t.name, t.points, t.headcount, t.per_head]
            for t in latest
        ]
        rows += [
            [campaign.name, "person", p.rank, p.name, p.points, "", ""]
            for p in boards.public_people
        ]
    header = ["campaign", "kind", "rank", "name", "points", "headcount", "per_head"]
    _csv(report, "campaign_standings.csv", header, rows)
    chart = charts.bar_chart(
        [t.name for t in latest],
        [t.per_head for t in latest],
        f"{campaigns[-1].name}: team points per head",
        "points per head",
    )
    _png(report, "campaign_standings.png", chart)


def _csv(report: Report, name: str, header: list[str], rows: list[list[object]]) -> None:
    path = report.folder / name
    with path.open("w", newline="", encoding="utf-8") as handle:
        write_csv(handle, header, rows)
    report.files.append(path)


def _png(report: Report, name: str, data: bytes) -> None:
    path = report.folder / name
    path.write_bytes(data)
    report.files.append(path)
