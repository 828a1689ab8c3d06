"""Who-does in chat: answer with actions, follow-ups by office, the whole card."""

from __future__ import annotations

from bot.channels.console import ConsoleChannel
from bot.messages import Reply
from tests.conftest import PRIYA


def ask(channel: ConsoleChannel, text: str, kind: str, *shown: str) -> Reply:
    """`text` sent: the one reply, of `kind`, showing each of `shown`."""
    [reply] = channel.send(text)
    assert reply.kind == kind, (text, reply.kind)
    for words in shown:
        assert words in reply.text, (text, words)
    return reply


def test_answer_then_office_then_more(chat) -> None:
    channel = chat(PRIYA)
    [answer] = channel.send("who does TUPE?")
    assert answer.kind == "whodoes_answer"
    assert [b.action for b in answer.buttons] == ["referral.form", "card.show", "learn.missed"]
    ask(channel, "anyone in London?", "whodoes_office", "London")
    ask(channel, "tell me more", "card", "What we do")


def test_no_match_in_chat(chat) -> None:
    [reply] = chat(PRIYA).send("who can fix my laptop? it won't connect to the VPN")
    assert reply.kind == "whodoes_no_match"
    assert not reply.buttons


def test_slash_command_uses_search(chat) -> None:
    text = "/whodoes client's landlord wants the building back"
    ask(chat(PRIYA), text, "whodoes_answer", "Commercial property")


def test_a_situation_typed_as_a_plain_sentence_is_searched(chat) -> None:
    channel = chat(PRIYA)
    text = "client's landlord wants the building back"
    ask(channel, text, "whodoes_answer", "Commercial property")
    ask(channel, "founder wants to sell up", "whodoes_answer", "Mergers and acquisitions")


def test_a_plain_sentence_search_cannot_answer_gets_the_fallback(chat) -> None:
    channel = chat(PRIYA)
    for text in ("ok", "test", "the printer is broken again"):
        [reply] = channel.send(text)
        assert reply.kind == "fallback", text


def test_a_card_named_alone_is_answered_from_that_card(chat) -> None:
    ask(chat(PRIYA), "TUPE", "whodoes_answer", "Employment law")


def test_referral_sentences_still_go_to_referrals(chat) -> None:
    [reply] = chat(PRIYA).send("I've introduced Acme to Sam Patel for their VAT question")
    assert reply.kind.startswith("referral_")


def test_an_unknown_client_is_said_so_with_close_names(chat) -> None:
    channel = chat(PRIYA)
    zebra = ask(
        channel,
        "who looks after Zebra Widgets?",
        "whodoes_unknown",
        "I don't know a client called **Zebra Widgets**",
    )
    assert not zebra.buttons
    text = "who looks after Northwnd Foods?"
    ask(channel, text, "whodoes_unknown", "did you mean **Northwind Foods Ltd**")


def test_an_unknown_team_is_said_so(chat) -> None:
    text = "what does the Marketing team do?"
    ask(chat(PRIYA), text, "whodoes_unknown", "I don't know a team called **Marketing**")


def test_a_known_team_is_still_answered(chat) -> None:
    ask(chat(PRIYA), "what does the tax team do?", "whodoes_team")


def test_an_unknown_person_is_said_so_with_namesakes(chat) -> None:
    channel = chat(PRIYA)
    text = "who is Bob Nobody?"
    ask(channel, text, "whodoes_unknown", "I don't know anyone called **Bob Nobody**")
    [sam] = channel.send("who is Sam Nobody?")
    assert "**Sam Patel**" in sam.text and "**Sam Whitaker**" in sam.text
    ask(channel, "who is Priya Shah?", "whodoes_person")


def test_an_office_in_the_question_filters_the_people(chat) -> None:
    channel = chat(PRIYA)
    [london] = channel.send("who does employment law in London?")
    assert london.kind == "whodoes_office"
    assert "Owen Gallagher" in london.text and "Priya Shah" not in london.text
    assert "learn.missed" in [b.action for b in london.buttons]
    [edinburgh] = channel.send("who does employment law in Edinburgh?")
    assert "nobody in Edinburgh" in edinburgh.text
    assert "Priya Shah (Manchester)" in edinburgh.text


def test_an_office_before_the_question_filters_but_one_mid_sentence_does_not(chat) -> None:
    channel = chat(PRIYA)
    [before] = channel.send("who in London does employment law?")
    assert before.kind == "whodoes_office" and "Owen Gallagher" in before.text
    [middle] = chat(PRIYA, "other").send("who does TUPE in London for a big client?")
    assert middle.kind == "whodoes_answer"


def test_small_talk_and_sentences_about_crossbot_are_not_searched(chat) -> None:
    for text in ("I want to share a win story", "turn off the digest", "see you later"):
        [reply] = chat(PRIYA, text).send(text)
        assert reply.kind == "fallback", text


def test_a_team_named_by_part_of_its_name_is_that_team(chat) -> None:
    text = "what does the audit team do?"
    ask(chat(PRIYA), text, "whodoes_team", "**Audit & Advisory** covers")
