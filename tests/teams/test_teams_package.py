"""`crossbot teams-package`: the zip Teams accepts, validated before it is written."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from jsonschema import validators
from PIL import Image
from typer.testing import CliRunner

from bot.channels import teams_package as package
from bot.cli import app
from bot.conversation import COMMANDS
from bot.settings import get_settings

APP_ID = "6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b"
SCHEMAS = Path(__file__).parent.parent / "data" / "teams"
# The schema is draft-04, whose validator would skip `const` (a draft-06 keyword that
# Microsoft uses for manifestVersion); Teams' own validator honours it, so this one does too.
TeamsValidator = validators.extend(
    jsonschema.Draft4Validator, {"const": jsonschema.Draft7Validator.VALIDATORS["const"]}
)


def schema_problems(manifest: dict) -> list[str]:
    """What the official schema of the manifest's own `manifestVersion` says is wrong."""
    path = SCHEMAS / f"MicrosoftTeams.v{manifest['manifestVersion']}.schema.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    validator = TeamsValidator(schema, format_checker=jsonschema.FormatChecker())
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(manifest)]


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

    assert manifest["manifestVersion"] == package.MANIFEST_VERSION
    assert manifest["$schema"].endswith(f"/v{package.MANIFEST_VERSION}/MicrosoftTeams.schema.json")
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


def test_built_package_validates_against_the_schema_it_declares(cli, monkeypatch, tmp_path):
    monkeypatch.setenv("MicrosoftAppId", APP_ID)
    out = tmp_path / "crossbot.zip"
    assert cli.invoke(app, ["teams-package", "--out", str(out)]).exit_code == 0
    manifest = json.loads(package.read(out)["manifest.json"])

    assert schema_problems(manifest) == []


def test_the_schema_check_is_real() -> None:
    manifest = json.loads(package.build(APP_ID)["manifest.json"])
    manifest["packageName"] = "com.crossbot.teams"  # allowed in 1.5, refused since 1.17
    wrong_version = {**manifest, "manifestVersion": "1.31"}

    assert any("packageName" in p for p in schema_problems(manifest))
    with pytest.raises(FileNotFoundError):  # no schema kept for a version we don't build
        schema_problems(wrong_version)


def test_own_validation_refuses_fields_the_schema_does_not_allow() -> None:
    manifest = json.loads(package.build(APP_ID)["manifest.json"])
    manifest["packageName"] = "com.crossbot.teams"
    manifest["bots"][0]["commandLists"][0]["commands"][0]["hint"] = "x"

    problems = package.validate_manifest(manifest)

    assert f"manifest: packageName is not allowed in manifest {package.MANIFEST_VERSION}" in (
        problems
    )
    assert any("bots[].commandLists[].commands[].hint" in p for p in problems)
    assert schema_problems(manifest) != []  # the official schema agrees


def test_own_field_list_matches_the_official_schema() -> None:
    schema = json.loads(
        (SCHEMAS / f"MicrosoftTeams.v{package.MANIFEST_VERSION}.schema.json").read_text()
    )

    def keys(node: dict) -> frozenset[str]:
        return frozenset(node["properties"])

    props = schema["properties"]
    bot = props["bots"]["items"]
    extension = props["composeExtensions"]["items"]
    lists = bot["properties"]["commandLists"]["items"]
    assert {
        "": keys(schema),
        "developer": keys(props["developer"]),
        "name": keys(props["name"]),
        "description": keys(props["description"]),
        "icons": keys(props["icons"]),
        "bots[]": keys(bot),
        "bots[].commandLists[]": keys(lists),
        "bots[].commandLists[].commands[]": keys(lists["properties"]["commands"]["items"]),
        "composeExtensions[]": keys(extension),
        "composeExtensions[].commands[]": keys(extension["properties"]["commands"]["items"]),
    } == package.ALLOWED_FIELDS


def test_manifest_has_the_log_as_referral_message_action() -> None:
    manifest = json.loads(package.build(APP_ID)["manifest.json"])

    [extension] = manifest["composeExtensions"]
    [command] = extension["commands"]
    assert extension["botId"] == APP_ID
    assert command["type"] == "action" and command["context"] == ["message"]
    assert command["fetchTask"] is True
    assert command["title"] == "Log as referral"
