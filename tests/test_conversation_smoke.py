from bot.channels.console import ConsoleChannel
from tests.conftest import PRIYA


def test_who_does_names_card_and_main_contact(chat) -> None:
    replies = chat(PRIYA).send("who does employment law?")
    assert replies[0].kind == "whodoes_answer"
    assert "Employment law" in replies[0].text
    assert "Priya Shah" in replies[0].text


def test_unknown_person_gets_kind_reply(chat) -> None:
    channel: ConsoleChannel = chat("nobody@example.com")
    [reply] = channel.send("hello")
    assert reply.kind == "unknown_person"
    assert "people.csv" in reply.text
