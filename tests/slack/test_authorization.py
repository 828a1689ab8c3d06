"""The authorization matrix through signed Slack requests (see tests/authz.py)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from bot.channels.slack import SLASH_COMMANDS
from bot.context import Context
from tests.authz import CAST, Scene, Step, run_matrix_async
from tests.slack.conftest import SlackDriver, dm_channel
from tests.slack.fake_slack import FakeSlack

SLACK_IDS = {
    CAST["referrer"]: "U04PSH7K2QX",
    CAST["receiver"]: "UMORAG",  # no slack_id in people.csv: matched by email
    CAST["owner"]: "U05JTH3M8RL",
    CAST["admin"]: "U02AMG8X5TC",
    CAST["ambassador"]: "U03CAS2N7WB",
    CAST["member"]: "UKIERAN",
}


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    server = FakeSlack(users={uid: email for email, uid in SLACK_IDS.items()})
    await server.start()
    yield server
    await server.stop()


async def act(slack: SlackDriver, email: str, step: Step, scene: Scene) -> str:
    """Send what Slack would send for this person; return what they were shown."""
    user = SLACK_IDS[email]
    calls, responses = len(slack.fake.calls), len(slack.fake.responses)
    if step.text is not None:
        command, _, rest = step.text(scene).partition(" ")
        if command not in SLASH_COMMANDS:  # `/campaign ...` is typed `/crossbot campaign ...`
            command, rest = "/crossbot", f"{command.lstrip('/')} {rest}"
        status, _ = await slack.command(command, rest, user=user, channel=dm_channel(user))
    else:
        assert step.action is not None and step.payload is not None
        status, _ = await slack.press(step.action, step.payload(scene), user=user)
    assert status == 200
    shown = [
        c.params
        for c in slack.fake.calls[calls:]
        if c.params.get("channel") == dm_channel(user) or c.params.get("user") == user
    ]
    shown += [payload for _, payload in slack.fake.responses[responses:]]
    return json.dumps(shown, ensure_ascii=False)


@pytest.mark.parametrize("role", sorted(CAST))
async def test_who_may_do_what(slack: SlackDriver, ctx: Context, clock, role: str) -> None:
    async def through_slack(email: str, step: Step, scene: Scene) -> str:
        return await act(slack, email, step, scene)

    await run_matrix_async(ctx, role, through_slack)
