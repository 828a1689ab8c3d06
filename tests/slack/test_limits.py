"""A firm of 150 cards of 50 KB each: every Slack reply stays within Slack's limits.

Each scenario sends what Slack would send and checks every payload the fake Web API (and
the response_urls) received against `tests.slack.limits`, Slack's documented limits.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import delete

from bot.catalog import Catalog, load_catalog, load_into
from bot.channels.slack_blocks import SHOW_WHOLE_ACTION, mrkdwn, sections
from bot.context import Context
from bot.render import render
from bot.settings import Settings
from bot.store import Store
from bot.store.models import InboxItem, InboxSent
from tests.big_firm import CARDS, write_big_firm
from tests.slack.conftest import PRIYA_DM, PRIYA_ID, SlackDriver, action_buttons, section_texts
from tests.slack.fake_slack import TEAM, FakeSlack
from tests.slack.limits import options_problems, problems


@pytest.fixture(scope="module")
def big_catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    return load_catalog(write_big_firm(tmp_path_factory.mktemp("big")))


@pytest.fixture(scope="module")
def big_ctx(big_catalog: Catalog) -> Iterator[Context]:
    """One store and context for the module: the search index is built once."""
    store = Store("sqlite://")
    with store.write() as session:
        load_into(session, big_catalog)
    yield Context(store, Settings(_env_file=None))  # type: ignore[call-arg]
    store.dispose()


@pytest.fixture
def ctx(big_ctx: Context) -> Context:
    """The shared context; deliveries claimed by an earlier test are forgotten."""
    with big_ctx.store.write() as session:
        session.execute(delete(InboxSent))
        session.execute(delete(InboxItem))
    return big_ctx


def payloads(fake: FakeSlack) -> list[tuple[str, dict[str, Any]]]:
    """Every message and view our server sent, with the surface it is shown on."""
    sent = [("message", p) for p in fake.of("chat.postMessage") + fake.of("chat.postEphemeral")]
    sent += [("message", body) for _, body in fake.responses]
    sent += [("modal", p["view"]) for p in fake.of("views.open") + fake.of("views.update")]
    sent += [("home", p["view"]) for p in fake.of("views.publish")]
    return sent


def assert_within_limits(fake: FakeSlack) -> None:
    sent = payloads(fake)
    assert sent, "nothing was sent"
    for surface, payload in sent:
        assert problems(payload, surface) == [], surface


def test_the_generated_firm_is_as_big_as_it_says(big_catalog: Catalog) -> None:
    generated = [c for c in big_catalog.cards if c.id.startswith("card-")]
    assert len(generated) == CARDS
    assert all(sum(len(t) for t in c.sections.values()) > 45_000 for c in generated)


async def test_a_50kb_card_is_cut_to_one_message_with_show_the_whole_card(
    slack: SlackDriver,
) -> None:
    await slack.dm("card card-7")

    [posted] = slack.fake.of("chat.postMessage")
    assert_within_limits(slack.fake)
    buttons = action_buttons(posted)
    whole = [b for b in buttons if b["action_id"] == SHOW_WHOLE_ACTION]
    assert [b["text"]["text"] for b in whole] == ["Show the whole card"]
    assert "Card 7" in section_texts(posted)[0]

    await slack.press(SHOW_WHOLE_ACTION, json.loads(whole[0]["value"]))

    assert_within_limits(slack.fake)
    rest = slack.fake.of("chat.postMessage")[1:]
    assert len(rest) > 1  # the whole card, split across messages
    shown = "\n\n".join(t for p in rest for t in section_texts(p))
    card = next(c for c in slack.channel.ctx.catalog().cards if c.id == "card-7")
    for text in card.sections.values():  # nothing of the card is lost
        assert mrkdwn(text.split()[-1]) in shown


async def test_who_does_lists_and_help_stay_within_limits(slack: SlackDriver) -> None:
    for text in ("who does pension dispute advisory?", "referrals", "stories", "help"):
        await slack.dm(text)
    await slack.command("/whodoes", "card 12 disputes")
    await slack.command("/referrals")

    assert len(slack.fake.of("chat.postMessage")) >= 4
    assert_within_limits(slack.fake)


async def test_the_home_tab_stays_within_limits(slack: SlackDriver) -> None:
    await slack.event({"type": "app_home_opened", "user": PRIYA_ID, "tab": "home"})

    assert slack.fake.of("views.publish")
    assert_within_limits(slack.fake)


async def test_the_referral_form_picks_cards_as_one_types(slack: SlackDriver) -> None:
    await slack.command("/refer", channel=PRIYA_DM)

    [opened] = slack.fake.of("views.open")
    assert_within_limits(slack.fake)
    view = opened["view"]
    [service] = [b for b in view["blocks"] if b.get("block_id") == "service"]
    assert service["element"]["type"] == "external_select"
    assert service["element"]["min_query_length"] == 0

    first = await options(slack, view, service["element"]["action_id"], "")
    assert len(first["options"]) == 100
    found = await options(slack, view, service["element"]["action_id"], "card 123")
    assert [o["value"] for o in found["options"]][:1] == ["card-123"]
    assert options_problems(first) == options_problems(found) == []


async def test_every_card_can_be_chosen_in_the_referral_form(slack: SlackDriver) -> None:
    await slack.command("/refer", channel=PRIYA_DM)
    [opened] = slack.fake.of("views.open")
    view = opened["view"]
    [service] = [b for b in view["blocks"] if b.get("block_id") == "service"]
    action = service["element"]["action_id"]

    for card in slack.channel.ctx.catalog().cards:
        found = await options(slack, view, action, card.title)
        assert card.id in [o["value"] for o in found["options"]], card.title


async def test_an_unsigned_options_request_is_refused(slack: SlackDriver) -> None:
    body = urlencode({"payload": json.dumps(_suggestion({}, "choices.cards", "card"))})
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    response = await slack.client.post("/slack/events", data=body, headers=headers)

    assert response.status == 401


async def options(
    slack: SlackDriver, view: dict[str, Any], action: str, query: str
) -> dict[str, Any]:
    """A signed options load, as Slack sends it while the person types."""
    status, text = await slack.interact(_suggestion(view, action, query))
    assert status == 200
    answer: dict[str, Any] = json.loads(text)
    return answer


def _suggestion(view: dict[str, Any], action: str, query: str) -> dict[str, Any]:
    return {
        "type": "block_suggestion",
        "user": {"id": PRIYA_ID, "team_id": TEAM},
        "team": {"id": TEAM},
        "api_app_id": "A1",
        "action_id": action,
        "block_id": "service",
        "value": query,
        "view": {**view, "id": "VMODAL"},
    }


def test_a_long_text_starting_with_blank_lines_has_no_empty_section() -> None:
    text = "\n\n\n" + "word " * 1000

    blocks = sections(text)

    assert [len(b["text"]["text"]) for b in blocks] == [2999, 2000]


async def test_a_message_slack_still_refuses_is_replaced_by_a_plain_note(
    slack: SlackDriver,
) -> None:
    slack.fake.refuse_next("chat.postMessage", "msg_too_long")

    await slack.dm("help")

    [refused] = [c for c in slack.fake.calls if c.method == "chat.postMessage" and not c.ok]
    assert refused.params["blocks"]
    [note] = slack.fake.of("chat.postMessage")
    assert note["text"] == render("slack_too_big")
    assert "blocks" not in note
