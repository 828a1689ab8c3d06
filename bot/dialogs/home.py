"""The home view (Slack's App Home tab): who I am to Crossbot and what I can do next.

Platform-neutral: it returns `Reply`s and the adapter lays them out (Slack renders them as
the Home tab). It is the one place to add a person's open referrals, points and the
current campaign once those domain modules exist.
"""

from __future__ import annotations

from bot.context import Context
from bot.messages import Button, Reply, Turn
from bot.render import render
from bot.store.models import Person


def on_action(turn: Turn, ctx: Context, me: Person) -> list[Reply]:
    """`home.show`: the replies that make up the home view."""
    return [home(ctx, me)]


def home(ctx: Context, me: Person) -> Reply:
    return Reply(
        render("home", name=me.first_name, role=me.role),
        buttons=[
            Button("Log a referral", "referral.form", style="primary"),
            Button("My referrals", "referral.mine"),
            Button("Leaderboard", "leaderboard.show"),
        ],
        kind="home",
    )
