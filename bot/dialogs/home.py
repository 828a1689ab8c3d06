"""The home view (Slack's App Home tab): my open referrals, my points, the campaign, and
what I can do next.

Platform-neutral: it returns `Reply`s and the adapter lays them out (Slack renders them as
the Home tab).
"""

from __future__ import annotations

from bot import campaigns, referrals
from bot.context import Context
from bot.dialogs import ActionHandler
from bot.messages import Button, Reply, Turn
from bot.render import label, render
from bot.store.models import Person

OPEN_SHOWN = 5


def on_show(turn: Turn, ctx: Context, me: Person) -> list[Reply]:
    """`home.show`: the replies that make up the home view."""
    return [home(ctx, me)]


ACTIONS: dict[str, ActionHandler] = {"home.show": on_show}


def home(ctx: Context, me: Person) -> Reply:
    now = ctx.now()
    with ctx.store.read() as session:
        mine = referrals.mine(session, me, limit=OPEN_SHOWN)
        campaign = campaigns.running_campaign(session, now)
        standing = None
        if campaign is not None:
            boards = campaigns.compute_boards(session, campaign, now, ctx.settings.zone)
            standing = boards.person(me.id)
    open_sent = [r for r in mine.sent if r.status in referrals.OPEN]
    open_received = [r for r in mine.received if r.status in referrals.OPEN]
    return Reply(
        render(
            "home",
            name=me.first_name,
            role=me.role,
            waiting=mine.waiting,
            sent=open_sent,
            received=open_received,
            campaign=campaign,
            standing=standing,
        ),
        buttons=[
            Button(label("log_a_referral"), "referral.form", style="primary"),
            Button(label("my_referrals"), "referral.mine"),
            Button(label("leaderboard"), "leaderboard.show"),
        ],
        kind="home",
    )
