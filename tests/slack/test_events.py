"""Events API: DMs, mentions and App Home; acked by Bolt at once, processed once."""

from __future__ import annotations

from bot.channels import slack as slack_channel
from bot.messages import Reply
from tests.slack.conftest import (
    ADMIN_ID,
    PRIYA,
    PRIYA_DM,
    PRIYA_ID,
    FakePacer,
    Probe,
    SlackDriver,
    action_buttons,
    section_texts,
)
from tests.slack.fake_slack import BOT_USER


def _mention(question: str) -> dict:
    """Priya @-mentions Crossbot in channel C1."""
    return {
        "type": "app_mention",
        "channel": "C1",
        "user": PRIYA_ID,
        "text": f"<@{BOT_USER}> {question}",
        "ts": "1700000200.000001",
    }


async def test_a_dm_question_gets_one_message_naming_the_team(slack: SlackDriver) -> None:
    status, _ = await slack.dm("who does TUPE?")

    assert status == 200
    [posted] = slack.fake.of("chat.postMessage")
    assert posted["channel"] == PRIYA_DM
    assert "thread_ts" not in posted
    assert "*Employment law* (Employment)" in section_texts(posted)[0]
    assert "Employment law (Employment)" in posted["text"]  # the notification text


async def test_a_dm_in_a_thread_is_answered_in_the_thread(slack: SlackDriver) -> None:
    await slack.dm("who does TUPE?", thread_ts="1699999999.000100")

    [posted] = slack.fake.of("chat.postMessage")
    assert posted["thread_ts"] == "1699999999.000100"


async def test_a_mention_is_stripped_and_answered_in_its_thread(
    slack: SlackDriver, probe: Probe
) -> None:
    await slack.event(_mention("probe for Acme &amp; Co"))

    [turn] = probe.turns
    assert turn.text == "probe for Acme & Co"
    assert (turn.conversation, turn.is_direct) == ("slack:C1", False)


async def test_a_mention_question_is_answered_publicly_in_the_thread(slack: SlackDriver) -> None:
    await slack.event(_mention("who does TUPE?"))

    [posted] = slack.fake.of("chat.postMessage")
    assert (posted["channel"], posted["thread_ts"]) == ("C1", "1700000200.000001")
    assert "*Employment law*" in section_texts(posted)[0]


async def test_private_replies_in_a_channel_are_ephemeral(slack: SlackDriver, probe: Probe) -> None:
    probe.replies = [Reply("for your eyes only", private=True), Reply("for everyone")]
    await slack.event(_mention("probe"))

    [ephemeral] = slack.fake.of("chat.postEphemeral")
    assert (ephemeral["channel"], ephemeral["user"]) == ("C1", PRIYA_ID)
    assert section_texts(ephemeral) == ["for your eyes only"]
    [public] = slack.fake.of("chat.postMessage")
    assert section_texts(public) == ["for everyone"]


async def test_several_replies_make_one_message(slack: SlackDriver, probe: Probe) -> None:
    probe.replies = [Reply("one"), Reply("two", private=True)]  # private is moot in a DM

    await slack.dm("probe")

    [posted] = slack.fake.of("chat.postMessage")
    assert section_texts(posted) == ["one", "two"]
    assert [b["type"] for b in posted["blocks"]] == ["section", "divider", "section"]


async def test_a_retried_delivery_is_processed_once(slack: SlackDriver) -> None:
    event = {
        "type": "message",
        "channel_type": "im",
        "channel": PRIYA_DM,
        "user": PRIYA_ID,
        "text": "who does TUPE?",
        "ts": "1700000300.000001",
    }
    first = await slack.event(event, event_id="EvSAME")
    again = await slack.event(event, event_id="EvSAME", retry=1)
    twice = await slack.event(event, event_id="EvSAME", retry=2)

    assert [first[0], again[0], twice[0]] == [200, 200, 200]
    assert len(slack.fake.of("chat.postMessage")) == 1


async def test_bot_messages_and_edits_are_ignored(slack: SlackDriver) -> None:
    await slack.dm("who does TUPE?", bot_id="BOTHER")
    await slack.dm("who does TUPE?", subtype="message_changed")

    assert slack.fake.of("chat.postMessage") == []


async def test_channel_posts_are_paced_per_channel(
    slack: SlackDriver, probe: Probe, pacer: FakePacer
) -> None:
    probe.replies = [Reply("hello")]
    for _ in range(slack_channel.PACE_BURST + 1):
        await slack.dm("probe")
    await slack.dm("probe", user=ADMIN_ID)

    assert len(slack.fake.of("chat.postMessage")) == slack_channel.PACE_BURST + 2
    assert pacer.slept == [1.0]  # the post to DPRIYA past the burst waited; DALEX did not


async def test_app_home_shows_the_home_view(slack: SlackDriver) -> None:
    await slack.event({"type": "app_home_opened", "user": PRIYA_ID, "tab": "home"})

    [published] = slack.fake.of("views.publish")
    assert published["user_id"] == PRIYA_ID
    view = published["view"]
    assert view["type"] == "home"
    assert "Hi Priya" in view["blocks"][0]["text"]["text"]
    actions = [e["action_id"] for e in action_buttons(view)]
    assert "referral.form" in actions


async def test_app_home_for_a_stranger_says_who_to_ask(slack: SlackDriver) -> None:
    await slack.event({"type": "app_home_opened", "user": "USTRANGER", "tab": "home"})

    [published] = slack.fake.of("views.publish")
    assert "I don't know" in published["view"]["blocks"][0]["text"]["text"]


async def test_the_messages_tab_does_not_publish_a_home(slack: SlackDriver) -> None:
    await slack.event({"type": "app_home_opened", "user": PRIYA_ID, "tab": "messages"})

    assert slack.fake.of("views.publish") == []


async def test_dm_turns_carry_the_event_id_and_the_dm_conversation(
    slack: SlackDriver, probe: Probe
) -> None:
    await slack.dm("probe")

    [turn] = probe.turns
    assert (turn.person, turn.conversation, turn.is_direct) == (PRIYA, f"slack:{PRIYA_DM}", True)
    assert turn.event_id and turn.event_id.startswith("Ev")
