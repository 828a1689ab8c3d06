"""Helpers for the win-story tests: the people, the clock, a story form, rows read back.

Also a pytest plugin (registered in tests/conftest.py): the `digest_ctx` fixture.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from bot.context import Context
from bot.store.models import Story
from tests import factories

SAM = "sam.patel@hartwellfinch.example"  # ambassador, Tax
OWEN = "owen.gallagher@hartwellfinch.example"  # member, Employment; owns Oakmere Schools Trust
PRIYA = "priya.shah@hartwellfinch.example"  # member, Employment; owns Brightpath Care Group
JAMES = "james.thornton@hartwellfinch.example"  # owns Northwind Foods Ltd
NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)

STORY = {  # the story form, filled in
    "title": "Tax and Employment win together",
    "body": "Spotted a TUPE issue during a tax review; Employment fixed it.",
    "teams": "Tax, Employment",
    "referral": "",
    "value": "£20k",
    "name_client": "no",
}


@pytest.fixture
def digest_ctx(ctx: Context) -> Context:
    """The sample firm with a digest channel, where published stories are posted."""
    ctx.settings.digest_channel = "C-DIGEST"
    return ctx


def won_referral(ctx: Context, client: str = "Northwind Foods Ltd") -> int:
    """A referral of `client` from Sam to Priya, won for £30,000: its id."""
    return factories.referral_id(ctx, client, SAM, PRIYA, NOW, "won", 30_000)


def stories(ctx: Context) -> list[Story]:
    """Every story row, oldest first."""
    with ctx.store.read() as session:
        return list(session.exec(select(Story).order_by(Story.id)))  # type: ignore[arg-type]
