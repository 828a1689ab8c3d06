"""Block Kit rendering: markdown to mrkdwn, escaping, Slack's limits, modals, inbound text."""

from __future__ import annotations

import json

from bot.channels.slack_blocks import (
    Stash,
    action_id,
    form_values,
    inbound_text,
    message_blocks,
    modal_view,
    mrkdwn,
    plain,
    read_value,
    reply_blocks,
)
from bot.messages import Button, Fact, Form, FormInput, Reply


def test_markdown_becomes_mrkdwn() -> None:
    text = "**Priya Shah** can help — see [the card](https://x.example/c?a=1&b=2)\n- one\n- two"

    assert mrkdwn(text) == (
        "*Priya Shah* can help — see <https://x.example/c?a=1&amp;b=2|the card>\n• one\n• two"
    )


def test_user_text_cannot_inject_slack_markup() -> None:
    text = "Client <@U123> & <!channel> said 3 > 2"

    assert mrkdwn(text) == "Client &lt;@U123&gt; &amp; &lt;!channel&gt; said 3 &gt; 2"
    assert plain("**A&B** <x>") == "A&amp;B &lt;x&gt;"


def test_a_long_text_is_split_into_sections_that_fit() -> None:
    paragraph = "word " * 500  # 2500 characters
    blocks = reply_blocks(Reply(f"{paragraph}\n\n{paragraph}\n\n{paragraph}"), Stash())

    assert len(blocks) >= 2
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks)


def test_facts_are_fields_ten_to_a_section() -> None:
    facts = [Fact(f"L{n}", f"v{n}") for n in range(12)]
    blocks = reply_blocks(Reply("", facts=facts), Stash())

    assert [len(b["fields"]) for b in blocks] == [10, 2]
    assert blocks[0]["fields"][0] == {"type": "mrkdwn", "text": "*L0*\nv0", "verbatim": True}


def test_buttons_carry_action_ids_and_json_values() -> None:
    stash = Stash()
    reply = Reply(
        "x",
        buttons=[
            Button("Accept", "referral.accept", {"referral": 3}, "primary"),
            Button("Decline", "referral.decline", {"referral": 3}, "danger"),
            Button("Big", "card.show", {"blob": "y" * 3000}),
        ],
    )
    [_, actions] = reply_blocks(reply, stash)

    accept, decline, big = actions["elements"]
    assert (accept["action_id"], accept["value"], accept["style"]) == (
        "referral.accept",
        '{"referral":3}',
        "primary",
    )
    assert decline["style"] == "danger"
    assert len(big["value"]) < 2000  # too big for Slack: kept aside, read back on press
    assert read_value(big["value"], stash) == {"blob": "y" * 3000}
    assert action_id("card.show~2") == "card.show"


def test_many_replies_are_split_at_fifty_blocks() -> None:
    replies = [Reply(f"r{n}") for n in range(40)]

    messages = message_blocks(replies, Stash())

    assert [len(m) for m in messages] == [50, 29]


def test_a_form_becomes_a_modal_within_slack_limits() -> None:
    form = Form(
        "A very long title for a Slack modal",
        "x.submit",
        [FormInput("n", "Amount", kind="number", initial="abc", placeholder="e.g. 20000")],
        context={"k": "v" * 4000},
    )
    stash = Stash()
    view = modal_view(form, "", {"a": "x.submit", "c": form.context}, stash)

    assert len(view["title"]["text"]) <= 24
    assert "initial_value" not in view["blocks"][0]["element"]
    assert len(view["private_metadata"]) < 3000
    assert read_value(view["private_metadata"], stash)["c"] == form.context
    json.dumps(view)


def test_submitted_values_are_read_by_input_name() -> None:
    state = {
        "who": {"who": {"type": "users_select", "selected_user": "U1"}},
        "card": {"card": {"type": "static_select", "selected_option": None}},
        "text": {"text": {"type": "plain_text_input", "value": "hi"}},
    }

    assert form_values(state) == ({"who": "", "card": "", "text": "hi"}, {"who": "U1"})


def test_inbound_markup_becomes_plain_text() -> None:
    names = {"U2": "Priya Shah"}.get
    text = "<@UBOT> refer <mailto:a@b.example|a@b.example> to <@U2> in <#C1|deals> &lt;3 <!here>"

    assert inbound_text(text, names, strip_user="UBOT") == (
        "refer a@b.example to Priya Shah in #deals <3 @here"
    )
