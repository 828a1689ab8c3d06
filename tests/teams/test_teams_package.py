"""`crossbot teams-package`: the zip Teams accepts, validated before it is written."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from bot.channels import teams_package as package
from bot.cli import app
from bot.conversation import COMMANDS
from bot.settings import get_settings

APP_ID = "6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b"


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[CliRunner]:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in ("MicrosoftAppId", "MICROSOFT_APP_ID"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_package_has_a_valid_manifest_and_icons(cli, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("MicrosoftAppId", APP_ID)
    out = tmp_path / "dist" / "crossbot.zip"
    result = cli.invoke(app, ["teams-package", "--out", str(out)])
    assert result.exit_code == 0, result.output

    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
        color = Image.open(io.BytesIO(archive.read("color.png")))
        outline = Image.open(io.BytesIO(archive.read("outline.png")))

    assert manifest["manifestVersion"] == "1.17"
    assert manifest["$schema"].endswith("/v1.17/MicrosoftTeams.schema.json")
    [bot] = manifest["bots"]
    assert bot["botId"] == APP_ID
    assert set(bot["scopes"]) == {"personal", "team", "groupChat"}
    titles = [c["title"] for c in bot["commandLists"][0]["commands"]]
    assert "whodoes" in titles and "refer" in titles and "leaderboard" in titles
    assert set(titles) <= set(COMMANDS)  # mirrors the slash commands
    assert manifest["id"] == package.app_id_for(APP_ID)  # stable across rebuilds
    assert len(manifest["name"]["short"]) <= 30
    assert len(manifest["description"]["short"]) <= 80

    assert (color.format, color.size) == ("PNG", (192, 192))
    assert (outline.format, outline.size, outline.mode) == ("PNG", (32, 32), "RGBA")
    pixels = list(outline.getdata())
    assert any(a == 0 for *_, a in pixels) and any(a == 255 for *_, a in pixels)
    assert all((r, g, b) == (255, 255, 255) for r, g, b, a in pixels if a)
    assert package.validate(package.read(out)) == []


def test_missing_app_id_is_a_clear_error(cli, tmp_path) -> None:
    out = tmp_path / "crossbot.zip"
    result = cli.invoke(app, ["teams-package", "--out", str(out)])

    assert result.exit_code == 2
    assert "MicrosoftAppId" in result.output and "--placeholder-id" in result.output
    assert not out.exists()


def test_placeholder_only_when_asked(cli, tmp_path) -> None:
    out = tmp_path / "crossbot.zip"
    result = cli.invoke(app, ["teams-package", "--out", str(out), "--placeholder-id"])

    assert result.exit_code == 0
    assert "PLACEHOLDER" in result.output
    manifest = json.loads(package.read(out)["manifest.json"])
    assert manifest["bots"][0]["botId"] == package.PLACEHOLDER_ID


def test_an_app_id_that_is_not_a_guid_is_refused(cli, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("MicrosoftAppId", "my-bot")
    out = tmp_path / "crossbot.zip"
    result = cli.invoke(app, ["teams-package", "--out", str(out)])

    assert result.exit_code == 1
    assert "botId" in result.output
    assert not out.exists()


def test_validation_catches_what_teams_would_refuse() -> None:
    files = package.build(APP_ID)
    manifest = json.loads(files["manifest.json"])
    manifest["name"]["short"] = "A name far too long for the Teams app bar"
    manifest["id"] = "not-a-guid"
    manifest["developer"]["privacyUrl"] = "http://example.com/privacy"
    big = io.BytesIO()
    Image.new("RGBA", (64, 64), (255, 0, 0, 255)).save(big, format="PNG")
    broken = {
        "manifest.json": json.dumps(manifest).encode(),
        "color.png": files["color.png"],
        "outline.png": big.getvalue(),
        "notes.txt": b"",
    }

    problems = package.validate(broken)

    assert "unexpected file notes.txt" in problems
    assert any("name.short" in p for p in problems)
    assert any("id must be a GUID" in p for p in problems)
    assert any("privacyUrl" in p for p in problems)
    assert any("outline.png must be 32×32" in p for p in problems)
    assert any("white on a transparent" in p for p in problems)
