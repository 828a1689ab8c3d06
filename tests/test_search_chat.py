"""Who-does in chat: answer with actions, follow-ups by office, the whole card."""

from __future__ import annotations

from tests.conftest import PRIYA


def test_answer_then_office_then_more(chat) -> None:
    channel = chat(PRIYA)
    [answer] = channel.send("who does TUPE?")
    assert answer.kind == "whodoes_answer"
    assert [b.action for b in answer.buttons] == ["referral.form", "card.show", "learn.missed"]
    [office] = channel.send("anyone in London?")
    assert office.kind == "whodoes_office"
    assert "London" in office.text
    [card] = channel.send("tell me more")
    assert card.kind == "card"
    assert "What we do" in card.text


def test_no_match_in_chat(chat) -> None:
    [reply] = chat(PRIYA).send("who can fix my laptop? it won't connect to the VPN")
    assert reply.kind == "whodoes_no_match"
    assert not reply.buttons


def test_slash_command_uses_search(chat) -> None:
    [reply] = chat(PRIYA).send("/whodoes client's landlord wants the building back")
    assert reply.kind == "whodoes_answer"
    assert "Commercial property" in reply.text
