"""The Teams app package: `manifest.json` and two icons in a zip, checked before it is written.

Teams refuses a package with a malformed manifest or wrongly sized icons only at upload
time, with a terse message; `validate` catches the same mistakes here first.
"""

from __future__ import annotations

import io
import json
import re
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from bot import __version__
from bot.render import render

# The newest manifest version Microsoft publishes; bots and message extensions need nothing
# newer, and tests/data/teams holds this version's official schema.
MANIFEST_VERSION = "1.30"
SCHEMA_BASE = "https://developer.microsoft.com/json-schemas/teams"
SCHEMA_URL = f"{SCHEMA_BASE}/v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000"
ACCENT = "#2F5D8C"
COLOR_SIZE = 192
OUTLINE_SIZE = 32
SCOPES = ["personal", "team", "groupChat"]
# The slash commands of Slack, in the order people need them; Teams allows 10 per list.
COMMANDS = [
    "whodoes",
    "refer",
    "referrals",
    "card",
    "story",
    "stories",
    "idea",
    "ideas",
    "leaderboard",
    "help",
]
# The message extension's action commands: our command id → the router action it opens.
MESSAGE_ACTIONS = {"logReferral": "referral.form"}
FILES = ("manifest.json", "color.png", "outline.png")
# A fixed namespace, so the same bot id always gives the same Teams app id (updates, not copies).
_APP_NAMESPACE = uuid.UUID("8d3f7c52-3b1e-4a59-9f5e-6c1d2b7a4e90")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_SEMVER = re.compile(r"^\d+\.\d+\.\d+$")
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


class PackageError(ValueError):
    """The package cannot be built or would be refused by Teams."""


@dataclass
class Developer:
    name: str = "Crossbot"
    website: str = "https://github.com/crossbot"
    privacy: str = ""
    terms: str = ""


def app_id_for(bot_id: str) -> str:
    """The Teams app id: stable for a bot, so re-uploading updates the same app."""
    return str(uuid.uuid5(_APP_NAMESPACE, bot_id.lower()))


def command_descriptions() -> dict[str, str]:
    """`name | description` lines from the template (user-facing text lives in prompts/)."""
    lines = render("teams_commands").splitlines()
    pairs = (line.split("|", 1) for line in lines if "|" in line)
    return {name.strip(): text.strip() for name, text in pairs}


def message_actions() -> list[dict[str, Any]]:
    """The message extension's action commands ("Log as referral" on any message)."""
    lines = render("teams_message_actions").splitlines()
    rows = [[part.strip() for part in line.split("|", 2)] for line in lines if "|" in line]
    return [
        {
            "id": command_id,
            "type": "action",
            "title": title,
            "description": description,
            "context": ["message"],
            "fetchTask": True,
        }
        for command_id, title, description in rows
        if command_id in MESSAGE_ACTIONS
    ]


