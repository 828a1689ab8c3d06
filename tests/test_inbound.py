"""Inbound text is cleaned before anything is stored; forged ids get "I can't find that"."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlmodel import select

from bot.channels.console import ConsoleChannel
from bot.context import Context
from bot.inbound import clean_text, forged_id, is_row_id
from bot.render import render
from bot.store.models import Idea
from tests.conftest import ADMIN, PRIYA

TOO_BIG = 2**63


def test_control_characters_are_removed_and_newlines_kept() -> None:
    assert clean_text("Acme\x00 Ltd\r\nline two\ttab\x1b[31m\u202eevil\ue000") == (
        "Acme Ltd\nline two\ttab[31mevil"
    )


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (1, True),
        ("42", True),
        (2**63 - 1, True),
        (TOO_BIG, False),
        (str(TOO_BIG), False),
        (0, False),
        (-3, False),
        (True, False),
        (1.5, False),
        ([1], False),
        ({"a": 1}, False),
    ],
)
def test_row_ids(value: object, ok: bool) -> None:
    assert is_row_id(value) is ok
    assert forged_id({"id": value}) is (not ok)


def test_an_empty_or_typed_id_is_left_to_the_dialog() -> None:
    assert not forged_id({"referral": "", "story": None, "id": "not a number"})


def test_nul_and_control_characters_never_reach_the_database(
    chat: Callable[..., ConsoleChannel], ctx: Context
) -> None:
    replies = chat(PRIYA).send("/idea Northwind\x00 might need\x07 R&D tax relief\u202e now")

    assert replies[0].kind == "idea_recorded"
    with ctx.store.read() as session:
        [idea] = session.exec(select(Idea)).all()
    assert idea.text == "Northwind might need R&D tax relief now"


def test_payload_strings_are_cleaned_too(chat: Callable[..., ConsoleChannel], ctx: Context) -> None:
    channel = chat(PRIYA)
    channel.press("referral.form", {})
    replies = channel.submit(
        {"client": "Nul\x00 Client", "receiver": ADMIN, "service": "", "note": "a\x00b"}
    )

    assert all("\x00" not in reply.text for reply in replies)
    assert "Nul Client" in " ".join(reply.text for reply in replies)


@pytest.mark.parametrize(
    ("action", "payload"),
    [
        ("referral.show", {"id": TOO_BIG}),
        ("referral.accept", {"id": str(TOO_BIG)}),
        ("referral.go_ahead", {"id": -1}),
        ("story.approve", {"story": TOO_BIG}),
        ("idea.upvote", {"idea": TOO_BIG}),
        ("referral.won", {"id": [1, 2]}),
    ],
)
def test_out_of_range_ids_cannot_be_found(
    chat: Callable[..., ConsoleChannel], action: str, payload: dict
) -> None:
    [reply] = chat(ADMIN).press(action, payload)

    assert reply.kind == "not_found"
    assert reply.text == render("not_found")


def test_an_out_of_range_award_number_cannot_be_found(chat: Callable[..., ConsoleChannel]) -> None:
    [reply] = chat(ADMIN).send(f"/campaign reverse #{TOO_BIG} a mistake")

    assert reply.kind == "not_found"
