"""Teams over the real Bot Framework protocol: activities in, connector calls out."""

from __future__ import annotations

from aiohttp.test_utils import TestClient
from sqlmodel import select

from bot.channels.teams import PACE_LIMITS, Pacer, TeamsMessenger
from bot.context import Context
from bot.messages import Button, Fact, Form, FormInput, Reply, Unreachable
from bot.store.models import ConversationRef, InboxItem, Person
from tests.conftest import PRIYA
from tests.teams.conftest import BOT, FakeConnector, FakeTime, activity, channel_of

PRIYA_AAD = "5b7e2c1a-9d43-4f6e-8a21-3c0f9e7d4b18"  # her teams_id in the sample people.csv
SAM = "sam.patel@hartwellfinch.example"
SAM_AAD = "9f0c1d2e-0000-4000-8000-00000000sam1"
CHANNEL = "19:cross-selling@thread.tacv2"


async def post(bot: TestClient, body: dict, headers: dict | None = None) -> int:
    response = await bot.post("/api/messages", json=body, headers=headers or {})
    return response.status


async def channel_update(bot: TestClient, connector: FakeConnector, user_id: str, **change) -> None:
    """The conversationUpdate Teams posts when Crossbot joins (or leaves) CHANNEL."""
    body = activity(
        connector,
        user_id=user_id,
        kind="channel",
        conversation=CHANNEL,
        type_="conversationUpdate",
        **change,
    )
    await post(bot, body)


def refs(ctx: Context) -> dict[str, ConversationRef]:
    with ctx.store.read() as session:
        rows = session.exec(select(ConversationRef).where(ConversationRef.platform == "teams"))
        return {row.key: row for row in rows}


async def test_personal_message_answers_who_does(bot, connector: FakeConnector, ctx) -> None:
    body = activity(connector, user_id="29:priya", aad=PRIYA_AAD, text="who does employment law?")
    assert await post(bot, body) in (200, 201)

    [sent] = connector.activities
    assert sent["conversation"] == "a:personal-chat-29:priya"
    assert sent["reply_to"] == body["id"]
    [card] = connector.cards()
    assert card["version"] == "1.5"
    text = " ".join(block.get("text", "") for block in card["body"])
    # Priya asks about her own card, so the answer names her colleague, not herself.
    assert "Employment law" in text and "Owen Gallagher" in text
    show = next(a for a in card["actions"] if a["data"]["action"] == "card.show")
    assert show["type"] == "Action.Submit" and show["data"]["card"]
    assert connector.member_lookups == []  # known by AAD object id: no roster call
    assert PRIYA in refs(ctx)


async def test_channel_mention_maps_person_by_roster_email(bot, connector, ctx) -> None:
    connector.add_member("29:sam", SAM, "Sam Patel", SAM_AAD)
    body = activity(
        connector,
        user_id="29:sam",
        aad=SAM_AAD,
        kind="channel",
        conversation=f"{CHANNEL};messageid=1700000000001",
        text="<at>Crossbot</at> whodoes employment law",
        entities=[
            {
                "type": "mention",
                "text": "<at>Crossbot</at>",
                "mentioned": {"id": BOT["id"], "name": "Crossbot"},
            }
        ],
    )
    assert await post(bot, body) in (200, 201)

    assert connector.member_lookups == ["29:sam"]
    [sent] = connector.activities
    assert sent["conversation"] == f"{CHANNEL};messageid=1700000000001"  # in the thread
    [card] = connector.cards()
    assert "Employment law" in card["body"][0]["text"]
    with ctx.store.read() as session:
        sam = session.exec(select(Person).where(Person.email == SAM)).one()
        assert sam.teams_id == SAM_AAD  # cached: next time no roster call
    stored = refs(ctx)
    assert stored[CHANNEL].reference["conversation"]["id"] == CHANNEL
    assert stored[SAM].reference["conversation"]["conversationType"] == "channel"

    again = activity(connector, user_id="29:sam", aad=SAM_AAD, text="whodoes tax")
    await post(bot, again)
    assert connector.member_lookups == ["29:sam"]
    assert refs(ctx)[SAM].reference["conversation"]["conversationType"] == "personal"


