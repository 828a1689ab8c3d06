"""Search-backed options for form fields with more choices than a menu holds.

A platform that loads a menu's options as the person types (Slack's `external_select`)
asks `conversation.choices_for(source, query, ctx)`; the sources are here. Cards whose
title, alias or id contains every word typed (type-ahead); when none does, the cards the
search index finds for the words (so "dismissal" finds Employment); at most `LIMIT`.
"""

from __future__ import annotations

from bot.catalog import Card
from bot.context import Context
from bot.dialogs.whodoes import build_index

LIMIT = 100  # Slack shows at most 100 options


def cards(ctx: Context, query: str) -> list[tuple[str, str]]:
    """(card id, title) of the cards that match `query`; the first `LIMIT` by title if empty."""
    catalog = ctx.catalog()
    ordered = sorted(catalog.cards, key=lambda c: c.title.casefold())
    words = query.casefold().split()
    if not words:
        return [(c.id, c.title) for c in ordered[:LIMIT]]
    found = [c for c in ordered if _names_all(c, words)]
    if not found:  # nothing named so: what the search index finds for the words
        index = ctx.cached("search_index", lambda cat: build_index(cat, ctx.settings.content_dir))
        found = [m.card for m in index.search(query, limit=LIMIT).matches]
    return [(c.id, c.title) for c in found[:LIMIT]]


def _names_all(card: Card, words: list[str]) -> bool:
    names = " ".join((card.title, *card.aliases, card.id)).casefold()
    return all(word in names for word in words)
