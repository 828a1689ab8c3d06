"""Slack's documented Block Kit limits, checked independently of the code that obeys them.

From api.slack.com/reference/block-kit (blocks, block elements, composition objects,
surfaces). `problems(payload, surface)` lists every limit a payload breaks, in words.
"""

from __future__ import annotations

from typing import Any

SURFACE_BLOCKS = {"message": 50, "modal": 100, "home": 100}
TEXT = {"section": 3000, "header": 150, "context": 2000}


def problems(payload: dict[str, Any], surface: str) -> list[str]:
    """Every documented limit `payload` (a message or a view) breaks; [] when none."""
    found: list[str] = []
    blocks = payload.get("blocks") or []
    if len(blocks) > SURFACE_BLOCKS[surface]:
        found.append(f"{len(blocks)} blocks in a {surface}")
    if surface == "message" and len(str(payload.get("text") or "")) > 40_000:
        found.append("message text over 40,000 characters")
    if surface == "modal":
        found += _view(payload)
    for n, block in enumerate(blocks):
        found += [f"block {n} ({block.get('type')}): {p}" for p in _block(block)]
    return found


def _view(view: dict[str, Any]) -> list[str]:
    found = []
    for key in ("title", "submit", "close"):
        if key in view and len(view[key]["text"]) > 24:
            found.append(f"view {key} over 24 characters")
    if len(view.get("private_metadata") or "") > 3000:
        found.append("private_metadata over 3000 characters")
    if len(view.get("callback_id") or "") > 255:
        found.append("callback_id over 255 characters")
    return found


def _text(obj: Any, limit: int, what: str) -> list[str]:
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
        return [f"{what} has no text object"]
    text = obj["text"]
    if not text.strip():
        return [f"{what} is empty"]
    return [f"{what} over {limit} characters ({len(text)})"] if len(text) > limit else []


def _block(block: dict[str, Any]) -> list[str]:
    kind = block.get("type")
    found: list[str] = []
    if len(block.get("block_id") or "") > 255:
        found.append("block_id over 255 characters")
    if kind == "section":
        if "text" not in block and "fields" not in block:
            found.append("section with neither text nor fields")
        if "text" in block:
            found += _text(block["text"], 3000, "section text")
        fields = block.get("fields") or []
        if len(fields) > 10:
            found.append(f"{len(fields)} fields")
        for field in fields:
            found += _text(field, 2000, "field")
    elif kind == "header":
        found += _text(block.get("text"), 150, "header")
    elif kind == "actions":
        elements = block.get("elements") or []
        if len(elements) > 25:
            found.append(f"{len(elements)} elements in actions")
        ids = [e.get("action_id") for e in elements if e.get("action_id")]
        if len(ids) != len(set(ids)):
            found.append("two elements with one action_id")
        for element in elements:
            found += _element(element)
    elif kind == "input":
        found += _text(block.get("label"), 2000, "input label")
        found += _element(block.get("element") or {})
    elif kind not in ("divider", "image", "context"):
        found.append(f"unexpected block type {kind}")
    return found


def _element(element: dict[str, Any]) -> list[str]:
    kind = element.get("type")
    found: list[str] = []
    if len(element.get("action_id") or "") > 255:
        found.append("action_id over 255 characters")
    if "placeholder" in element:
        found += _text(element["placeholder"], 150, "placeholder")
    if kind == "button":
        found += _text(element.get("text"), 75, "button text")
        if len(element.get("value") or "") > 2000:
            found.append("button value over 2000 characters")
        if len(element.get("url") or "") > 3000:
            found.append("button url over 3000 characters")
    elif kind == "static_select":
        options = element.get("options") or []
        if not 1 <= len(options) <= 100:
            found.append(f"{len(options)} options in a static_select")
        found += [p for option in options for p in _option(option)]
    elif kind == "external_select":
        if not 0 <= int(element.get("min_query_length", 3)) <= 10:
            found.append("odd min_query_length")
        if "initial_option" in element:
            found += _option(element["initial_option"])
    return found


def _option(option: dict[str, Any]) -> list[str]:
    found = _text(option.get("text"), 75, "option text")
    if not 1 <= len(option.get("value") or "") <= 150:
        found.append("option value not 1-150 characters")
    return found


def options_problems(answer: dict[str, Any]) -> list[str]:
    """What breaks the limits of an options-load answer (at most 100 options)."""
    options = answer.get("options") or []
    found = [f"{len(options)} options"] if len(options) > 100 else []
    return found + [p for option in options for p in _option(option)]
