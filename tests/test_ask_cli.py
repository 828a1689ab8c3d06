"""`crossbot ask`: the JSON contract, stdin batch mode, follow-ups and bad input."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from tests.cli_run import crossbot
from tests.search_firm import write_firm

runner = CliRunner()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return write_firm(tmp_path / "firm")


def ask(folder: Path, *args: str, stdin: str | None = None) -> list[dict]:
    result = runner.invoke(app, ["ask", "--content", str(folder), "--json", *args], input=stdin)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines() if line.strip()]


def test_json_contract(folder: Path) -> None:
    [out] = ask(folder, "who does TUPE?")
    assert set(out) == {"question", "matches", "answer"}
    assert out["question"] == "who does TUPE?"
    best = out["matches"][0]
    assert set(best) == {"card", "title", "team", "score", "owners"}
    assert (best["card"], best["title"], best["team"]) == (
        "employment",
        "Employment law",
        "Employment",
    )
    assert isinstance(best["score"], float)
    assert best["owners"][0] == {"name": "Asha Rao", "email": "asha.rao@firm.example"}
    assert "Asha Rao" in out["answer"]


def test_no_match_has_empty_matches(folder: Path) -> None:
    [out] = ask(folder, "my laptop won't connect to the VPN")
    assert out["matches"] == []
    assert "Gail Hunt" in out["answer"]


def test_stdin_batch_one_object_per_line_in_order(folder: Path) -> None:
    questions = [
        "who does TUPE?",
        "",
        "client's landlord wants the building back",
        "who fixes the printer?",
        "founder wants to sell up",
    ]
    out = ask(folder, stdin="\n".join(questions) + "\n")
    assert [o["question"] for o in out] == [q for q in questions if q]
    assert [o["matches"][0]["card"] if o["matches"] else None for o in out] == [
        "employment",
        "property",
        None,
        "corporate",
    ]


def test_stdin_follow_ups(folder: Path) -> None:
    out = ask(folder, stdin="who handles redundancies?\nanyone in Manchester?\ntell me more\n")
    assert out[1]["matches"][0]["owners"] == [
        {"name": "Asha Rao", "email": "asha.rao@firm.example"}
    ]
    assert out[2]["matches"][0]["card"] == "employment"
    assert "What we do" in out[2]["answer"]


def test_plain_text_answer(folder: Path) -> None:
    result = runner.invoke(app, ["ask", "--content", str(folder), "who does insolvency?"])
    assert result.exit_code == 0
    assert result.output.startswith("**Restructuring and insolvency**")


def test_bad_content_folder_is_a_kind_message(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ask", "--content", str(tmp_path / "nowhere"), "who does tax?"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "cards check" in result.output


def test_ask_reads_the_configured_database(tmp_path: Path, folder: Path) -> None:
    """Without --content, `ask` searches what `crossbot load` put in the database."""
    env = {
        "CROSSBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'ask.db'}",
        "CROSSBOT_CONTENT_DIR": str(tmp_path / "missing"),
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return crossbot(*args, cwd=tmp_path, env=env)

    assert run("load", str(folder)).returncode == 0
    result = run("ask", "--json", "who handles insolvency?")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["matches"][0]["card"] == "insolvency"
