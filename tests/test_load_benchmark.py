"""`benchmarks/load.py` runs small: real replicas, signed requests, a clean consistency check."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from bot.catalog import load_catalog
from tests.conftest import POSTGRES_URL, REPO


@pytest.mark.slow  # starts `crossbot serve` processes
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_the_load_benchmark_runs_small(
    backend: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    if backend == "postgres" and not POSTGRES_URL:
        pytest.skip("set CROSSBOT_TEST_POSTGRES_URL to a scratch PostgreSQL database")
    # Imported by name: the bare Bolt app runs in a spawned process that imports it again.
    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))
    bench = importlib.import_module("load")
    args = ["--users", "4", "--seconds", "4", "--think", "0.2", "--replicas", "2"]
    args += ["--people", "300", "--setting", "CROSSBOT_INBOX_WORKERS=3"]
    if backend == "postgres":
        args += ["--skip-sqlite", "--postgres", POSTGRES_URL]
    outcomes = await bench.main(args)
    bare, crossbot = outcomes
    assert bare.check is None and bare.tally.all_answers and not bare.tally.errors
    assert crossbot.check["clean"], crossbot.check
    assert crossbot.tally.confirmed >= 1 and crossbot.check["referrals"] >= 1
    assert {"who-does", "referral", "confirm", "accept", "leaderboard"} <= set(
        crossbot.tally.answers
    )
    out = capsys.readouterr().out
    assert "consistency clean" in out
    assert "the firm: 300 people" in out


def test_a_grown_firm_spreads_referrals_over_its_teams(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))
    bench = importlib.import_module("load")
    firm = bench.build_firm(REPO / "content", 10, tmp_path / "firm", people=400)
    catalog = load_catalog(firm.folder)
    assert len(catalog.people) == 400 and len(firm.emails) == 400
    assert len({p.name for p in catalog.people}) == 400  # every receiver is named unambiguously
    teams = {p.name: p.team for p in catalog.people}
    cards = {c.title: c for c in catalog.cards}
    receivers = {name for _, names in firm.cards for name in names}
    assert len(receivers) > len(firm.cards)
    for title, names in firm.cards:
        assert {teams[n] for n in names[1:]} <= {cards[title].team}
    assert len({c.owner for c in catalog.clients}) > len(load_catalog(REPO / "content").people)
