"""Reply → Adaptive Card 1.5 or markdown text, and activities → Turn fields."""

from __future__ import annotations

import base64
import io

from botbuilder.schema import Activity
from PIL import Image

from bot.channels.teams import message_text, submitted
from bot.channels.teams_cards import adaptive_card, image_uri, teams_markdown, to_activity
from bot.messages import Button, Fact, Form, FormInput, Reply


def test_plain_reply_is_markdown_text() -> None:
    activity = to_activity(Reply("Use `whodoes tax` to **find** people.\n\n- one\n- two"))
    assert activity.attachments in (None, [])
    assert activity.text_format == "markdown"
    assert activity.text == "Use whodoes tax to **find** people.\n\n- one\n- two"


def test_markdown_keeps_what_teams_renders() -> None:
    assert teams_markdown("## Title\n_It_ is [here](https://x.example)") == (
        "**Title**\n_It_ is [here](https://x.example)"
    )


def test_buttons_and_facts_become_a_card() -> None:
    reply = Reply(
        "**Acme** referral\n\nWaiting on you.",
        facts=[Fact("Value", "£20k"), Fact("Status", "new")],
        buttons=[
            Button("Accept", "referral.accept", {"id": 3}, "primary"),
            Button("Decline", "referral.decline", {"id": 3}, "danger"),
        ],
    )
    activity = to_activity(reply)
    [attachment] = activity.attachments
    card = attachment.content

    assert attachment.content_type == "application/vnd.microsoft.card.adaptive"
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    first, second, facts = card["body"]
    assert first["text"] == "**Acme** referral" and first["wrap"] is True
    assert second["text"] == "Waiting on you."
    assert facts == {
        "type": "FactSet",
        "facts": [{"title": "Value", "value": "£20k"}, {"title": "Status", "value": "new"}],
    }
    accept, decline = card["actions"]
    assert accept == {
        "type": "Action.Submit",
        "title": "Accept",
        "data": {"id": 3, "action": "referral.accept"},
        "style": "positive",
    }
    assert decline["style"] == "destructive"
    assert activity.summary == "Acme referral"


def test_form_becomes_inputs_with_a_submit_carrying_the_action() -> None:
    form = Form(
        title="Log a referral",
        submit_action="referral.submit",
        context={"card": "employment"},
        submit_label="Log it",
        inputs=[
            FormInput("client", "Client", placeholder="Acme Ltd"),
            FormInput("note", "Note", kind="textarea", required=False),
            FormInput("value", "Value", kind="number", required=False),
            FormInput("due", "Follow up on", kind="date", initial="2026-12-01"),
            FormInput("currency", "Currency", kind="select", options=[("GBP", "£"), ("EUR", "€")]),
            FormInput("receiver", "Refer to", kind="person"),
        ],
    )
    card = adaptive_card(Reply("Tell me about it.", form=form))

    inputs = {el["id"]: el for el in card["body"] if el["type"].startswith("Input.")}
    assert inputs["client"]["type"] == "Input.Text" and inputs["client"]["isRequired"] is True
    assert inputs["client"]["placeholder"] == "Acme Ltd" and inputs["client"]["errorMessage"]
    assert inputs["note"]["isMultiline"] is True and inputs["note"]["isRequired"] is False
    assert inputs["value"]["type"] == "Input.Number"
    assert inputs["due"]["type"] == "Input.Date" and inputs["due"]["value"] == "2026-12-01"
    assert inputs["currency"]["type"] == "Input.ChoiceSet"
    assert inputs["currency"]["choices"] == [
        {"title": "£", "value": "GBP"},
        {"title": "€", "value": "EUR"},
    ]
    assert inputs["receiver"]["type"] == "Input.Text"
    [submit] = card["actions"]
    assert submit["title"] == "Log it"
    assert submit["data"] == {"card": "employment", "action": "referral.submit"}


def _png(size: tuple[int, int], noisy: bool = False) -> bytes:
    image = Image.new("RGB", size, (255, 255, 255))
    if noisy:
        image = Image.effect_noise(size, 80).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_chart_is_an_inline_image() -> None:
    png = _png((300, 200))
    card = adaptive_card(Reply("Referrals this quarter", image=png, image_alt="bar chart"))
    image = card["body"][-1]
    assert image["type"] == "Image" and image["altText"] == "bar chart"
    assert image["url"] == "data:image/png;base64," + base64.b64encode(png).decode()


def test_large_chart_is_shrunk_to_fit_a_teams_message() -> None:
    uri = image_uri(_png((900, 600), noisy=True), limit=20_000)
    assert len(uri) <= 20_000
    shrunk = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
    assert shrunk.format == "PNG" and shrunk.width < 900


def test_mention_of_the_bot_is_removed_others_kept_as_names() -> None:
    activity = Activity().deserialize(
        {
            "type": "message",
            "text": "<at>Crossbot</at> refer Acme to <at>Priya Shah</at>&nbsp;for TUPE",
            "recipient": {"id": "28:bot", "name": "Crossbot"},
            "entities": [
                {"type": "mention", "text": "<at>Crossbot</at>", "mentioned": {"id": "28:bot"}},
                {"type": "mention", "text": "<at>Priya Shah</at>", "mentioned": {"id": "29:p"}},
            ],
        }
    )
    assert message_text(activity) == "refer Acme to Priya Shah for TUPE"


def test_card_submit_carries_action_and_form_values() -> None:
    activity = Activity().deserialize(
        {
            "type": "message",
            "value": {"action": "referral.submit", "card": "tax", "client": "Acme", "msteams": {}},
        }
    )
    assert submitted(activity) == ("referral.submit", {"card": "tax", "client": "Acme"})
    assert submitted(Activity(type="message", value={"x": 1})) == (None, {})
