"""`/crossbot dashboard`: a one-time sign-in link to the dashboard, privately."""

from __future__ import annotations

from bot import dashboard
from bot.context import Context
from bot.dashboard._auth import LINK_LIFETIME
from bot.dialogs import CommandHandler
from bot.messages import Reply, Turn
from bot.render import render
from bot.store.models import Person


def command(turn: Turn, ctx: Context, me: Person, args: str) -> list[Reply]:
    """Send the speaker their link: ephemeral where they asked, never in a shared channel."""
    url = dashboard.issue_link(ctx, me)
    minutes = int(LINK_LIFETIME.total_seconds() // 60)
    text = render("dashboard_link", name=me.first_name, url=url, minutes=minutes, role=me.role)
    if turn.is_direct:
        return [Reply(text, private=True, kind="dashboard_link")]
    # Asked in a shared place (a Teams channel has no private replies): the link goes by DM.
    return [
        Reply(text, private=True, to_person=me.email, kind="dashboard_link"),
        Reply(render("dashboard_link_sent"), private=True, kind="dashboard_link_sent"),
    ]


COMMANDS: dict[str, CommandHandler] = {"dashboard": command}
