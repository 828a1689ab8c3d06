"""`crossbot report`: referral funnel, value won, team give/receive matrix, campaign standings.

Writes CSV files (for spreadsheets) and PNG charts (for slides) into one folder. Figures
are aggregates: no client names appear anywhere in the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot import charts, referrals
from bot.exports import write_csv
from bot.money import format_money
from bot.store.models import Campaign, Person, PointEvent

__all__ = ["Report", "write_report"]


@dataclass
class Report:
    """What was written, for the CLI's summary."""

    folder: Path
    files: list[Path] = field(default_factory=list)
    referrals: int = 0
    campaigns: int = 0


def write_report(session: Session, folder: Path) -> Report:
    """Write every CSV and PNG of the report into `folder` (created if need be)."""
    folder.mkdir(parents=True, exist_ok=True)
    report = Report(folder)
    current = dict(referrals.status_counts(session))
    report.referrals = sum(current.values())
    _funnel(session, report, current)
    _value_won(session, report)
    _teams(session, report)
    _campaigns(session, report)
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


def _campaigns(session: Session, report: Report) -> None:
    """Points per team (and per opted-in person) in each campaign, from the ledger."""
    campaigns = list(session.exec(select(Campaign).order_by(col(Campaign.starts_at))))
    report.campaigns = len(campaigns)
    if not campaigns:
        return
    names = {c.id: c.name for c in campaigns}
    team_rows = session.exec(
        select(PointEvent.campaign_id, PointEvent.team, func.sum(PointEvent.points))
        .group_by(col(PointEvent.campaign_id), col(PointEvent.team))
        .order_by(col(PointEvent.campaign_id), func.sum(PointEvent.points).desc())
    ).all()
    person_rows = session.exec(
        select(PointEvent.campaign_id, Person.name, func.sum(PointEvent.points))
        .join(Person, col(Person.id) == col(PointEvent.person_id))
        .where(Person.leaderboard_opt_in == True)  # noqa: E712
        .group_by(col(PointEvent.campaign_id), col(Person.name))
        .order_by(col(PointEvent.campaign_id), func.sum(PointEvent.points).desc())
    ).all()
    rows = [[names[c], "team", team, int(p or 0)] for c, team, p in team_rows]
    rows += [[names[c], "person", name, int(p or 0)] for c, name, p in person_rows]
    _csv(report, "campaign_standings.csv", ["campaign", "kind", "name", "points"], rows)
    latest = campaigns[-1]
    teams = [(team, int(p or 0)) for c, team, p in team_rows if c == latest.id]
    chart = charts.bar_chart(
        [t for t, _ in teams], [float(p) for _, p in teams], f"{latest.name}: team points", "points"
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
