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


def test_a_situation_typed_as_a_plain_sentence_is_searched(chat) -> None:
    channel = chat(PRIYA)
    [landlord] = channel.send("client's landlord wants the building back")
    assert landlord.kind == "whodoes_answer"
    assert "Commercial property" in landlord.text
    [founder] = channel.send("founder wants to sell up")
    assert founder.kind == "whodoes_answer"
    assert "Mergers and acquisitions" in founder.text


def test_a_plain_sentence_search_cannot_answer_gets_the_fallback(chat) -> None:
    channel = chat(PRIYA)
    for text in ("ok", "test", "the printer is broken again"):
        [reply] = channel.send(text)
        assert reply.kind == "fallback", text


def test_a_card_named_alone_is_answered_from_that_card(chat) -> None:
    [reply] = chat(PRIYA).send("TUPE")
    assert reply.kind == "whodoes_answer"
    assert "Employment law" in reply.text


def test_referral_sentences_still_go_to_referrals(chat) -> None:
    [reply] = chat(PRIYA).send("I've introduced Acme to Sam Patel for their VAT question")
    assert reply.kind.startswith("referral_")


def test_an_unknown_client_is_said_so_with_close_names(chat) -> None:
    channel = chat(PRIYA)
    [zebra] = channel.send("who looks after Zebra Widgets?")
    assert zebra.kind == "whodoes_unknown"
    assert "I don't know a client called **Zebra Widgets**" in zebra.text
    assert not zebra.buttons
    [close] = channel.send("who looks after Northwnd Foods?")
    assert close.kind == "whodoes_unknown"
    assert "did you mean **Northwind Foods Ltd**" in close.text


def test_an_unknown_team_is_said_so(chat) -> None:
    [reply] = chat(PRIYA).send("what does the Marketing team do?")
    assert reply.kind == "whodoes_unknown"
    assert "I don't know a team called **Marketing**" in reply.text


def test_a_known_team_is_still_answered(chat) -> None:
    [reply] = chat(PRIYA).send("what does the tax team do?")
    assert reply.kind == "whodoes_team"


def test_an_unknown_person_is_said_so_with_namesakes(chat) -> None:
    channel = chat(PRIYA)
    [bob] = channel.send("who is Bob Nobody?")
    assert bob.kind == "whodoes_unknown"
    assert "I don't know anyone called **Bob Nobody**" in bob.text
    [sam] = channel.send("who is Sam Nobody?")
    assert "**Sam Patel**" in sam.text and "**Sam Whitaker**" in sam.text
    [priya] = channel.send("who is Priya Shah?")
    assert priya.kind == "whodoes_person"


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
    [reply] = chat(PRIYA).send("what does the audit team do?")
    assert reply.kind == "whodoes_team"
    assert "**Audit & Advisory** covers" in reply.text
