"""The authorization matrix through the conversation core (see tests/authz.py)."""

from __future__ import annotations

import pytest

from bot.channels.console import ConsoleChannel, format_reply
from bot.context import Context
from tests.authz import CAST, Scene, Step, run_matrix


def act(ctx: Context, email: str, step: Step, scene: Scene) -> str:
    """Press the button or type the text; return everything this person was shown."""
    channel = ConsoleChannel(ctx, email)
    if step.text is not None:
        replies = channel.send(step.text(scene))
    else:
        assert step.action is not None and step.payload is not None
        replies = channel.press(step.action, step.payload(scene))
    mine = [r for r in replies if r.to_person in (None, email) and not r.to_channel]
    return "\n".join(format_reply(r) for r in mine)


@pytest.mark.parametrize("role", sorted(CAST))
def test_who_may_do_what(ctx: Context, clock, role: str) -> None:
    run_matrix(ctx, role, lambda email, step, scene: act(ctx, email, step, scene))