async def test_card_submit_continues_the_conversation(bot, connector, ctx) -> None:
    # The referral flow is being built in parallel; `card.show` is the submit that exists.
    ask = activity(connector, user_id="29:priya", aad=PRIYA_AAD, text="who does employment law?")
    await post(bot, ask)
    [answer] = connector.cards()
    show = next(a for a in answer["actions"] if a["data"]["action"] == "card.show")

    submit = activity(connector, user_id="29:priya", aad=PRIYA_AAD, value=show["data"])
    assert await post(bot, submit) in (200, 201)

    card = connector.cards()[-1]
    facts = next(block for block in card["body"] if block["type"] == "FactSet")["facts"]
    assert {"title": "Team", "value": "Employment"} in facts
    refer = card["actions"][0]
    assert refer["data"]["action"] == "referral.form" and refer["style"] == "positive"


async def test_install_stores_reference_and_welcomes(bot, connector, ctx) -> None:
    body = activity(
        connector,
        user_id="29:helen",
        kind="channel",
        conversation=CHANNEL,
        type_="conversationUpdate",
        membersAdded=[BOT],
        channelData={"tenant": {"id": "tenant-0001"}, "team": {"id": CHANNEL}},
    )
    assert await post(bot, body) in (200, 201)

    assert CHANNEL in refs(ctx)
    assert refs(ctx)[CHANNEL].reference["serviceUrl"] == connector.url
    [welcome] = connector.texts()
    assert "Crossbot" in welcome and "whodoes" in welcome


async def test_members_added_to_a_team_can_be_messaged(bot, connector, ctx) -> None:
    connector.add_member("29:sam", SAM, "Sam Patel", SAM_AAD)
    body = activity(
        connector,
        user_id="29:someone",
        kind="channel",
        conversation=CHANNEL,
        type_="conversationUpdate",
        membersAdded=[{"id": "29:sam", "aadObjectId": SAM_AAD}],
    )
    await post(bot, body)
    assert connector.activities == []  # no welcome for every new member

    await channel_of(bot).messenger.dm(SAM, Reply("A referral for you."))

    [created] = connector.created
    assert created["members"] == [{"id": "29:sam"}]
    assert created["isGroup"] is False
    assert created["channelData"] == {"tenant": {"id": "tenant-0001"}}
    [sent] = connector.activities
    assert sent["conversation"].startswith("a:personal-") and sent["reply_to"] is None
    assert sent["activity"]["text"] == "A referral for you."
    assert refs(ctx)[SAM].reference["conversation"]["conversationType"] == "personal"


async def test_proactive_dm_and_channel_post(bot, connector, ctx) -> None:
    await post(bot, activity(connector, user_id="29:priya", aad=PRIYA_AAD, text="hello"))
    await channel_update(bot, connector, "29:priya", membersAdded=[BOT])
    connector.activities.clear()
    messenger = channel_of(bot).messenger

    await messenger.dm(
        PRIYA,
        Reply("You have a new referral.", buttons=[Button("Accept", "referral.accept", {"id": 7})]),
    )
    await messenger.post(CHANNEL, Reply("**Weekly digest**", facts=[Fact("Referrals", "12")]))

    dm, digest = connector.activities
    assert dm["conversation"] == "a:personal-chat-29:priya" and dm["reply_to"] is None
    accept = dm["activity"]["attachments"][0]["content"]["actions"][0]
    assert accept["data"] == {"id": 7, "action": "referral.accept"}
    assert digest["conversation"] == CHANNEL and digest["reply_to"] is None
    assert connector.created == []


async def test_person_who_never_talked_is_unreachable(bot, connector, ctx) -> None:
    messenger = channel_of(bot).messenger
    try:
        await messenger.dm("natalie.price@hartwellfinch.example", Reply("Hello"))
    except Unreachable as exc:
        assert "natalie.price" in str(exc)
    else:
        raise AssertionError("expected Unreachable")
    try:
        await messenger.post("19:unknown@thread.tacv2", Reply("Hello"))
    except Unreachable:
        pass
    else:
        raise AssertionError("expected Unreachable")
    assert connector.activities == []


