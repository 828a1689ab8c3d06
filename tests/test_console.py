"""The terminal channel: numbers as displayed, same-label buttons, quit, cancel in a form."""

from __future__ import annotations

import io

from sqlmodel import select

from bot.channels.console import run
from bot.store.models import Referral
from tests.conftest import PRIYA
from tests.test_referral_chat import HELEN


def chat_log(channel, *lines: str) -> str:
    out = io.StringIO()
    run(channel, iter([f"{line}\n" for line in lines]), out)
    return out.getvalue()


def statuses(ctx) -> dict[str, str]:
    with ctx.store.read() as session:
        return {r.note: r.status for r in session.exec(select(Referral))}


def log_two_for_priya(chat) -> None:
    helen = chat(HELEN)
    for client in ("Blue Fin", "Acme"):
        helen.send(f"/refer {client} to Priya for employment: {client} note")
        helen.send("yes")


def test_a_typed_number_is_the_number_displayed_across_the_whole_answer(chat, ctx) -> None:
    log_two_for_priya(chat)
    priya = chat(PRIYA)
    shown = chat_log(priya, "/referrals")
    # One answer, several messages: the numbers carry on from one message to the next.
    assert "[1. Log a referral]" in shown and "[2. Accept]" in shown and "[4. Accept]" in shown
    second = shown.split("[4. Accept]")[0].rsplit("\n\n", 1)[-1]
    priya.send("/referrals")
    priya.send("4")
    accepted = [note for note, status in statuses(ctx).items() if status == "accepted"]
    assert len(accepted) == 1 and accepted[0].split()[0] in second


def test_two_buttons_with_one_label_are_told_apart_by_number(chat, ctx) -> None:
    log_two_for_priya(chat)
    priya = chat(PRIYA)
    priya.send("/referrals")
    [which] = priya.send("Accept")
    assert which.kind == "console_which_button" and "2 or 4" in which.text
    assert set(statuses(ctx).values()) == {"new"}  # nothing pressed on a guess


def test_quit_and_exit_leave_the_chat(chat) -> None:
    for word in ("quit", "exit", "Quit"):
        out = chat_log(chat(PRIYA), word, "help")
        assert out == ""  # left before reading "help"


def test_cancel_inside_a_form_cancels_it_rather_than_becoming_the_value(chat, ctx) -> None:
    out = chat_log(chat(PRIYA), "/refer", "Acme Logistics", "cancel", "help")
    assert "Nothing was saved" in out and "Hi Priya" not in out.split("Nothing was saved")[0]
    assert statuses(ctx) == {}
    assert "Who does X?" in out or "/whodoes" in out  # the chat went on to answer "help"
