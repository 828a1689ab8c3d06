"""`benchmarks/slack_throughput.py` runs small and finishes: every server acks and answers
every command, and the figures are printed beside bare Bolt's."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from tests.conftest import REPO


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch):
    # Imported by name: the servers run in spawned processes that import it (and load) again.
    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))
    return importlib.import_module("slack_throughput")


def test_no_two_commands_of_a_run_are_alike(bench, tmp_path: Path):
    """Crossbot drops a signed body it has had before (a retry), so a run that sent one twice
    would wait for an answer that never comes: warm-up and measured requests differ too."""
    users = [(f"U{i}", f"u{i}@firm.example", f"User {i}") for i in range(3)]
    firm = bench.Firm(tmp_path, users, {}, [("Employment law", ["Priya Shah"])], [])
    slack = bench.FakeSlack({}, url="http://127.0.0.1:1")
    made = bench._requests(firm, slack, 5) + bench._requests(firm, slack, 5)
    assert len({r.body for r in made}) == len({r.respond for r in made}) == 10
    assert {r.owner for r in made} == {"Priya Shah"}


@pytest.mark.slow  # spawns three servers
async def test_the_throughput_benchmark_runs_small(bench, capsys: pytest.CaptureFixture[str]):
    args = ["--requests", "6", "--concurrency", "2", "--rounds", "1", "--people", "0"]
    outcomes = await bench.main([*args, "--users", "3"])
    assert [o.kind for o in outcomes] == ["bolt", "crossbot", "adapter"]
    for outcome in outcomes:
        (only,) = outcome.rounds
        assert len(only.acks) == len(only.answers) == 6
        assert not only.errors and only.wrong == 0
        assert outcome.answer_rate > 0 and outcome.ack_rate > 0
    out = capsys.readouterr().out
    assert "6/6 answered, errors {}, wrong answers 0" in out
    assert "acks/s  ratio   ans/s  ratio" in out
