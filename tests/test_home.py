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


def test_home_lists_open_referrals_and_what_waits_on_me(
    chat: Callable[..., ConsoleChannel],
) -> None:
    helen = chat("helen.carmichael@hartwellfinch.example")
    helen.send("I've introduced Acme to Priya for their TUPE issue, maybe £20k")
    helen.send("Confirm")

    [priya_home] = chat(PRIYA).press("home.show")
    assert "Waiting on you" in priya_home.text and "Acme Logistics plc" in priya_home.text
    [helen_home] = helen.press("home.show")
    assert "Open referrals you sent" in helen_home.text
    assert "Acme Logistics plc" in helen_home.text
    [admin_home] = chat(ADMIN).press("home.show")
    assert "Acme" not in admin_home.text  # only one's own referrals, even for an admin
    assert "No open referrals" in admin_home.text


def test_home_shows_my_points_in_the_running_campaign(ctx, week, chat) -> None:
    from sqlmodel import select

    from bot.store.models import Person
    from tests.campaign_support import refer, step

    with ctx.store.write() as session:
        helen = session.exec(select(Person).where(Person.name == "Helen Carmichael")).one()
        priya = session.exec(select(Person).where(Person.email == PRIYA)).one()
        referral, _ = refer(session, helen, priya, "Acme Logistics plc", ctx.now())
        step(session, referral, "accepted", priya, ctx.now())

    [home] = chat(PRIYA).press("home.show")
    assert week.name in home.text and "points (#" in home.text
    [other] = chat(ADMIN).press("home.show")
    assert week.name in other.text and "get on the board" in other.text