def manifest(bot_id: str, developer: Developer | None = None) -> dict[str, Any]:
    """The app manifest (schema `MANIFEST_VERSION`) for the bot registered under `bot_id`."""
    developer = developer or Developer()
    website = developer.website.rstrip("/")
    descriptions = command_descriptions()
    commands = [{"title": name, "description": descriptions[name]} for name in COMMANDS]
    return {
        "$schema": SCHEMA_URL,
        "manifestVersion": MANIFEST_VERSION,
        "version": _semver(__version__),
        "id": app_id_for(bot_id),
        "developer": {
            "name": developer.name,
            "websiteUrl": website,
            "privacyUrl": developer.privacy or f"{website}/privacy",
            "termsOfUseUrl": developer.terms or f"{website}/terms",
        },
        "name": {"short": "Crossbot", "full": render("teams_app_name_full")},
        "description": {
            "short": render("teams_app_description_short"),
            "full": render("teams_app_description_full"),
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": ACCENT,
        "bots": [
            {
                "botId": bot_id,
                "scopes": SCOPES,
                "isNotificationOnly": False,
                "supportsFiles": False,
                "commandLists": [{"scopes": SCOPES, "commands": commands}],
            }
        ],
        "composeExtensions": [{"botId": bot_id, "commands": message_actions()}],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [],
    }


def _semver(version: str) -> str:
    parts = (re.findall(r"\d+", version) + ["0", "0", "0"])[:3]
    return ".".join(parts)


# -- icons --------------------------------------------------------------------------------


def _glyph(draw: ImageDraw.ImageDraw, size: int, width: int) -> None:
    """Two overlapping rings: two teams, one client."""
    radius = size * 0.24
    centre_y = size / 2
    for centre_x in (size * 0.38, size * 0.62):
        box = (centre_x - radius, centre_y - radius, centre_x + radius, centre_y + radius)
        draw.ellipse(box, outline=(255, 255, 255, 255), width=width)


def color_icon() -> bytes:
    """The 192×192 full-colour icon: white rings on the accent colour."""
    accent = tuple(int(ACCENT[i : i + 2], 16) for i in (1, 3, 5))
    image = Image.new("RGBA", (COLOR_SIZE, COLOR_SIZE), (*accent, 255))
    _glyph(ImageDraw.Draw(image), COLOR_SIZE, width=12)
    return _png(image)


def outline_icon() -> bytes:
    """The 32×32 outline icon: white on transparent, as Teams requires."""
    image = Image.new("RGBA", (OUTLINE_SIZE, OUTLINE_SIZE), (255, 255, 255, 0))
    _glyph(ImageDraw.Draw(image), OUTLINE_SIZE, width=2)
    return _png(image)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


# -- validation ---------------------------------------------------------------------------


def validate(files: dict[str, bytes]) -> list[str]:
    """Every reason Teams would refuse this package; empty when it is fine."""
    problems = [f"missing {name}" for name in FILES if name not in files]
    problems += [f"unexpected file {name}" for name in files if name not in FILES]
    if "manifest.json" in files:
        try:
            data = json.loads(files["manifest.json"])
        except ValueError:
            return [*problems, "manifest.json is not valid JSON"]
        problems += validate_manifest(data)
    if "color.png" in files:
        problems += _check_icon("color.png", files["color.png"], COLOR_SIZE, outline=False)
    if "outline.png" in files:
        problems += _check_icon("outline.png", files["outline.png"], OUTLINE_SIZE, outline=True)
    return problems


# The fields the schema of `MANIFEST_VERSION` allows, for the objects a bot's manifest uses
# (the schema says `additionalProperties: false` for each): path → allowed keys.
ALLOWED_FIELDS: dict[str, frozenset[str]] = {
    "": frozenset(
        "$schema manifestVersion version id localizationInfo developer name description icons "
        "accentColor configurableTabs staticTabs bots connectors subscriptionOffer "
        "composeExtensions permissions devicePermissions validDomains webApplicationInfo "
        "graphConnector showLoadingIndicator isFullScreen activities supportsChannelFeatures "
        "supportedChannelTypes configurableProperties defaultBlockUntilAdminAction "
        "publisherDocsUrl defaultInstallScope defaultGroupCapability "
        "meetingExtensionDefinition authorization extensions dashboardCards intuneInfo "
        "copilotAgents agenticUserTemplates elementRelationshipSet backgroundLoadConfiguration "
        "agentConnectors agentSkills".split()
    ),
    "developer": frozenset({"name", "mpnId", "websiteUrl", "privacyUrl", "termsOfUseUrl"}),
    "name": frozenset({"short", "full"}),
    "description": frozenset({"short", "full", "features"}),
    "icons": frozenset({"outline", "color", "color32x32"}),
    "bots[]": frozenset(
        "botId configuration needsChannelSelector isNotificationOnly supportsFiles "
        "supportsCalling supportsVideo scopes supportsTargetedMessages commandLists "
        "requirementSet registrationInfo".split()
    ),
    "bots[].commandLists[]": frozenset({"triggers", "scopes", "commands"}),
    "bots[].commandLists[].commands[]": frozenset({"title", "description", "type", "prompt"}),
    "composeExtensions[]": frozenset(
        "id botId composeExtensionType authorization apiSpecificationFile "
        "canUpdateConfiguration commands messageHandlers requirementSet".split()
    ),
    "composeExtensions[].commands[]": frozenset(
        "id type triggers samplePrompts apiResponseRenderingTemplateFile context title "
        "description initialRun fetchTask parameters taskInfo semanticDescription".split()
    ),
}


def unknown_fields(data: Any, path: str = "") -> list[str]:
    """Fields the schema does not allow (Teams refuses the whole package for one)."""
    allowed = ALLOWED_FIELDS.get(path)
    if allowed is None or not isinstance(data, dict):
        return []
    problems = [
        f"manifest: {path + '.' if path else ''}{key} is not allowed in manifest {MANIFEST_VERSION}"
        for key in data
        if key not in allowed
    ]
    for key, value in data.items():
        child = f"{path}.{key}" if path else key
        items = value if isinstance(value, list) else [value]
        suffix = "[]" if isinstance(value, list) else ""
        for item in items:
            problems += unknown_fields(item, child + suffix)
    return problems


def validate_manifest(data: dict[str, Any]) -> list[str]:
    """The manifest rules of schema `MANIFEST_VERSION` that matter for a bot."""
    problems: list[str] = unknown_fields(data)
    required = ["manifestVersion", "version", "id", "developer", "name", "description"]
    required += ["icons", "accentColor"]
    problems += [f"manifest: {key} is required" for key in required if not data.get(key)]
    if data.get("manifestVersion") != MANIFEST_VERSION:
        problems.append(f"manifest: manifestVersion must be {MANIFEST_VERSION}")
    if not _SEMVER.match(str(data.get("version", ""))):
        problems.append("manifest: version must look like 1.0.0")
    if not _GUID.match(str(data.get("id", ""))):
        problems.append("manifest: id must be a GUID")
    if not _HEX.match(str(data.get("accentColor", ""))):
        problems.append("manifest: accentColor must be a #RRGGBB colour")
    developer = data.get("developer") or {}
    for key in ("websiteUrl", "privacyUrl", "termsOfUseUrl"):
        if not str(developer.get(key, "")).startswith("https://"):
            problems.append(f"manifest: developer.{key} must be an https:// URL")
    if not developer.get("name"):
        problems.append("manifest: developer.name is required")
    name, description = data.get("name") or {}, data.get("description") or {}
    problems += _length("name.short", name.get("short"), 30)
    problems += _length("name.full", name.get("full"), 100, required=False)
    problems += _length("description.short", description.get("short"), 80)
    problems += _length("description.full", description.get("full"), 4000)
    icons = data.get("icons") or {}
    if icons.get("color") != "color.png" or icons.get("outline") != "outline.png":
        problems.append("manifest: icons must name color.png and outline.png")
    bots = data.get("bots") or []
    if len(bots) != 1:
        problems.append("manifest: exactly one bot expected")
    for bot in bots:
        problems += _check_bot(bot)
    for extension in data.get("composeExtensions") or []:
        problems += _check_extension(extension, bots)
    return problems


def _check_extension(extension: dict[str, Any], bots: list[dict[str, Any]]) -> list[str]:
    problems: list[str] = []
    if bots and extension.get("botId") != bots[0].get("botId"):
        problems.append("manifest: composeExtensions[0].botId must be the bot's id")
    commands = extension.get("commands") or []
    problems += _how_many_commands("a message extension", commands)
    for command in commands:
        problems += _length("message action id", command.get("id"), 64)
        problems += _length("message action title", command.get("title"), 32)
        problems += _length("message action description", command.get("description"), 128)
        if command.get("type") != "action" or command.get("context") != ["message"]:
            problems.append("manifest: message actions are action commands on a message")
    return problems


def _check_bot(bot: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    if not _GUID.match(str(bot.get("botId", ""))):
        problems.append("manifest: bots[0].botId must be the bot's Microsoft App ID (a GUID)")
    scopes = bot.get("scopes") or []
    if not scopes or set(scopes) - set(SCOPES) or len(scopes) > 3:
        problems.append("manifest: bots[0].scopes must be personal, team and/or groupChat")
    lists = bot.get("commandLists") or []
    if len(lists) > 3:
        problems.append("manifest: at most 3 command lists")
    for command_list in lists:
        commands = command_list.get("commands") or []
        problems += _how_many_commands("a command list", commands)
        for command in commands:
            problems += _length("command title", command.get("title"), 32)
            problems += _length("command description", command.get("description"), 128)
    return problems


def _how_many_commands(what: str, commands: list[Any]) -> list[str]:
    if not 1 <= len(commands) <= 10:
        return [f"manifest: {what} holds 1 to 10 commands"]
    return []


def _length(what: str, value: Any, limit: int, required: bool = True) -> list[str]:
    if not value:
        return [f"manifest: {what} is required"] if required else []
    if len(str(value)) > limit:
        return [f"manifest: {what} is longer than {limit} characters"]
    return []


def _check_icon(name: str, data: bytes, size: int, outline: bool) -> list[str]:
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except Exception:
        return [f"{name} is not a readable image"]
    problems = []
    if image.format != "PNG":
        problems.append(f"{name} must be a PNG")
    if image.size != (size, size):
        problems.append(f"{name} must be {size}×{size} pixels, not {image.width}×{image.height}")
    if outline:
        rgba = image.convert("RGBA")
        pixels = list(rgba.getdata())
        if any(a and (r, g, b) != (255, 255, 255) for r, g, b, a in pixels):
            problems.append(f"{name} must be white on a transparent background")
        if all(a == 255 for *_, a in pixels):
            problems.append(f"{name} must have a transparent background")
    return problems


# -- the package --------------------------------------------------------------------------


def build(bot_id: str, developer: Developer | None = None) -> dict[str, bytes]:
    """The package's files; raises `PackageError` if Teams would refuse them."""
    files = {
        "manifest.json": json.dumps(manifest(bot_id, developer), indent=2).encode(),
        "color.png": color_icon(),
        "outline.png": outline_icon(),
    }
    problems = validate(files)
    if problems:
        raise PackageError("; ".join(problems))
    return files


def write(out: Path, bot_id: str, developer: Developer | None = None) -> Path:
    """Build, validate and write the zip (files at its root, as Teams expects)."""
    files = build(bot_id, developer)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in FILES:
            archive.writestr(name, files[name])
    return out


def read(path: Path) -> dict[str, bytes]:
    """The files of a package zip (for checking one already written)."""
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}
