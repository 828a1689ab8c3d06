"""One dispatch contract: every button's action id is a key of the router's table."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot import conversation
from bot.dialogs import DuplicateHandler, merge
from bot.messages import Reply

BOT = Path(__file__).resolve().parent.parent / "bot"


def _answer(turn: object, ctx: object, me: object) -> list[Reply]:
    return []


def test_an_action_id_claimed_twice_is_refused() -> None:
    with pytest.raises(DuplicateHandler, match="referral.consent_go"):
        merge({"referral.consent_go": _answer}, {"referral.consent_go": _answer})
    assert set(merge({"a.x": _answer}, {"a.y": _answer})) == {"a.x", "a.y"}


def _action_ids(call: ast.Call) -> list[ast.expr]:
    """The action id given to `Button(label, action)` or `Form(title, submit_action)`."""
    name = getattr(call.func, "id", getattr(call.func, "attr", ""))
    keyword = {"Button": "action", "Form": "submit_action"}.get(name)
    if keyword is None:
        return []
    found = [k.value for k in call.keywords if k.arg == keyword]
    return found or call.args[1:2]


def _buttons_in_code() -> list[tuple[str, ast.expr]]:
    found = []
    for path in sorted(BOT.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                found += [(f"{path.name}:{node.lineno}", arg) for arg in _action_ids(node)]
    return found


def test_every_button_in_the_code_names_a_handler_by_its_full_literal_id() -> None:
    buttons = _buttons_in_code()
    assert len(buttons) > 40  # the scan sees the buttons
    adapter_own = {"slack.open_form"}  # Slack opens its modal itself, before any turn
    missing = [
        where
        for where, arg in buttons
        if isinstance(arg, ast.Constant)
        and arg.value not in conversation.ACTIONS
        and arg.value not in adapter_own
    ]
    computed = [where for where, arg in buttons if isinstance(arg, ast.JoinedStr)]
    assert missing == [] and computed == []


def test_an_unknown_action_id_is_answered_kindly(chat) -> None:
    [reply] = chat("priya.shah@hartwellfinch.example").press("referral.nonsense", {"id": 1})
    assert reply.kind == "unknown_action"


def test_handlers_that_never_answer_are_not_in_the_tables() -> None:
    handlers = [*conversation.FLOWS.values(), *conversation.MESSAGE_HANDLERS]
    names = {f"{h.__module__}.{h.__name__}" for h in handlers}
    assert "bot.dialogs.story.on_message" not in names
    assert "bot.dialogs.story.continue_flow" not in names
    assert "bot.dialogs.campaign.continue_flow" not in names
