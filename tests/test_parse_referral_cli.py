"""`crossbot parse-referral`: the JSON contract, the summary, stdin mode and kind errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.settings import get_settings
from tests.referral_firm import DANA, OLU, PRIYA, write_firm

KEYS = ["client", "receiver", "card", "value", "currency", "missing"]


@pytest.fixture
def firm(tmp_path: Path) -> Path:
    return write_firm(tmp_path / "firm")


def run(args: list[str], stdin: str | None = None):  # noqa: ANN201 - typer's Result
    return CliRunner().invoke(app, args, input=stdin)


def test_json_for_one_message(firm: Path) -> None:
    result = run(
        [
            "parse-referral",
            "--content",
            str(firm),
            "--as",
            DANA,
            "--json",
            "I've introduced Acme to Priya for their TUPE issue, maybe £20k",
        ]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data) == KEYS
    assert data == {
        "client": "Acme Ltd",
        "receiver": PRIYA,
        "card": "employment",
        "value": 20000,
        "currency": "GBP",
        "missing": [],
    }


def test_summary_without_json(firm: Path) -> None:
    result = run(["parse-referral", "--content", str(firm), "--as", DANA, "refer Acme to Tom"])
    assert result.exit_code == 0, result.output
    assert "Acme Ltd" in result.stdout
    assert "Tom Ng" in result.stdout and "Tom Baker" in result.stdout  # the choice to make
    assert "receiver" in result.stdout  # still to ask


def test_stdin_mode_plain_and_json_lines_in_order(firm: Path) -> None:
    lines = "\n".join(
        [
            "log a referral: Blue Fin → Olu",
            json.dumps({"text": "/refer Acme to priya for redundancy", "as": OLU}),
            "",
            json.dumps({"text": "referred Northwind Foods to the pensions team"}),
        ]
    )
    result = run(["parse-referral", "--content", str(firm), "--as", DANA, "--json"], lines)
    assert result.exit_code == 0, result.output
    outputs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["client"] for o in outputs] == ["Blue Fin Hotels", "Acme Ltd", "Northwind Foods"]
    assert [o["receiver"] for o in outputs] == [OLU, PRIYA, None]
    assert outputs[2]["card"] == "pensions"
    assert all(list(o) == KEYS for o in outputs)


def test_stdin_json_line_speaks_as_its_own_person(firm: Path) -> None:
    # Priya speaking cannot be her own receiver: the line's "as" must be used, not --as.
    line = json.dumps({"text": "refer Acme to Priya", "as": PRIYA})
    result = run(["parse-referral", "--content", str(firm), "--as", DANA, "--json"], line)
    assert json.loads(result.stdout)["receiver"] is None


def test_unknown_speaker_is_a_kind_error(firm: Path) -> None:
    result = run(
        [
            "parse-referral",
            "--content",
            str(firm),
            "--as",
            "nobody@nowhere.example",
            "--json",
            "refer Acme to Priya",
        ]
    )
    assert result.exit_code == 2
    assert "nobody@nowhere.example" in result.output
    assert "Traceback" not in result.output


def test_missing_speaker_is_a_kind_error(firm: Path) -> None:
    result = run(["parse-referral", "--content", str(firm), "refer Acme to Priya"])
    assert result.exit_code == 2
    assert "--as" in result.output


def test_bad_stdin_lines_keep_their_place(firm: Path) -> None:
    lines = "\n".join(
        [
            json.dumps({"text": "refer Acme to Priya", "as": "ghost@ormsby.example"}),
            '{"text": broken',
            "refer Acme to Priya",
        ]
    )
    result = run(["parse-referral", "--content", str(firm), "--as", DANA, "--json"], lines)
    assert result.exit_code == 2
    outputs = [json.loads(line) for line in result.stdout.splitlines()]
    assert "ghost@ormsby.example" in outputs[0]["error"]
    assert "Line 2" in outputs[1]["error"]
    assert outputs[2]["receiver"] == PRIYA


def test_unreadable_content_folder(tmp_path: Path) -> None:
    result = run(["parse-referral", "--content", str(tmp_path / "absent"), "--as", DANA, "x"])
    assert result.exit_code == 2
    assert "cards check" in result.output
    assert "Traceback" not in result.output


def test_configured_content_folder_by_default(firm: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CROSSBOT_CONTENT_DIR", str(firm))
    get_settings.cache_clear()
    try:
        result = run(["parse-referral", "--as", DANA, "--json", "/refer Blue Fin to Olu, 5k"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["receiver"] == OLU
