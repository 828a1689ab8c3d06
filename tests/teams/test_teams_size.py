"""Teams' 28 KB limit: every reply measured in UTF-16, long ones split, refusals explained."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.catalog import load_catalog, load_into
from bot.channels.teams_size import BUDGET, MAX_ACTIVITY_BYTES, MAX_PARTS, activity_bytes, fit
from bot.context import Context
from bot.messages import Button, Fact, Reply
from bot.render import Rendered, join, render
from bot.settings import Settings
from bot.store import Store
from tests.teams import big_firm
from tests.teams.conftest import FakeConnector, FakeTime, activity, serve_teams
from tests.teams.test_teams_protocol import PRIYA_AAD, post


def utf16_bytes(body: dict[str, Any]) -> int:
    """An activity as the connector received it, measured as Teams counts it."""
    return len(json.dumps(body, ensure_ascii=False).encode("utf-16-le"))


def texts(activities: list[Any]) -> str:
    parts = []
    for a in activities:
        body = a.serialize() if hasattr(a, "serialize") else a
        parts.append(body.get("text") or "")
        for att in body.get("attachments") or []:
            parts += [b.get("text", "") for b in att["content"]["body"]]
            parts += [f["value"] for b in att["content"]["body"] for f in b.get("facts", [])]
    return "\n".join(parts)


def test_a_long_reply_is_split_with_nothing_lost_and_buttons_last() -> None:
    paragraphs = [f"Paragraph {n}: " + "société " * 300 for n in range(12)]
    facts = [Fact(f"Fact {n}", "détail " * 60) for n in range(40)]
    reply = Reply("\n\n".join(paragraphs), facts=facts, buttons=[Button("Refer", "referral.form")])

    parts = fit(reply)

    assert len(parts) > 1
    assert all(activity_bytes(a) <= BUDGET for a in parts)
    shown = texts(parts)
    assert all(p.strip() in shown for p in paragraphs)
    assert shown.count("détail") == 40 * 60
    *first, last = parts
    card = last.attachments[0].content
    assert [a["title"] for a in card["actions"]] == ["Refer"]
    assert all(not (a.attachments and a.attachments[0].content.get("actions")) for a in first)


def test_one_enormous_word_is_cut_not_refused() -> None:
    parts = fit(Reply("x" * 40_000))

    assert len(parts) > 1 and all(activity_bytes(a) <= BUDGET for a in parts)
    assert texts(parts).replace("\n", "") == "x" * 40_000


def test_data_stays_escaped_when_a_reply_is_split() -> None:
    """A value in a template is data wherever the split falls: its markup never renders."""
    note = "**not bold** [link](https://evil.example) " * 400
    data = Rendered(note, [(0, len(note))])  # as `render` marks an interpolated value

    parts = fit(Reply(join("\n\n", [render("teams_welcome"), data])))

    shown = texts(parts)
    assert len(parts) > 1
    assert "](https://evil.example)" not in shown and "**not bold**" not in shown


def test_past_the_last_part_the_reply_says_it_was_cut_short() -> None:
    reply = Reply("\n\n".join("word " * 4_000 for _ in range(20)))

    parts = fit(reply)

    assert len(parts) == MAX_PARTS
    assert "That's all that fits in Teams" in texts(parts[-1:])


async def test_when_teams_still_refuses_the_person_is_told(bot, connector, ctx) -> None:
    connector.failures = [413]

    body = activity(connector, user_id="29:priya", aad=PRIYA_AAD, text="who does employment law?")
    assert await post(bot, body) in (200, 201)

    assert connector.failed == [413]
    [told] = connector.texts()
    assert "too long for Teams" in told


# -- a 150-card firm with 50 KB cards -----------------------------------------------------


@pytest.fixture(scope="module")
def big_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Path]]:
    folder = big_firm.write(tmp_path_factory.mktemp("big") / "firm")
    store = Store("sqlite://")
    with store.write() as session:
        load_into(session, load_catalog(folder))
    yield store, folder
    store.dispose()


@pytest.fixture
async def big_bot(big_store, fake_time: FakeTime) -> AsyncIterator[TestClient]:
    store, folder = big_store
    settings = Settings(_env_file=None, CROSSBOT_CONTENT_DIR=folder, CROSSBOT_TEAMS_EMULATOR=True)  # type: ignore[call-arg]
    client = await serve_teams(Context(store, settings), fake_time)
    yield client
    await client.close()


async def test_no_reply_of_a_150_card_firm_exceeds_the_limit(
    big_bot: TestClient, connector: FakeConnector
) -> None:
    connector.add_member("29:p1", big_firm.person(1), "Person 01", "aad-person-01")
    asks: dict[str, dict[str, Any]] = {
        "show card": {"value": {"action": "card.show", "card": "service-005"}},
        "who does": {"text": "who does restructuring and insolvency advice?"},
        "card command": {"text": "card service-042"},
        "referral form": {"value": {"action": "referral.form"}},
        "referral list": {"text": "referrals"},
        "stories": {"text": "stories"},
        "leaderboard": {"text": "leaderboard"},
        "help": {"text": "help"},
    }
    sent: dict[str, list[dict[str, Any]]] = {}
    for kind, ask in asks.items():
        before = len(connector.activities)
        body = activity(connector, user_id="29:p1", aad="aad-person-01", **ask)
        assert await post(big_bot, body) in (200, 201)
        sent[kind] = [a["activity"] for a in connector.activities[before:]]

    assert all(sent.values()), [k for k, v in sent.items() if not v]  # every ask was answered
    sizes = {kind: [utf16_bytes(a) for a in acts] for kind, acts in sent.items()}
    assert all(size <= MAX_ACTIVITY_BYTES for each in sizes.values() for size in each), sizes
    assert len(sent["show card"]) > 1  # a 50 KB card does not fit in one message...
    assert "Questions to ask" in texts(sent["show card"])  # ...and all of it arrives
    [form] = [
        e
        for a in sent["referral form"]
        for att in a.get("attachments") or []
        for e in att["content"]["body"]
        if e.get("type") == "Input.ChoiceSet"
    ]
    assert form["style"] == "filtered" and len(form["choices"]) >= 20
