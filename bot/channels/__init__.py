"""Platform adapters. Each translates `Turn`s and `Reply`s and holds no business logic."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.messages import Messenger, Reply, Unreachable

if TYPE_CHECKING:
    from bot.context import Context

log = logging.getLogger(__name__)


class NoMessenger(Exception):
    """No platform is configured to send through (its message says what to set)."""


def messenger_from_settings(ctx: Context) -> Messenger:
    """The `Messenger` of the configured platform (Slack first), for a process that only
    sends (`crossbot digest`, `crossbot nudges`). Platform modules are imported only here.
    """
    from bot.render import render

    settings = ctx.settings
    try:
        if settings.slack_bot_token or (settings.slack_client_id and settings.slack_client_secret):
            return _slack_messenger(ctx)
        if settings.microsoft_app_id:
            from bot.channels.teams import TeamsMessenger

            return TeamsMessenger(ctx)
    except NoMessenger:
        raise
    except Exception as exc:  # settings that cannot work: say why, no traceback
        raise NoMessenger(str(exc)) from exc
    raise NoMessenger(render("no_messenger", platform="", missing=""))


def _slack_messenger(ctx: Context) -> Messenger:
    from bot.channels.slack import SlackMessenger
    from bot.channels.slack_oauth import Workspaces, oauth_enabled

    settings = ctx.settings
    base = SlackMessenger.for_context(ctx)
    if not oauth_enabled(settings):
        return base
    from bot.channels.slack_workspaces import AllWorkspaces

    def build(token: str) -> SlackMessenger:
        return SlackMessenger.for_context(ctx, pacer=base.pacer, token=token)

    return AllWorkspaces(base, Workspaces(build), settings.slack_client_id or "")


async def deliver_elsewhere(replies: list[Reply], messenger: Messenger) -> list[Reply]:
    """Send the replies addressed to other people or channels; return the ones for here.

    A person the platform cannot reach is reported back to the speaker rather than
    silently skipped, so nobody believes an owner was told when they were not.
    """
    here: list[Reply] = []
    for reply in replies:
        try:
            if reply.to_channel:
                await messenger.post(reply.to_channel, reply)
            elif reply.to_person:
                await messenger.dm(reply.to_person, reply)
            else:
                here.append(reply)
        except Unreachable as exc:
            log.warning("could not reach a recipient (%s)", type(exc).__name__)
            here.append(unreachable_notice(str(exc) or reply.to_person or reply.to_channel or ""))
    return here


def unreachable_notice(who: str) -> Reply:
    from bot.render import render

    return Reply(render("unreachable", who=who), kind="unreachable", private=True)
