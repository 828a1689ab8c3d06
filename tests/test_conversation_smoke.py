from bot.channels.console import ConsoleChannel
from tests.conftest import ADMIN, PRIYA


def test_who_does_names_card_and_main_contact(chat) -> None:
    replies = chat(ADMIN).send("who does employment law?")
    assert replies[0].kind == "whodoes_answer"
    assert "Employment law" in replies[0].text
    assert "talk to **Priya Shah**" in replies[0].text


def test_the_main_contact_is_pointed_to_a_colleague_not_to_themselves(chat) -> None:
    [reply] = chat(PRIYA).send("who does employment law?")
    assert "talk to **Owen Gallagher**" in reply.text
    assert "talk to **Priya Shah**" not in reply.text


def test_unknown_person_gets_kind_reply(chat) -> None:
    channel: ConsoleChannel = chat("nobody@example.com")
    [reply] = channel.send("hello")
    assert reply.kind == "unknown_person"
    assert "people.csv" in reply.text


def test_a_sole_owner_is_told_the_card_is_their_own(chat, ctx) -> None:
    from bot.store.models import ServiceCard

    with ctx.store.write() as session:
        card = session.get(ServiceCard, "employment")
        assert card is not None
        card.owners = [PRIYA]
    ctx.refresh()
    [reply] = chat(PRIYA).send("who does employment law?")
    assert "that's your own team's card" in reply.text
