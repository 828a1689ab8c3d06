"""Platform adapters. Each translates `Turn`s and `Reply`s and holds no business logic."""

from __future__ import annotations

import logging

from bot.messages import Messenger, Reply, Unreachable

log = logging.getLogger(__name__)


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
