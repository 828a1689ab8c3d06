"""Points rules: the defaults, the presets, and a campaign's rules filled in."""

from __future__ import annotations

import copy
from typing import Any

from bot.store.models import (
    Campaign,
)

KINDS = ("logged", "accepted", "meeting", "won", "idea", "story")
REVERSAL = "reversal"

DEFAULT_RULES: dict[str, Any] = {
    # Points to the referrer for each step; logging alone earns a token amount.
    "points": {"logged": 1, "accepted": 5, "meeting": 10, "won": 25, "idea": 2, "story": 10},
    # Points to the receiver for doing the work (they confirm the step).
    "receiver_points": {"accepted": 2, "meeting": 5, "won": 10},
    # A win's bonus by value band: [minimum value, bonus], highest band that fits wins.
    "win_bonus": [[10_000, 10], [50_000, 25], [250_000, 50]],
    # At most this many awards per person per action per day (firm time zone).
    "daily_cap": {"logged": 3, "accepted": 10, "meeting": 10, "won": 10, "idea": 5, "story": 2},
    # At most this many referrals between the same two people score in one campaign.
    "pair_cap": 3,
    "own_team_scores": False,
    # Flag a pair to admins when each has referred to the other at least this many times.
    "reciprocal_flag_at": 2,
    # An earlier referral of the same client to the same team within this window = duplicate.
    "duplicate_window_days": 90,
}

PRESETS: dict[str, dict[str, Any]] = {
    "standard": {},
    "ideas": {"points": {"idea": 5}, "daily_cap": {"idea": 10}},
    "wins": {"points": {"won": 40}, "win_bonus": [[10_000, 15], [50_000, 40], [250_000, 80]]},
    "open": {"own_team_scores": True},
}

# Referral statuses that are steps worth points (the receiver confirms them).
_STEPS = {"accepted": "accepted", "meeting": "meeting", "won": "won"}
_STEP_ORDER = ["accepted", "meeting", "won"]
_PROGRESSED = ("accepted", "meeting", "proposal", "won")
_NOT_DUPLICATE_OF = ("declined", "duplicate", "withdrawn")
ENCOURAGE_KIND = "campaign_encourage"
FLAG_KIND = "campaign_flag"


class CampaignError(Exception):
    """A request that cannot be done as asked; `code` names the template branch to render."""

    def __init__(self, code: str, **data: Any) -> None:
        super().__init__(code)
        self.code = code
        self.data = data


def rules_for(preset: str = "standard", overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The full rules of a preset: defaults, then the preset, then explicit overrides."""
    if preset not in PRESETS:
        raise CampaignError("unknown_preset", preset=preset, presets=list(PRESETS))
    rules = copy.deepcopy(DEFAULT_RULES)
    for layer in (PRESETS[preset], overrides or {}):
        for name, value in layer.items():
            if isinstance(value, dict) and isinstance(rules.get(name), dict):
                rules[name] = {**rules[name], **value}
            else:
                rules[name] = copy.deepcopy(value)
    rules["preset"] = preset
    return rules


def rules_of(campaign: Campaign) -> dict[str, Any]:
    """A campaign's rules, filled in with defaults for anything it does not say."""
    stored = dict(campaign.rules or {})
    preset = str(stored.pop("preset", "standard"))
    return rules_for(preset if preset in PRESETS else "standard", stored)


def win_bonus(rules: dict[str, Any], value: float | None) -> int:
    bonus = 0
    for minimum, points in sorted(rules.get("win_bonus", [])):
        if value is not None and value >= minimum:
            bonus = int(points)
    return bonus
