"""Referrer, receiver, owner and admin through every state, typed in the terminal channel."""

from __future__ import annotations

import io

from bot.channels.console import ConsoleChannel, run
from bot.store.models import Referral
from tests.conftest import ADMIN, PRIYA
from tests.factories import fetch
from tests.test_referral_chat import HELEN, NIKHIL

RICHARD = "richard.pryce@hartwellfinch.example"  # owns Harbourside Estates Ltd


def say(channel: ConsoleChannel, *lines: str) -> str:
    out = io.StringIO()
    run(channel, iter([f"{line}\n" for line in lines]), out)
    return out.getvalue()


def status(ctx, rid: int) -> tuple[str, str, float | None]:
    row = fetch(ctx, Referral, rid)
    return row.status, row.consent, row.won_value


def newest(ctx) -> int:
    from sqlmodel import col, select

    with ctx.store.read() as session:
        return int(session.exec(select(Referral.id).order_by(col(Referral.id).desc())).first())


def test_every_state_without_a_dead_end(ctx) -> None:
    helen, priya = ConsoleChannel(ctx, HELEN), ConsoleChannel(ctx, PRIYA)
    nikhil, admin = ConsoleChannel(ctx, NIKHIL), ConsoleChannel(ctx, ADMIN)

    # Consent later: the owner wants a word, then gives the go-ahead by typing it.
    say(helen, "/refer Acme to Priya for employment £12,345", "yes")
    acme = newest(ctx)
    assert f"#{acme}" in say(nikhil, "/referrals")
    say(nikhil, "/referrals", "Let's talk first")
    assert status(ctx, acme)[1] == "talk_first"
    assert "Go ahead" in say(nikhil, "/referrals")  # still there, with a way forward
    assert "Confirm]" in say(nikhil, "yes, go ahead")  # a typed go-ahead waits for Confirm
    assert status(ctx, acme)[1] == "talk_first"
    say(nikhil, "Confirm")
    assert status(ctx, acme)[1] == "given"

    # Won with an exact amount, confirmed; then a story from the win.
    say(priya, "/referrals", "Accept")
    out = say(priya, "We won Acme, £12,345", "Yes, record it")
    assert status(ctx, acme) == ("won", "given", 12_345)
    assert "Share it as a story" in out
    assert "(form:" in say(priya, "Share it as a story", "cancel")  # the form opened

    # Withdraw: the referrer, confirmed, from a sentence.
    say(helen, "/refer Kestrel to Priya for employment", "yes")
    kestrel = newest(ctx)
    say(helen, "withdraw the Kestrel referral", "Withdraw it")
    assert status(ctx, kestrel)[0] == "withdrawn"

    # Decline: the receiver, from the list.
    say(helen, "/refer Blue Fin to Priya for employment", "yes")
    blue_fin = newest(ctx)
    say(priya, "/referrals", "Decline")
    assert status(ctx, blue_fin)[0] == "declined"

    # Lost, told by the admin: refused until accepted and consented, then confirmed.
    say(helen, "/refer Harbourside to Priya for employment", "yes")
    harbourside = newest(ctx)
    assert "hasn't accepted" in say(admin, "We lost Harbourside, price")
    say(priya, "/referrals", "Accept")
    say(ConsoleChannel(ctx, RICHARD), "go ahead", "Confirm")
    out = say(admin, "We lost Harbourside, price", "Yes, record it")
    assert status(ctx, harbourside)[0] == "lost"
    assert "Nothing to cancel" not in out


def test_a_typed_go_ahead_is_recorded_only_on_confirm(ctx) -> None:
    helen, nikhil = ConsoleChannel(ctx, HELEN), ConsoleChannel(ctx, NIKHIL)
    say(helen, "/refer Acme to Priya for employment £20k", "yes")
    acme = newest(ctx)
    for sentence in ("yes go ahead", "happy for you to proceed", "Okay, they can go ahead."):
        out = say(nikhil, sentence)
        assert "go-ahead to contact your client Acme Logistics plc" in out, out
        assert f"#{acme}" in out and "Confirm]" in out and "Not now]" in out
        assert status(ctx, acme)[1] == "pending"
    say(nikhil, "happy for you to proceed", "Not now")
    assert status(ctx, acme)[1] == "pending"
    out = say(nikhil, "happy for you to proceed", "Confirm")
    assert status(ctx, acme)[1] == "given"
    assert "I've told Priya Shah they can contact" in out
