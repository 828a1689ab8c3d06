"""Outbound Slack for scheduled work in OAuth mode: the digest, nudges, `crossbot digest`.

A turn answers through its own workspace (`slack_oauth.Workspaces`); a job has no
workspace, so `AllWorkspaces` tries each installed one, newest install first, until one
reaches the channel or the person (found by email there).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from bot.channels.slack import SlackMessenger
from bot.channels.slack_oauth import Workspaces, installed_bots
from bot.messages import Reply, Unreachable


class AllWorkspaces(SlackMessenger):
    """A `Messenger` over every installed workspace (OAuth mode)."""

    def __init__(self, base: SlackMessenger, workspaces: Workspaces, client_id: str) -> None:
        super().__init__(base.client, base.store, base.pacer, base.stash, persist_ids=False)
        self.workspaces = workspaces
        self.client_id = client_id

    async def post(self, channel: str, reply: Reply) -> None:
        await self._first_reaching(channel, lambda messenger: messenger.post(channel, reply))

    async def dm(self, person: str, reply: Reply) -> None:
        await self._first_reaching(person, lambda messenger: messenger.dm(person, reply))

    async def _first_reaching(
        self, target: str, send: Callable[[SlackMessenger], Awaitable[None]]
    ) -> None:
        """Send through each workspace in turn until one reaches `target`."""
        for messenger in await self._installed():
            try:
                await send(messenger)
                return
            except Unreachable:
                continue
        raise Unreachable(target)

    async def _installed(self) -> list[SlackMessenger]:
        bots = await asyncio.to_thread(installed_bots, self.store, self.client_id)
        return [self.workspaces.messenger(e, t, token) for e, t, token in bots]
