"""No dead ends in a referral: consent later, withdraw, confirmed news, exact amounts, `#12`."""

from __future__ import annotations

from sqlmodel import select

from bot.store.models import PointEvent, Referral
from tests.conftest import ADMIN, PRIYA
from tests.test_referral_chat import HELEN, NIKHIL, SAM_PATEL, here

RICHARD = "richard.pryce@hartwellfinch.example"  # owns Harbourside Estates Ltd
PHILIPPA = "philippa.lane@hartwellfinch.example"  # owns Kestrel Retail Group plc


def log(chat, referrer: str, text: str) -> int:
    """`referrer` logs the referral in `text` and confirms it; returns its id."""
    channel = chat(referrer)
    channel.send(text)
    replies = channel.send("yes")
    saved = here(replies)[0]
    assert saved.kind == "referral_saved", saved.text
    return int(next(r for r in replies if r.to_person).buttons[0].value["id"])


def row(ctx, rid: int) -> Referral:
    with ctx.store.read() as session:
        found = session.get(Referral, rid)
        assert found is not None
        return found


def labels(reply) -> list[str]:
    return [b.label for b in reply.buttons]


def test_after_lets_talk_first_the_owner_still_has_it_and_can_say_go_ahead(chat, ctx) -> None:
    rid = log(chat, HELEN, "/refer Acme to Priya for employment £20k")
    nikhil = chat(NIKHIL)
    [recorded, *_] = nikhil.press("referral.consent_talk", {"id": rid})
    assert "Go ahead" in labels(recorded)
    listed = nikhil.send("/referrals")
    assert "Nothing yet" not in listed[0].text and f"#{rid}" in listed[0].text
    [item] = [r for r in listed if r.kind == "referral_waiting_item"]
    assert labels(item) == ["Go ahead"]  # they already asked to talk: only the go-ahead is left
    [ask] = nikhil.send("yes, happy for you to go ahead")
    assert ask.kind == "referral_consent_confirm" and labels(ask) == ["Confirm", "Not now"]
    assert row(ctx, rid).consent == "talk_first"  # nothing recorded before Confirm
    replies = nikhil.press(ask.buttons[0].action, ask.buttons[0].value)
    assert here(replies)[0].kind == "referral_consent_recorded"
    assert row(ctx, rid).consent == "given"


def test_go_ahead_typed_with_nothing_waiting_is_not_taken_as_consent(chat, ctx) -> None:
    [reply] = chat(NIKHIL).send("go ahead")
    assert not reply.kind.startswith("referral_consent")


def test_the_referrer_withdraws_from_the_list_and_in_a_sentence_with_confirmation(
    chat, ctx
) -> None:
    rid = log(chat, HELEN, "/refer Kestrel to Priya for employment")
    helen = chat(HELEN)
    sent = [r for r in helen.send("/referrals") if r.kind == "referral_open_item"]
    assert [b.action for b in sent[0].buttons] == ["referral.withdraw"]
    [ask] = helen.send("withdraw the Kestrel referral")
    assert ask.kind == "referral_withdraw_confirm" and f"#{rid}" in ask.text
    assert row(ctx, rid).status == "new"  # nothing moves before the confirmation
    with ctx.store.read() as session:
        assert len(list(session.exec(select(Referral)))) == 1  # and no new referral
    replies = helen.send("Withdraw it")
    assert here(replies)[0].kind == "referral_moved" and row(ctx, rid).status == "withdrawn"


def test_the_owner_is_never_told_they_can_withdraw(chat, ctx) -> None:
    rid = log(chat, HELEN, "/refer Kestrel to Priya for employment")
    chat(PRIYA).press("referral.accept", {"id": rid})
    [owner] = chat(PHILIPPA).send("Kestrel went well, we won it, £9k")
    assert owner.kind == "referral_update_refused" and "withdraw" not in owner.text
    [referrer] = chat(HELEN).send("Kestrel went well, we won it, £9k")
    assert "withdraw" in referrer.text


def test_a_status_sentence_never_skips_acceptance_or_consent_and_is_confirmed(chat, ctx) -> None:
    rid = log(chat, HELEN, "/refer Harbourside to Priya for employment")
    admin = chat(ADMIN)
    [early] = admin.send("Harbourside went well, we won it, £9k")
    assert early.kind == "referral_refused_not_accepted" and "accepted" in early.text
    chat(PRIYA).press("referral.accept", {"id": rid})
    [waiting] = admin.send("Harbourside went well, we won it, £9k")
    assert waiting.kind == "referral_refused_waiting_for_owner"
    chat(RICHARD).press("referral.consent_go", {"id": rid})
    [ask] = admin.send("Harbourside went well, we won it, £9k")
    assert ask.kind == "referral_status_confirm" and row(ctx, rid).status == "accepted"
    admin.send("No")
    assert row(ctx, rid).status == "accepted"
    admin.send("Harbourside went well, we won it, £9k")
    admin.send("Yes, record it")
    won = row(ctx, rid)
    assert (won.status, won.won_value) == ("won", 9_000)
    with ctx.store.read() as session:
        early_points = session.exec(select(PointEvent).where(PointEvent.kind == "won")).all()
    assert len(early_points) <= 1


