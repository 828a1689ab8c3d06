"""The conversation core through the terminal channel: help, commands, bad input, state."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from bot.context import Context
from bot.conversation import MAX_MESSAGE_CHARS, handle
from bot.dialogs import state
from bot.messages import Turn
from bot.store import Store
from bot.store.models import DialogState, Person
from tests.conftest import ADMIN, PRIYA, load_sample


def kinds(replies) -> list[str]:
    return [r.kind for r in replies]


def test_greeting_and_help_show_what_the_bot_does(chat) -> None:
    channel = chat(PRIYA)
    [hello] = channel.send("hi")
    assert hello.kind == "help" and hello.text.startswith("Hi Priya!")
    assert "/whodoes" in hello.text and "/refer" in hello.text
    assert kinds(channel.send("/crossbot help")) == ["help"]
    assert kinds(channel.send("what can you do?")) == ["help"]


def test_admins_see_admin_help(chat) -> None:
    [reply] = chat(ADMIN).send("help")
    assert "campaign start" in reply.text
    [member] = chat(PRIYA).send("help")
    assert "campaign start" not in member.text


def test_slash_commands_are_accepted_as_text(chat) -> None:
    channel = chat(PRIYA)
    assert kinds(channel.send("/whodoes employment")) == ["whodoes_answer"]
    assert kinds(channel.send("whodoes employment")) == ["whodoes_answer"]
    assert kinds(channel.send("/whodoes")) == ["whodoes_usage"]


def test_show_a_card_by_command_and_button(chat) -> None:
    channel = chat(PRIYA)
    [card] = channel.send("card employment")
    assert card.kind == "card" and "Questions to ask" in card.text
    channel.send("who does employment law?")
    [shown] = channel.send("Show the card")  # pressing the answer's button by its label
    assert shown.kind == "card" and "Employment law" in shown.text
    assert kinds(channel.send("card no-such-card")) == ["card_unknown"]


def test_card_by_title_or_alias_and_a_bare_card_command(chat) -> None:
    channel = chat(PRIYA)
    assert kinds(channel.send("/card Employment law")) == ["card"]
    [bare] = channel.send("/card")
    assert bare.kind == "card_unknown" and "``" not in bare.text and "called ." not in bare.text
    assert "/card employment" in bare.text


def test_unknown_command_is_named_and_help_follows(chat) -> None:
    replies = chat(PRIYA).send("/frobnicate now")
    assert kinds(replies) == ["unknown_command", "help"]
    assert "/frobnicate" in replies[0].text


def test_fallback_suggests_what_to_try_and_names_admins(chat) -> None:
    [reply] = chat(PRIYA).send("purple elephants")
    assert reply.kind == "fallback"
    assert "Alex Morgan" in reply.text


def test_empty_and_huge_messages_get_kind_replies(ctx: Context) -> None:
    assert kinds(handle(Turn(PRIYA, text="   "), ctx)) == ["empty_message"]
    [reply] = handle(Turn(PRIYA, text="x" * 100_000), ctx)
    assert reply.kind == "too_long" and "100,000" in reply.text
    assert len("x" * MAX_MESSAGE_CHARS) == MAX_MESSAGE_CHARS


def test_unknown_person_and_stale_button(ctx: Context) -> None:
    assert kinds(handle(Turn("stranger@example.com", text="hi"), ctx)) == ["unknown_person"]
    assert kinds(handle(Turn(PRIYA, action="nonsense.do"), ctx)) == ["unknown_action"]


def test_a_failing_turn_is_an_apology_not_a_traceback(ctx: Context, caplog) -> None:
    with ctx.store.engine.begin() as connection:  # a real fault: the database lost a table
        connection.exec_driver_sql("DROP TABLE dialogstate")
    [reply] = handle(Turn(PRIYA, text="who does employment law about Acme?"), ctx)
    assert reply.kind == "error"
    assert "Traceback" not in reply.text
    assert "Acme" not in caplog.text  # the message text never reaches the log
    assert "OperationalError" in caplog.text


def test_cancel_clears_a_flow(chat, ctx: Context) -> None:
    with ctx.store.write() as session:
        priya = session.exec(select(Person).where(Person.email == PRIYA)).one()
        assert priya.id is not None
        state.save(session, priya.id, "console", "referral", "client", {"receiver": "x"})
    [reply] = chat(PRIYA).send("cancel")
    assert reply.kind == "cancelled" and "dropped" in reply.text
    with ctx.store.read() as session:
        assert state.load(session, priya.id, "console") is None


def test_dialogue_state_survives_a_restart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    store = load_sample(Store(url))
    with store.write() as session:
        priya = session.exec(select(Person).where(Person.email == PRIYA)).one()
        assert priya.id is not None
        state.save(session, priya.id, "slack:D1", "referral", "value", {"client": "Acme"})
    store.dispose()

    restarted = Store(url)
    with restarted.read() as session:
        saved = state.load(session, priya.id, "slack:D1")
        assert saved is not None
        assert (saved.flow, saved.step, saved.data) == ("referral", "value", {"client": "Acme"})
        assert state.load(session, priya.id, "console") is None  # per conversation


@pytest.mark.parametrize("upsert", [True, False], ids=["upsert", "orm-fallback"])
def test_saving_a_flow_again_moves_the_one_row_on(ctx: Context, monkeypatch, upsert) -> None:
    if not upsert:  # a database without an upsert statement
        monkeypatch.setattr(state, "_upsert", lambda dialect: None)
    with ctx.store.write() as session:
        priya = session.exec(select(Person).where(Person.email == PRIYA)).one()
        assert priya.id is not None
        state.save(session, priya.id, "console", "referral", "client", {"receiver": "x"})
    with ctx.store.write() as session:
        state.save(session, priya.id, "console", "referral", "value", {"client": "Acme"})
    with ctx.store.read() as session:
        [row] = session.exec(select(DialogState)).all()
    assert (row.flow, row.step, row.data) == ("referral", "value", {"client": "Acme"})
