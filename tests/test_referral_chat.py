"""Logging a referral in chat: every way in, slot filling, ambiguity, confirm / edit / cancel."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlmodel import select

from bot.channels.console import ConsoleChannel
from bot.context import Context
from bot.messages import Reply
from bot.store.models import Client, DialogState, Referral
from tests.conftest import ADMIN, PRIYA

pytestmark = pytest.mark.postgres  # also on PostgreSQL under -m slow

HELEN = "helen.carmichael@hartwellfinch.example"  # Real Estate; owns Blue Fin Hotels
NIKHIL = "nikhil.bose@hartwellfinch.example"  # owns Acme Logistics plc
SAM_PATEL = "sam.patel@hartwellfinch.example"
SAM_WHITAKER = "sam.whitaker@hartwellfinch.example"
NADIA = "nadia.brooks@hartwellfinch.example"  # the other admin
KIERAN = "kieran.walsh@hartwellfinch.example"


def referrals_in(ctx: Context) -> list[Referral]:
    with ctx.store.read() as session:
        return list(session.exec(select(Referral)))


def to(replies: list[Reply]) -> dict[str, list[str]]:
    """Who was told what: recipient email → kinds of the replies addressed to them."""
    told: dict[str, list[str]] = {}
    for reply in replies:
        if reply.to_person:
            told.setdefault(reply.to_person, []).append(reply.kind)
    return told


def here(replies: list[Reply]) -> list[Reply]:
    return [r for r in replies if not r.to_person and not r.to_channel]


def actions(reply: Reply) -> list[str]:
    return [b.action for b in reply.buttons]


def initial(reply: Reply) -> dict[str, str]:
    """The values a form opens with, by input name."""
    assert reply.form is not None
    return {i.name: i.initial for i in reply.form.inputs}


ACME_TO_PRIYA = "/refer Acme to Priya for employment £20k"  # Nikhil's client: consent asked
BLUE_FIN_TO_PRIYA = "/refer Blue Fin to Priya for employment £10k"  # Helen's own client


def referred(
    chat: Callable[..., ConsoleChannel], text: str = ACME_TO_PRIYA, receiver: str = PRIYA
) -> int:
    """Helen logs `text` and says yes to it: the referral's id, from the receiver's DM."""
    helen = chat(HELEN)
    helen.send(text)
    replies = helen.send("yes")
    dm = next(r for r in replies if r.to_person == receiver)
    return int(dm.buttons[0].value["id"])


def mid_flow(
    chat: Callable[..., ConsoleChannel], ctx: Context, start: str, said: str, kind: str
) -> ConsoleChannel:
    """Helen starts a referral with `start`, then says `said`: one reply of `kind`, and no
    referral saved yet. Her chat, to carry on."""
    helen = chat(HELEN)
    helen.send(start)
    [reply] = helen.send(said)
    assert reply.kind == kind
    assert referrals_in(ctx) == []
    return helen


def test_sentence_asks_for_confirmation_and_saves_nothing_until_confirmed(chat, ctx) -> None:
    helen = chat(HELEN)
    [reply] = helen.send("I've introduced Acme to Priya for their TUPE issue, maybe £20k")
    assert reply.kind == "referral_ask_confirm"
    assert actions(reply) == ["referral.confirm", "referral.edit", "referral.cancel"]
    assert "Acme Logistics plc" in reply.text and "Priya Shah" in reply.text
    assert {f.label: f.value for f in reply.facts}["Value"] == "£20k"
    assert referrals_in(ctx) == []

    replies = helen.press("referral.confirm")
    assert here(replies)[0].kind == "referral_saved"
    [saved] = referrals_in(ctx)
    assert (saved.card_id, saved.value, saved.currency, saved.status) == (
        "employment",
        20_000,
        "GBP",
        "new",
    )
    told = to(replies)
    assert told[PRIYA] == ["referral_new_receiver"]
    assert told[NIKHIL] == ["referral_new_owner"]  # the relationship owner hears of it


def test_receiver_dm_has_accept_and_decline(chat) -> None:
    helen = chat(HELEN)
    helen.send("/refer Acme to Priya for employment £20k")
    replies = helen.send("yes")
    dm = next(r for r in replies if r.to_person == PRIYA)
    assert actions(dm) == ["referral.accept", "referral.decline"]
    assert "Helen Carmichael" in dm.text


def test_slash_command_is_parsed_by_the_same_parser(chat) -> None:
    [reply] = chat(HELEN).send("/refer Acme to Priya for employment £20k")
    assert reply.kind == "referral_ask_confirm"
    facts = {f.label: f.value for f in reply.facts}
    assert facts == {
        "Client": "Acme Logistics plc",
        "To": "Priya Shah (Employment)",
        "Service": "Employment law",
        "Value": "£20k",
    }


def test_arrow_form_infers_the_receivers_only_card(chat, ctx) -> None:
    helen = chat(HELEN)
    [reply] = helen.send("log a referral: Blue Fin → Priya")
    assert reply.kind == "referral_ask_confirm"
    replies = helen.send("confirm")
    [saved] = referrals_in(ctx)
    assert saved.card_id == "employment"
    # Helen owns Blue Fin: no owner notice, no consent needed.
    assert set(to(replies)) == {PRIYA}
    assert saved.consent == "not_needed"


def test_team_referral_goes_to_the_main_contact_of_the_service(chat, ctx) -> None:
    helen = chat(HELEN)
    [question] = helen.send("referred Northwind Foods to the employment team")
    if question.kind == "referral_ask_card":  # the parser could not tell which service
        cards = [b.value.get("card") for b in question.buttons]
        assert "employment" in cards and "business-immigration" in cards
        [confirm] = helen.press("referral.card", {"card": "employment"})
    else:
        confirm = question
    assert confirm.kind == "referral_ask_confirm"
    assert "Priya Shah" in confirm.text
    helen.press("referral.confirm")
    [saved] = referrals_in(ctx)
    assert saved.card_id == "employment"


def test_team_with_several_services_asks_which_one(chat, ctx) -> None:
    helen = chat(HELEN)
    helen.send("/refer")
    [question] = helen.submit({"client": "Acme", "receiver": "Tax team", "service": ""})
    assert question.kind == "referral_ask_card"
    cards = {b.value.get("card") for b in question.buttons}
    assert {"business-tax", "rd-tax-relief", "vat-customs"} <= cards
    [confirm] = helen.press("referral.card", {"card": "vat-customs"})
    assert confirm.kind == "referral_ask_confirm"
    assert "Grace Whitfield" in confirm.text  # the VAT card's main contact


def test_missing_slots_are_asked_one_at_a_time(chat, ctx) -> None:
    helen = chat(HELEN)
    [first] = helen.send("log a referral")
    assert first.kind == "referral_ask_client"
    [second] = helen.send("Acme")
    assert second.kind == "referral_ask_receiver"
    assert "Acme Logistics plc" in second.text
    [third] = helen.send("someone called Zorro")
    assert third.kind == "referral_ask_receiver"  # not found: asked again, kindly
    assert "Zorro" in third.text
    [fourth] = helen.send("Priya")
    assert fourth.kind == "referral_ask_confirm"
    assert referrals_in(ctx) == []
    helen.send("yes")
    assert len(referrals_in(ctx)) == 1


def test_ambiguous_first_name_offers_a_choice(chat, ctx) -> None:
    helen = chat(HELEN)
    [choice] = helen.send("I've referred Acme to Sam")
    assert choice.kind == "referral_ask_choose"
    assert [b.value["email"] for b in choice.buttons] == [SAM_PATEL, SAM_WHITAKER]
    assert "Sam Patel (Tax)" in [b.label for b in choice.buttons]
    [next_question] = helen.press("referral.pick", {"email": SAM_PATEL})
    assert next_question.kind == "referral_ask_card"  # Sam Patel has two cards
    [confirm] = helen.send("Business tax advice")
    assert confirm.kind == "referral_ask_confirm"
    helen.send("yes")
    [saved] = referrals_in(ctx)
    with ctx.store.read() as session:
        from bot.people import by_email

        sam = by_email(session, SAM_PATEL)
    assert sam is not None and saved.receiver_id == sam.id
    assert saved.card_id == "business-tax"


def test_choice_can_be_typed_by_surname(chat) -> None:
    helen = chat(HELEN)
    helen.send("log a referral: Blue Fin → Sam")
    [reply] = helen.send("Whitaker")
    assert reply.kind in ("referral_ask_card", "referral_ask_confirm")
    assert "Sam Whitaker" in reply.text or reply.kind == "referral_ask_card"


def test_cancel_drops_the_draft(chat, ctx) -> None:
    helen = chat(HELEN)
    helen.send("I've introduced Acme to Priya")
    [reply] = helen.press("referral.cancel")
    assert reply.kind == "cancelled"
    assert referrals_in(ctx) == []
    with ctx.store.read() as session:
        assert session.exec(select(DialogState)).first() is None
    [after] = helen.press("referral.confirm")
    assert after.kind == "referral_nothing_pending"


def test_typing_cancel_mid_flow_is_handled_by_the_core(chat, ctx) -> None:
    mid_flow(chat, ctx, "log a referral", "cancel", "cancelled")


def test_edit_shows_the_form_prefilled_and_submit_saves(chat, ctx) -> None:
    helen = chat(HELEN)
    helen.send("I've introduced Acme to Priya for their TUPE issue, maybe £20k")
    [form_reply] = helen.press("referral.edit")
    assert form_reply.form is not None and form_reply.form.submit_action == "referral.submit"
    values = initial(form_reply)
    assert values["client"] == "Acme Logistics plc"
    assert values["receiver"] == PRIYA
    assert values["service"] == "employment"
    replies = helen.submit({**values, "value": "£30k"})
    assert here(replies)[0].kind == "referral_saved"
    [saved] = referrals_in(ctx)
    assert saved.value == 30_000


def test_bare_refer_returns_the_form(chat, ctx) -> None:
    helen = chat(HELEN)
    [reply] = helen.send("/refer")
    assert reply.form is not None
    names = [i.name for i in reply.form.inputs]
    assert names == ["client", "receiver", "service", "value", "note"]
    replies = helen.submit(
        {
            "client": "Acme",
            "receiver": "Priya Shah",
            "service": "employment",
            "value": "£15k",
            "note": "TUPE transfer",
        }
    )
    assert here(replies)[0].kind == "referral_saved"
    [saved] = referrals_in(ctx)
    assert (saved.value, saved.note, saved.card_id) == (15_000, "TUPE transfer", "employment")


def test_form_with_an_ambiguous_receiver_asks_before_saving(chat, ctx) -> None:
    helen = chat(HELEN)
    helen.send("/refer")
    [reply] = helen.submit({"client": "Acme", "receiver": "Sam", "service": "", "value": ""})
    assert reply.kind == "referral_ask_choose"
    assert referrals_in(ctx) == []


def test_form_prefilled_from_a_card_button(chat) -> None:
    [reply] = chat(HELEN).press("referral.form", {"card": "employment"})
    assert initial(reply)["service"] == "employment"
    assert initial(reply)["receiver"] == PRIYA  # the card's main contact


def test_form_prefilled_from_a_message_shortcut(chat) -> None:
    text = "Acme need help with a TUPE transfer, could Priya pick this up? £20k"
    [reply] = chat(HELEN).press("referral.form", {"text": text})
    assert initial(reply)["client"] == "Acme Logistics plc"
    assert initial(reply)["note"] == text


def test_unknown_client_becomes_provisional_and_admins_are_told(chat, ctx) -> None:
    helen = chat(HELEN)
    [confirm] = helen.send("referred Zebra Widgets to Priya for employment")
    assert "provisional" in confirm.text
    replies = helen.press("referral.confirm")
    told = to(replies)
    assert told[ADMIN] == ["referral_provisional_client"]
    assert told[NADIA] == ["referral_provisional_client"]
    with ctx.store.read() as session:
        client = session.exec(select(Client).where(Client.name == "Zebra Widgets")).one()
    assert client.provisional
    admin_notice = next(r for r in replies if r.to_person == ADMIN)
    [ok] = chat(ADMIN).press(admin_notice.buttons[0].action, admin_notice.buttons[0].value)
    assert ok.kind == "referral_client_ok"
    with ctx.store.read() as session:
        assert (
            not session.exec(select(Client).where(Client.name == "Zebra Widgets")).one().provisional
        )


def test_only_admins_confirm_clients(chat) -> None:
    helen = chat(HELEN)
    helen.send("referred Zebra Widgets to Priya for employment")
    helen.press("referral.confirm")
    [reply] = chat(PRIYA).press("referral.client_ok", {"id": 1})
    assert reply.kind.startswith("referral_refused")


def test_duplicate_within_30_days_offers_to_update_the_existing_one(chat, ctx) -> None:
    referred(chat)
    helen = chat(HELEN)
    [question] = helen.send("/refer Acme to Priya for employment £35k")
    assert question.kind == "referral_ask_duplicate"
    assert "update the existing one" in question.text.lower()
    replies = helen.press("referral.update")
    assert here(replies)[0].kind == "referral_updated"
    [only] = referrals_in(ctx)
    assert only.value == 35_000
    assert PRIYA in to(replies)


def test_same_client_for_another_service_is_not_a_duplicate(chat, ctx) -> None:
    referred(chat, "/refer Acme to Kieran for data protection", KIERAN)
    [reply] = chat(HELEN).send("/refer Acme to Kieran for tech contracts")
    assert reply.kind == "referral_ask_confirm"


def test_my_referrals_lists_sent_received_and_waiting(chat) -> None:
    referred(chat)
    [mine] = chat(HELEN).send("my referrals")[:1]
    assert mine.kind == "referral_list"
    assert "Acme Logistics plc" in mine.text
    replies = chat(PRIYA).send("/referrals")
    assert "Waiting on you" in replies[0].text
    waiting = replies[1]
    assert actions(waiting) == ["referral.accept", "referral.decline"]
    owner = chat(NIKHIL).send("my referrals")
    assert any("referral.consent_go" in actions(r) for r in owner)


def test_help_buttons_reach_the_referral_handlers(chat) -> None:
    [form] = chat(HELEN).press("referral.form")
    assert form.form is not None
    [mine] = chat(HELEN).press("referral.mine")[:1]
    assert mine.kind == "referral_list"


def test_something_else_at_the_confirmation_is_answered_normally(chat, ctx) -> None:
    helen = mid_flow(
        chat, ctx, "I've introduced Acme to Priya", "who does employment law?", "whodoes_answer"
    )
    helen.press("referral.confirm")  # the draft is still there
    assert len(referrals_in(ctx)) == 1


def test_my_referrals_offers_buttons_for_referrals_in_hand(chat) -> None:
    rid = referred(chat, BLUE_FIN_TO_PRIYA)
    priya = chat(PRIYA)
    priya.press("referral.accept", {"id": rid})
    listing = priya.send("/referrals")
    [item] = [r for r in listing if r.kind == "referral_open_item"]
    assert "referral.won" in actions(item) and "referral.meeting" in actions(item)


def test_someone_elses_referral_is_not_offered_as_a_duplicate(chat, ctx) -> None:
    referred(chat)
    james = chat("james.thornton@hartwellfinch.example")  # cannot see Helen's referral
    [reply] = james.send(ACME_TO_PRIYA)
    assert reply.kind == "referral_ask_confirm"
    assert "Helen" not in reply.text
    james.send("yes")
    assert len(referrals_in(ctx)) == 2


def test_the_owner_is_offered_the_duplicate_they_can_see(chat, ctx) -> None:
    referred(chat)
    [reply] = chat(NIKHIL).send("/refer Acme to Priya for employment")
    assert reply.kind == "referral_ask_duplicate"
    assert "Helen Carmichael already referred" in reply.text


def test_a_question_mid_flow_is_answered_and_the_flow_waits(chat, ctx) -> None:
    helen = mid_flow(chat, ctx, "log a referral", "who does employment law?", "whodoes_answer")
    [next_question] = helen.send("Acme")
    assert next_question.kind == "referral_ask_receiver"


def test_follow_ups_to_a_question_asked_mid_flow_keep_the_draft(chat, ctx) -> None:
    helen = chat(HELEN)
    helen.send("I've introduced Acme to Priya")
    helen.send("who does employment law?")
    [office] = helen.send("anyone in London?")
    assert office.kind == "whodoes_office"
    [card] = helen.send("tell me more")
    assert card.kind == "card"
    replies = helen.send("yes")
    assert here(replies)[0].kind == "referral_saved"
    assert len(referrals_in(ctx)) == 1


def test_in_a_channel_replies_about_referrals_are_private_to_the_speaker(ctx) -> None:
    from bot.conversation import handle
    from bot.messages import Turn

    def say(text: str = "", action: str | None = None) -> list[Reply]:
        turn = Turn(HELEN, "slack:C1", text=text, action=action, is_direct=False)
        return handle(turn, ctx)

    [confirm] = say("/refer Acme to Priya for employment £20k")
    assert confirm.private
    replies = say(action="referral.confirm")
    assert here(replies) and all(r.private for r in here(replies))
    assert not any(r.private for r in replies if r.to_person)
    assert all(r.private for r in say("my referrals"))


def test_the_receiver_question_takes_a_bare_team_or_service(chat) -> None:
    nikhil = chat(NIKHIL)
    nikhil.send("/refer Northwind")
    [reply] = nikhil.send("Real Estate")  # as "the Real Estate team" would be read
    assert reply.kind == "referral_ask_confirm" and "Helen Carmichael" in reply.text
    nikhil.send("cancel")
    nikhil.send("/refer Northwind")
    [reply] = nikhil.send("R&D tax relief")
    assert reply.kind == "referral_ask_confirm" and "Tariq Hussain" in reply.text
    nikhil.send("cancel")
    [reply] = nikhil.send("/refer Northwind to Employment")
    assert reply.kind == "referral_ask_confirm" and "Priya Shah" in reply.text


def test_referring_to_yourself_is_explained_not_silently_dropped(chat) -> None:
    [reply] = chat(PRIYA).send("/refer Acme to Priya")
    assert reply.kind == "referral_ask_receiver" and "yourself" in reply.text


def test_an_unknown_receiver_points_to_who_does(chat) -> None:
    helen = chat(HELEN)
    helen.send("/refer Northwind")
    [reply] = helen.send("not sure")
    assert reply.kind == "referral_ask_receiver" and "who does" in reply.text
    [answer] = helen.send("who does pensions?")
    assert answer.kind.startswith("whodoes")
    [again] = helen.send("Priya")
    assert again.kind == "referral_ask_confirm"  # the draft waited