def test_won_with_two_open_referrals_records_the_exact_amount_picked_by_number(chat, ctx) -> None:
    first = log(chat, HELEN, "/refer Acme to Priya for employment £20k")
    second = log(chat, SAM_PATEL, "/refer Acme to Priya for employment")
    priya, nikhil = chat(PRIYA), chat(NIKHIL)
    for rid in (first, second):
        priya.press("referral.accept", {"id": rid})
        nikhil.press("referral.consent_go", {"id": rid})
    [which] = priya.send("We won Acme, £12,345")
    assert which.kind == "referral_update_which"
    assert len(set(labels(which))) == 2 and all(label.startswith("#") for label in labels(which))
    assert all("£" not in str(b.value) for b in which.buttons)  # data, not display text
    [confirm] = priya.send(f"#{second}")  # picking the referral is not yet recording it
    assert confirm.kind == "referral_status_confirm" and f"#{second}" in confirm.text
    assert "£12,345" in confirm.text and labels(confirm) == ["Yes, record it", "No"]
    assert row(ctx, second).status == "accepted"
    priya.send("Yes, record it")
    assert (row(ctx, second).status, row(ctx, second).won_value) == ("won", 12_345)
    assert row(ctx, first).status == "accepted"


def test_won_and_lost_are_offered_only_to_whoever_may_record_them(chat, ctx) -> None:
    rid = log(chat, HELEN, "/refer Acme to Priya for employment £20k")
    chat(PRIYA).press("referral.accept", {"id": rid})
    for person in (HELEN, NIKHIL):
        for action in ("referral.won", "referral.lost"):
            [reply] = chat(person).press(action, {"id": rid})
            assert reply.form is None and reply.kind.startswith("referral_refused")
    [detail] = chat(HELEN).press("referral.show", {"id": rid})
    assert "referral.won" not in [b.action for b in detail.buttons]


def test_a_referral_number_typed_shows_it(chat, ctx) -> None:
    rid = log(chat, HELEN, "/refer Acme to Priya for employment £20k")
    [detail] = chat(PRIYA).send(f"#{rid}")
    assert detail.kind == "referral_detail" and f"#{rid}" in detail.text
    [hidden] = chat("james.thornton@hartwellfinch.example").send(f"#{rid}")
    assert hidden.kind == "referral_not_visible"


def test_stories_lists_the_naming_question_with_its_buttons(chat, ctx) -> None:
    rid = log(chat, HELEN, "/refer Acme to Priya for employment £20k")
    priya, nikhil = chat(PRIYA), chat(NIKHIL)
    priya.press("referral.accept", {"id": rid})
    nikhil.press("referral.consent_go", {"id": rid})
    priya.press("referral.won", {"id": rid, "submitted": True, "amount": "20000"})
    [form] = priya.press("story.from_referral", {"referral": rid})
    assert form.form is not None
    values = {i.name: i.initial for i in form.form.inputs}
    body = "We sorted out a tricky TUPE transfer for the client, and they stayed with us."
    saved = priya.submit({**values, "body": body, "name_client": "yes"})
    assert any(r.kind == "story_owner_request" and r.to_person == NIKHIL for r in saved), [
        (r.kind, r.text[:200]) for r in saved
    ]
    listed = nikhil.send("/stories")
    actions = [b.action for r in listed for b in r.buttons]
    assert "story.owner_approve" in actions and "story.owner_anonymous" in actions


def test_the_funnel_counts_every_stage_passed_and_shows_lost(chat, ctx) -> None:
    from bot import referrals

    won = log(chat, HELEN, "/refer Blue Fin to Priya for employment £10k")
    lost = log(chat, HELEN, "/refer Kestrel to Priya for employment")
    priya = chat(PRIYA)
    chat(PHILIPPA).press("referral.consent_go", {"id": lost})
    for rid in (won, lost):
        priya.press("referral.accept", {"id": rid})
    priya.press("referral.won", {"id": won, "submitted": True, "amount": "10000"})
    priya.press("referral.lost", {"id": lost, "submitted": True, "reason": "price"})
    with ctx.store.read() as session:
        reached = dict(referrals.funnel(session))
    assert (reached["new"], reached["accepted"], reached["meeting"]) == (2, 2, 1)
    assert (reached["proposal"], reached["won"], reached["lost"]) == (1, 1, 1)


def test_the_first_digest_does_not_list_every_card_as_new(ctx) -> None:
    from bot import digest

    with ctx.store.read() as session:
        built = digest.build_digest(session, ctx.now(), ctx.settings.zone)
    assert built.new_cards == []


def test_the_receiver_is_offered_no_step_the_owner_must_allow_first(chat, ctx) -> None:
    rid = log(chat, HELEN, "/refer Acme to Priya for employment £20k")
    priya = chat(PRIYA)
    [accepted, *_] = priya.press("referral.accept", {"id": rid})
    assert labels(accepted) == ["Lost", "Park"]  # meeting, proposal and won wait for Nikhil
    [*_, told] = chat(NIKHIL).press("referral.consent_go", {"id": rid})
    assert told.to_person == PRIYA
    assert labels(told) == ["Meeting held", "Proposal sent", "Won", "Lost", "Park"]


def test_after_the_go_ahead_the_owner_still_sees_their_clients_referral(chat, ctx) -> None:
    rid = log(chat, HELEN, "/refer Acme to Priya for employment £20k")
    nikhil = chat(NIKHIL)
    nikhil.press("referral.consent_go", {"id": rid})
    [listing, *_] = nikhil.send("/referrals")
    assert "Nothing yet" not in listing.text and "**Your clients** (1)" in listing.text
    assert f"#{rid}" in listing.text and "from Helen Carmichael" in listing.text
    [other] = chat(SAM_PATEL).send("/referrals")  # not theirs: not listed
    assert f"#{rid}" not in other.text


def test_a_referral_of_your_own_client_does_not_promise_to_tell_you(chat, ctx) -> None:
    [confirm] = chat(HELEN).send("/refer Blue Fin to Priya for employment")  # Helen's client
    assert confirm.kind == "referral_ask_confirm"
    assert "Helen Carmichael" not in confirm.text and "go-ahead" not in confirm.text
