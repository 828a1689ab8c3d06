"""The firm itself: its name, currency and time zone, from `firm.yaml` in the content folder.

Every key is optional: the folder's name, GBP and Europe/London are the defaults, and the
`CROSSBOT_CURRENCY` / `CROSSBOT_TIMEZONE` settings override the file (`Settings.apply`).
An unknown currency code or time zone is an error naming the file and line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from bot.money import DEFAULT_CURRENCY, is_currency

DEFAULT_TIMEZONE = "Europe/London"
FILE = "firm.yaml"
KEYS = ("name", "currency", "timezone")


@dataclass(frozen=True)
class Firm:
    """Who the bot works for: how to name the firm, its currency (ISO 4217), its IANA zone."""

    name: str = ""
    currency: str = DEFAULT_CURRENCY
    timezone: str = DEFAULT_TIMEZONE


@dataclass(frozen=True)
class FirmProblem:
    """Something wrong in firm.yaml: where, and what to fix."""

    level: str
    line: int
    message: str


def is_timezone(name: str) -> bool:
    """Whether `name` is an IANA time zone this machine knows ("America/New_York")."""
    if not name or name.startswith("/") or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def read_firm(folder: Path) -> tuple[Firm, list[FirmProblem]]:
    """The firm described by `folder/firm.yaml` (defaults when absent) and its problems."""
    default = Firm(name=folder.name)
    path = folder / FILE
    if not path.is_file():
        return default, []
    text = path.read_text(encoding="utf-8-sig")
    try:
        data: Any = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        return default, [FirmProblem("error", line, "is not valid YAML")]
    if not isinstance(data, dict):
        return default, [
            FirmProblem("error", 1, "should be keys and values (name, currency, timezone)")
        ]
    problems: list[FirmProblem] = []
    name = str(data.get("name") or default.name).strip()
    currency = str(data.get("currency") or DEFAULT_CURRENCY).strip().upper()
    timezone = str(data.get("timezone") or DEFAULT_TIMEZONE).strip()
    if not is_currency(currency):
        problems.append(
            FirmProblem(
                "error",
                _line_of(text, "currency"),
                f"unknown currency '{data.get('currency')}': use an ISO 4217 code such as USD",
            )
        )
        currency = DEFAULT_CURRENCY
    if not is_timezone(timezone):
        problems.append(
            FirmProblem(
                "error",
                _line_of(text, "timezone"),
                f"unknown time zone '{timezone}': use an IANA name such as America/New_York",
            )
        )
        timezone = DEFAULT_TIMEZONE
    for key in data:
        if key not in KEYS:
            problems.append(
                FirmProblem("warning", _line_of(text, str(key)), f"unknown key '{key}' (ignored)")
            )
    return Firm(name=name, currency=currency, timezone=timezone), problems


def _line_of(text: str, key: str) -> int:
    pattern = re.compile(rf"^\s*['\"]?{re.escape(key)}['\"]?\s*:", re.MULTILINE)
    match = pattern.search(text)
    return text.count("\n", 0, match.start()) + 1 if match else 1
