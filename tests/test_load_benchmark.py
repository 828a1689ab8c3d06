"""`benchmarks/load.py` runs small: real replicas, signed requests, a clean consistency check."""

from __future__ import annotations

import importlib

import pytest

from tests.conftest import POSTGRES_URL, REPO

pytestmark = pytest.mark.slow  # starts `crossbot serve` processes


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
    assert "consistency clean" in capsys.readouterr().out
