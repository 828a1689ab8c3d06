"""Fuzzing the router: arbitrary text, actions and payloads, every reply on every channel.

Nothing may end in the generic apology (an unexpected exception); every piece of the
input that comes back is marked as data (so each adapter escapes it: see test_escaping),
and no link, mention or `<!channel>` from the input is live in Slack's or Teams' output.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.channels.console import format_reply
from bot.channels.slack_blocks import Stash, fallback_text, reply_blocks
from bot.channels.teams_cards import to_activity
from bot.context import Context
from bot.conversation import ACTIONS, handle
from bot.inbound import ID_KEYS
from bot.messages import Reply, Turn
from tests.authz import CAST

# What an attacker would type: links in both syntaxes, emphasis, code, mentions.
HOSTILE = [
    "[Re-verify your EVIL login](https://evil.example/login)",
    "<https://evil.example/x|click EVIL>",
    "*EVILBOLD*",
    "**EVILBOLD**",
    "_EVILBOLD_",
    "~EVILBOLD~",
    "`EVILBOLD`",
    "<!channel> EVIL",
    "<@U02AMG8X5TC> EVIL",
    '<a href="https://evil.example">EVIL</a>',
    "[EVIL][1]\n[1]: https://evil.example/ref",
    "\x00\x1b[2J\u202e",
]
VERBS = ["show", "accept", "decline", "park", "won", "lost", "withdraw", "submit", "form",
         "confirm", "edit", "cancel", "pick", "card", "update", "consent_go", "consent_talk",
         "mine", "client_ok", "approve", "owner_approve", "owner_anonymous", "save", "new",
         "from_referral", "list", "create", "end", "start", "reverse", "awards", "upvote",
         "to_referral", "optin", "optout", "on", "off"]  # fmt: skip
FIELDS = sorted(ID_KEYS | {"client", "receiver", "service", "note", "value", "title", "body",
                           "teams", "name_client", "card", "text", "email", "board", "name",
                           "start", "end", "reason", "preset", "offices"})  # fmt: skip
PEOPLE = [*CAST.values(), "nobody@elsewhere.example", ""]
COMMANDS = ["", "/refer ", "/story ", "/idea ", "/whodoes ", "/crossbot ", "refer: ",
            "/campaign reverse #", "story: ", "who looks after "]  # fmt: skip

hostile_text = st.one_of(
    st.text(max_size=60),
    st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=12)), max_size=4).map(" ".join),
)
values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    hostile_text,
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
)
turns = st.builds(
    lambda person, prefix, text, action, payload: Turn(
        person=person, text=prefix + text, action=action, payload=payload
    ),
    st.sampled_from(PEOPLE),
    st.sampled_from(COMMANDS),
    hostile_text,
    st.one_of(
        st.none(),
        st.sampled_from(sorted(ACTIONS)),
        st.builds(
            lambda p, v: f"{p.split('.')[0]}.{v}",
            st.sampled_from(sorted(ACTIONS)),
            st.sampled_from(VERBS),
        ),
        st.text(max_size=20),
    ),
    st.dictionaries(st.sampled_from(FIELDS), values, max_size=5),
)

_SLACK_LIVE = re.compile(r"<https?://evil|<!channel>|<@U")
_TEAMS_LIVE = re.compile(r"\]\(https?://evil|<a href|\]\[1\]|\[1\]: https://evil")
MARK = "EVIL"


def rendered_everywhere(reply: Reply) -> tuple[str, str, str]:
    """What each platform renders as markup: Slack blocks and notification text, a Teams
    activity; button payloads and form inputs' values are data the platform never renders."""
    slack = _shown([reply_blocks(reply, Stash()), fallback_text([reply])])
    teams = _shown(to_activity(reply).serialize())
    return slack, teams, format_reply(reply)


def _shown(message: Any) -> str:
    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k not in ("value", "data")}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    return json.dumps(strip(message), ensure_ascii=False)


def check(ctx: Context, turn: Turn) -> None:
    replies = handle(turn, ctx)
    assert replies and all(isinstance(r, Reply) for r in replies)
    assert [r.kind for r in replies if r.kind == "error"] == [], turn
    for reply in replies:
        assert unmarked(reply.text) == [], (turn, reply.text)
        for fact in reply.facts:  # facts are data unless rendered
            assert unmarked(fact.value, plain_is_data=True) == [], (turn, fact)
        slack, teams, _console = rendered_everywhere(reply)
        assert not _SLACK_LIVE.search(slack), (turn, slack)
        assert not _TEAMS_LIVE.search(teams), (turn, teams)


def unmarked(text: str, plain_is_data: bool = False) -> list[int]:
    """Where input (the MARK) appears in the text outside a data span."""
    spans = getattr(text, "spans", None)
    if spans is None:
        spans = [(0, len(text))] if plain_is_data else []
    found = [m.start() for m in re.finditer(MARK, text)]
    return [at for at in found if not any(a <= at < b for a, b in spans)]


def _fuzz(examples: int) -> Any:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


@_fuzz(200)
@given(turn=turns)
def test_any_turn_gets_a_safe_answer(ctx: Context, clock, turn: Turn) -> None:
    check(ctx, turn)


@pytest.mark.slow
@_fuzz(4000)
@given(turn=turns)
def test_any_turn_gets_a_safe_answer_many_times(ctx: Context, clock, turn: Turn) -> None:
    check(ctx, turn)
