"""The authorization matrix through Teams activities (see tests/authz.py)."""

from __future__ import annotations

import json

import pytest
from aiohttp.test_utils import TestClient

from bot.context import Context
from tests.authz import CAST, Scene, Step, run_matrix_async
from tests.teams.conftest import FakeConnector, activity


async def act(
    bot: TestClient, connector: FakeConnector, email: str, step: Step, scene: Scene
) -> str:
    """Post the activity Teams would post for this person; return what they were shown."""
    sent = len(connector.activities)
    if step.text is not None:
        body = activity(connector, user_id=f"29:{email}", name=email, text=step.text(scene))
    else:
        assert step.action is not None and step.payload is not None
        value = {**step.payload(scene), "action": step.action}
        body = activity(connector, user_id=f"29:{email}", name=email, value=value)
    response = await bot.post("/api/messages", json=body)
    assert response.status in (200, 201)
    mine = [
        a["activity"]
        for a in connector.activities[sent:]
        if a["conversation"] == f"a:personal-chat-29:{email}"
    ]
    return json.dumps(mine, ensure_ascii=False)


@pytest.mark.parametrize("role", sorted(CAST))
async def test_who_may_do_what(
    bot: TestClient, connector: FakeConnector, ctx: Context, clock, role: str
) -> None:
    async def through_teams(email: str, step: Step, scene: Scene) -> str:
        return await act(bot, connector, email, step, scene)

    await run_matrix_async(ctx, role, through_teams)
