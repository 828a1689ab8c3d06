"""`crossbot demo`: a running campaign with a little activity, so every command shows something."""

from __future__ import annotations

from pathlib import Path

import time_machine
from sqlmodel import select

from bot.campaigns import running_campaign
from bot.seed import seed_demo
from bot.store.models import Idea, PointEvent
from tests.test_cli import crossbot
from tests.test_report import NOW

SAM = "sam.patel@hartwellfinch.example"  # the demo speaks as the first ambassador


def test_demo_seed_runs_a_campaign_with_points_and_ideas(ctx, chat) -> None:
    with time_machine.travel(NOW, tick=False):
        with ctx.store.write() as session:
            seed_demo(session, ctx.catalog(), ctx.now(), ctx.settings)
        with ctx.store.read() as session:
            assert running_campaign(session, ctx.now()) is not None
            assert session.exec(select(PointEvent)).first() is not None
            assert len(session.exec(select(Idea)).all()) >= 2
        sam = chat(SAM)
        [people] = sam.send("/leaderboard")[:1]
        assert people.kind == "leaderboard_people" and "Nobody on the board" not in people.text
        [teams] = sam.send("/leaderboard teams")
        assert "No teams have scored" not in teams.text
        [ideas] = sam.send("/ideas")
        assert "No ideas yet" not in ideas.text
        [status] = sam.send("/crossbot campaign")
        assert status.kind == "campaign_status"


def test_piped_demo_shows_a_leaderboard(tmp_path: Path) -> None:
    result = crossbot("demo", cwd=tmp_path, stdin="/leaderboard teams\n")
    assert result.returncode == 0, result.stderr
    assert "no leaderboard" not in result.stdout.lower()
    assert "No teams have scored" not in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
