"""`crossbot parse-referral`: the JSON contract, the summary, stdin mode and kind errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from bot.cli import app
from bot.settings import get_settings
from tests.referral_firm import DANA, OLU, PRIYA, write_firm

KEYS = ["client", "receiver", "card", "value", "currency", "missing"]


@pytest.fixture
def firm(tmp_path: Path) -> Path:
    return write_firm(tmp_path / "firm")


def run(args: list[str], stdin: str | None = None) -> Result:
    return CliRunner().invoke(app, args, input=stdin)


def parse(firm: Path, *args: str, speaker: str | None = DANA, stdin: str | None = None) -> Result:
    """`crossbot parse-referral --content FIRM --as SPEAKER ARGS` (no `--as` for None)."""
    said_as = ["--as", speaker] if speaker else []
    return run(["parse-referral", "--content", str(firm), *said_as, *args], stdin)


def test_json_for_one_message(firm: Path) -> None:
    result = parse(firm, "--json", "I've introduced Acme to Priya for their TUPE issue, maybe £20k")
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
    result = parse(firm, "refer Acme to Tom")
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
    result = parse(firm, "--json", stdin=lines)
    assert result.exit_code == 0, result.output
    outputs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["client"] for o in outputs] == ["Blue Fin Hotels", "Acme Ltd", "Northwind Foods"]
    assert [o["receiver"] for o in outputs] == [OLU, PRIYA, None]
    assert outputs[2]["card"] == "pensions"
    assert all(list(o) == KEYS for o in outputs)


def test_stdin_json_line_speaks_as_its_own_person(firm: Path) -> None:
    # Priya speaking cannot be her own receiver: the line's "as" must be used, not --as.
    line = json.dumps({"text": "refer Acme to Priya", "as": PRIYA})
    result = parse(firm, "--json", stdin=line)
    assert json.loads(result.stdout)["receiver"] is None


def test_unknown_speaker_is_a_kind_error(firm: Path) -> None:
    result = parse(firm, "--json", "refer Acme to Priya", speaker="nobody@nowhere.example")
    assert result.exit_code == 2
    assert "nobody@nowhere.example" in result.output
    assert "Traceback" not in result.output


def test_missing_speaker_is_a_kind_error(firm: Path) -> None:
    result = parse(firm, "refer Acme to Priya", speaker=None)
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
    result = parse(firm, "--json", stdin=lines)
    assert result.exit_code == 2
    outputs = [json.loads(line) for line in result.stdout.splitlines()]
    assert "ghost@ormsby.example" in outputs[0]["error"]
    assert "Line 2" in outputs[1]["error"]
    assert outputs[2]["receiver"] == PRIYA


def test_unreadable_content_folder(tmp_path: Path) -> None:
    result = parse(tmp_path / "absent", "x")
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
