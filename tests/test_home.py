"""The home view (Slack's App Home): routed like any action, neutral Replies out."""

from __future__ import annotations

from collections.abc import Callable

from bot.channels.console import ConsoleChannel
from tests.conftest import ADMIN, PRIYA


def test_home_greets_the_person_and_offers_the_main_actions(
    chat: Callable[..., ConsoleChannel],
) -> None:
    [home] = chat(PRIYA).press("home.show")

    assert home.kind == "home"
    assert "Priya" in home.text
    assert [b.action for b in home.buttons] == [
        "referral.form",
        "referral.mine",
        "leaderboard.show",
    ]
    assert "campaign start" not in home.text


def test_home_shows_admins_their_extra_command(chat: Callable[..., ConsoleChannel]) -> None:
    [home] = chat(ADMIN).press("home.show")

    assert "campaign start" in home.text