async def test_throttled_connector_is_retried_with_backoff(bot, connector, fake_time) -> None:
    connector.failures = [429, 502]
    body = activity(connector, user_id="29:priya", aad=PRIYA_AAD, text="hello")
    assert await post(bot, body) in (200, 201)

    assert connector.failed == [429, 502]
    assert len(connector.activities) == 1
    first, second = fake_time.sleeps
    assert 0.25 <= first <= 0.5 and 0.5 <= second <= 1.0  # exponential, with jitter


async def test_replayed_activity_is_processed_once(bot, connector, ctx) -> None:
    body = activity(connector, user_id="29:priya", aad=PRIYA_AAD, text="hello", activity_id="x1")
    assert await post(bot, body) in (200, 201)
    assert await post(bot, body) in (200, 201)

    assert len(connector.activities) == 1
    with ctx.store.read() as session:
        events = session.exec(select(InboxItem).where(InboxItem.platform == "teams"))
        assert len(list(events)) == 1


async def test_unknown_person_gets_a_kind_reply(bot, connector) -> None:
    body = activity(connector, user_id="29:stranger", text="hello")
    assert await post(bot, body) in (200, 201)
    [text] = connector.texts()
    assert "people.csv" in text


async def test_proactive_sends_are_paced_per_conversation(bot, connector, fake_time) -> None:
    await post(bot, activity(connector, user_id="29:priya", aad=PRIYA_AAD, text="hello"))
    messenger = channel_of(bot).messenger
    for n in range(20):
        await messenger.dm(PRIYA, Reply(f"note {n}"))

    assert len(connector.activities) == 21
    # 21 messages at 7 a second into one chat take at least two (fake) seconds.
    assert sum(fake_time.sleeps) >= 2.0


async def test_pacer_keeps_every_window_within_teams_limits(fake_time: FakeTime) -> None:
    pacer = Pacer(fake_time.clock, fake_time.sleep)
    sent: list[float] = []
    for _ in range(130):
        await pacer.wait("a:chat")
        sent.append(fake_time.now)
    await pacer.wait("a:other-chat")  # another conversation does not wait
    other_at = fake_time.now

    for count, window in PACE_LIMITS:
        for start in sent:
            assert sum(start <= t < start + window for t in sent) <= count
    assert other_at == sent[-1]
    assert sent[-1] - sent[0] < 70  # paced, not serialised: 130 messages in about a minute


async def test_addressed_and_private_replies(bot, connector, ctx) -> None:
    """Replies for others go through the Messenger; private ones never land in a channel."""
    await post(bot, activity(connector, user_id="29:priya", aad=PRIYA_AAD, text="hello"))
    connector.activities.clear()

    def probe(turn, ctx):
        assert turn.text == "refer Acme to Sam" and not turn.is_direct
        return [
            Reply("Logged.", kind="ok"),
            Reply("Details only for you.", private=True),
            Reply("Priya referred Acme to you.", to_person=PRIYA),
            Reply("New referral!", to_person=SAM),  # Sam never talked to the bot
        ]

    channel_of(bot).router = probe
    body = activity(
        connector,
        user_id="29:priya",
        aad=PRIYA_AAD,
        kind="channel",
        conversation=CHANNEL,
        text="<at>Crossbot</at> refer Acme to Sam",
        entities=[{"type": "mention", "text": "<at>Crossbot</at>", "mentioned": BOT}],
    )
    await post(bot, body)

    where = [(a["conversation"], a["activity"]["text"]) for a in connector.activities]
    personal = "a:personal-chat-29:priya"
    assert (personal, "Priya referred Acme to you.") in where
    assert (CHANNEL, "Logged.") in where
    assert (personal, "Details only for you.") in where
    assert not any(c == CHANNEL and "Details" in t for c, t in where)
    # The unreachable notice is private too: the speaker learns it in their own chat.
    notice = next(t for c, t in where if "sam.patel" in t)
    assert (personal, notice) in where and "haven't talked to me" in notice


async def test_connector_that_keeps_failing_is_given_up_on(bot, connector, fake_time) -> None:
    connector.failures = [429] * 10
    body = activity(connector, user_id="29:priya", aad=PRIYA_AAD, text="hello")
    assert await post(bot, body) in (200, 201)  # Teams is answered; the failure is logged

    assert connector.failed == [429] * 5 and connector.activities == []
    assert len(fake_time.sleeps) == 4 and fake_time.sleeps == sorted(fake_time.sleeps)


