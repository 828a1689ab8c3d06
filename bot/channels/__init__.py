"""Platform adapters. Each translates `Turn`s and `Reply`s and holds no business logic."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.messages import Messenger, Reply, Unreachable

if TYPE_CHECKING:
    from bot.context import Context

log = logging.getLogger(__name__)

# (settings attribute that switches the platform on, module, Messenger class). The Slack and
# Teams adapters provide these classes; each is built with the process `Context`.
_PLATFORMS = (
    ("slack_bot_token", "bot.channels.slack", "SlackMessenger"),
    ("microsoft_app_id", "bot.channels.teams", "TeamsMessenger"),
)


class NoMessenger(Exception):
    """No platform is configured to send through (its message says what to set)."""


def messenger_from_settings(ctx: Context) -> Messenger:
    """The `Messenger` of the configured platform (Slack first), imported only when needed."""
    import importlib

    from bot.render import render

    for setting, module_name, class_name in _PLATFORMS:
        if not getattr(ctx.settings, setting, None):
            continue
        module = importlib.import_module(module_name)
        messenger_class = getattr(module, class_name, None)
        if messenger_class is None:
            raise NoMessenger(render("no_messenger", platform=module_name, missing=class_name))
        messenger: Messenger = messenger_class(ctx)
        return messenger
    raise NoMessenger(render("no_messenger", platform="", missing=""))


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