async def test_emulator_chat_speaks_as_an_email(bot, connector, ctx) -> None:
    """The Bot Framework Emulator: no roster, no conversation type, no auth."""
    body = {
        "type": "message",
        "id": "emu-1",
        "serviceUrl": connector.url,
        "channelId": "emulator",
        "from": {"id": "e1", "name": PRIYA},
        "conversation": {"id": "emu-conversation"},
        "recipient": {"id": "bot", "name": "Bot"},
        "text": "who does employment law?",
    }
    assert await post(bot, body) in (200, 201)

    [card] = connector.cards()
    assert "Employment law" in card["body"][0]["text"]
    conversation = refs(ctx)[PRIYA].reference["conversation"]
    assert conversation == {"id": "emu-conversation", "conversationType": "personal"}


async def test_removed_bot_forgets_the_channel_and_blocked_dm_is_unreachable(
    bot, connector, ctx
) -> None:
    await channel_update(bot, connector, "29:x", membersAdded=[BOT])
    await channel_update(bot, connector, "29:x", membersRemoved=[BOT])
    assert CHANNEL not in refs(ctx)

    await post(bot, activity(connector, user_id="29:priya", aad=PRIYA_AAD, text="hello"))
    connector.failures = [403]  # Priya has since uninstalled the app
    try:
        await channel_of(bot).messenger.dm(PRIYA, Reply("ping"))
    except Unreachable as exc:
        assert PRIYA in str(exc)
    else:
        raise AssertionError("expected Unreachable")


async def test_proactive_post_is_retried_after_429(bot, connector, fake_time) -> None:
    await channel_update(bot, connector, "29:x", membersAdded=[BOT])
    connector.activities.clear()
    connector.failures = [429, 429]

    await channel_of(bot).messenger.post(CHANNEL, Reply("Weekly digest"))

    assert connector.failed == [429, 429]
    assert [a["activity"]["text"] for a in connector.activities] == ["Weekly digest"]
    assert len(fake_time.sleeps) == 2


async def test_form_card_submit_reaches_the_router_with_inputs(bot, connector) -> None:
    """A two-step form flow: the card's inputs come back in `value` with the submit's data."""
    seen: list = []

    def probe(turn, ctx):
        seen.append(turn)
        if turn.action is None:
            form = Form(
                "Share a win",
                "story.submit",
                [FormInput("title", "Title"), FormInput("value", "Value", kind="number")],
                context={"draft": 4},
            )
            return [Reply("Tell me about it.", form=form)]
        return [Reply(f"Saved {turn.payload['title']}.")]

    channel_of(bot).router = probe
    await post(bot, activity(connector, user_id="29:priya", aad=PRIYA_AAD, text="story"))
    [card] = connector.cards()
    [submit] = card["actions"]
    ids = [el["id"] for el in card["body"] if el["type"].startswith("Input.")]
    assert ids == ["title", "value"]

    values = {**submit["data"], "title": "Acme TUPE", "value": "20000"}
    await post(bot, activity(connector, user_id="29:priya", aad=PRIYA_AAD, value=values))

    turn = seen[-1]
    assert turn.action == "story.submit" and turn.text == ""
    assert turn.payload == {"draft": 4, "title": "Acme TUPE", "value": "20000"}
    assert connector.texts()[-1] == "Saved Acme TUPE."


async def test_a_messenger_built_from_settings_alone_reaches_known_people(
    bot, connector, ctx
) -> None:
    """`crossbot digest` sends from another process: only the stored references are shared."""
    await post(bot, activity(connector, user_id="29:priya", aad=PRIYA_AAD, text="hello"))
    connector.activities.clear()

    await TeamsMessenger(ctx).dm(PRIYA, Reply("Your weekly digest"))

    [sent] = connector.activities
    assert sent["conversation"] == "a:personal-chat-29:priya"


async def test_pacer_forgets_quiet_conversations(fake_time: FakeTime) -> None:
    pacer = Pacer(fake_time.clock, fake_time.sleep)
    for n in range(600):
        await pacer.wait(f"a:chat-{n}")
    fake_time.now += 31
    await pacer.wait("a:new")
    assert list(pacer._sent) == ["a:new"]
