"""Learning from the firm: the questions who-does couldn't answer or got wrong, and aliases.

Every who-does question is recorded with the cards offered (`record`). "Not what I needed"
marks it (`mark_missed`, `add_note`). Once a week `weekly_review` sends admins, and the
owners of the cards each question came closest to, the unanswered and wrongly answered
questions, each with one-tap "Add as an alias of ‹card›" (`accept_alias`). Learned aliases
live in their own table, so a content reload keeps them; `bot.catalog.from_store` adds
them to the cards, which is how the search index picks them up at once.

Privacy: a question's text reaches only admins and those card owners; it is never logged.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, or_
from sqlmodel import Session, col, select

from bot._search.text import stemmer
from bot.catalog import Card, Catalog
from bot.messages import Button, Reply
from bot.questions import FRAME_WORDS, alias_text, name_key, words_of
from bot.render import label, render
from bot.store import new_values
from bot.store.models import AskedQuestion, LearnedAlias, utcnow

# Answered questions nobody complained about are kept this long, then forgotten.
KEEP_ANSWERED = timedelta(days=28)
# Anything else is forgotten after this (a learned alias keeps its own copy of the words).
KEEP_ANY = timedelta(days=180)
WEEKLY_ITEMS = 15  # at most this many questions per person per week
CLOSEST = 3  # alias buttons offered per question
NOTE_CHARS = 500

_STOP = FRAME_WORDS | frozenset("and or of to in at by it its this that be my your their".split())


@dataclass(frozen=True)
class ReviewItem:
    """One question for the weekly review, with the cards it came closest to."""

    question: AskedQuestion
    cards: list[Card]


# -- recording -----------------------------------------------------------------------------


def record(
    session: Session, asker_id: int | None, question: str, cards: Sequence[str], reason: str
) -> int:
    """Keep a who-does question and what it was offered; returns its id."""
    values = {"asker_id": asker_id, "question": question, "cards": list(cards), "reason": reason}
    row = new_values(AskedQuestion, **values)
    # A Core insert, built once: every answer records one, and the ORM's flush costs more.
    asked = session.connection().execute(_INSERT_ASKED, row).scalar()
    assert asked is not None
    return int(asked)


_INSERT_ASKED = insert(AskedQuestion).returning(col(AskedQuestion.id))


def answered_since(session: Session, since: datetime) -> Counter[str]:
    """How many who-does questions each card answered since then (offered first, not missed)."""
    rows = session.exec(
        select(AskedQuestion.cards).where(
            col(AskedQuestion.feedback) != "missed", col(AskedQuestion.asked_at) >= since
        )
    ).all()
    return Counter(cards[0] for cards in rows if cards)


def asked_by(session: Session, question_id: int) -> int | None | bool:
    """Who asked the question (a person id), None if nobody recorded, False if it is gone."""
    row = session.get(AskedQuestion, question_id)
    return False if row is None else row.asker_id


def mark_missed(session: Session, question_id: int, now: datetime | None = None) -> bool:
    """Mark a question "not what I needed"; False if it is gone."""
    row = session.get(AskedQuestion, question_id)
    if row is None:
        return False
    row.feedback, row.feedback_at = "missed", now or utcnow()
    row.reported_at = None  # back on next week's list, even if a no-match was listed already
    session.add(row)
    return True


def add_note(session: Session, question_id: int, note: str) -> bool:
    """What the asker needed, in their words (marks the question missed, too)."""
    row = session.get(AskedQuestion, question_id)
    if row is None:
        return False
    if row.feedback != "missed":
        mark_missed(session, question_id)
    row.note = note.strip()[:NOTE_CHARS]
    session.add(row)
    return True


# -- aliases -------------------------------------------------------------------------------


def may_add_alias(
    session: Session, question_id: int, catalog: Catalog, email: str, is_admin: bool, card: Card
) -> bool:
    """Admins may add any question as an alias of any card. An owner may add it to a card
    of theirs if the question came to them: it came closest to a card they own."""
    if is_admin:
        return True
    row = session.get(AskedQuestion, question_id)
    if row is None or email not in card.owners:
        return False
    return any(email in c.owners for c in closest(row, catalog))


def accept_alias(
    session: Session, question_id: int, card_id: str, person_id: int | None
) -> str | None:
    """Add the question as an alias of the card; the alias, or None if the question is gone.

    Pressing twice, or two people accepting the same words, adds it once."""
    row = session.get(AskedQuestion, question_id)
    if row is None:
        return None
    alias = alias_text(row.question)
    key = name_key(alias) or alias.casefold()
    exists = session.exec(
        select(LearnedAlias).where(LearnedAlias.card_id == card_id, LearnedAlias.key == key)
    ).first()
    if exists is None:
        session.add(LearnedAlias(card_id=card_id, alias=alias, key=key, added_by_id=person_id))
    row.resolved_at = utcnow()
    session.add(row)
    return alias if exists is None else exists.alias


def learned_aliases(session: Session) -> dict[str, list[str]]:
    """card id -> the aliases learned for it, oldest first."""
    found: dict[str, list[str]] = defaultdict(list)
    rows = session.exec(select(LearnedAlias).order_by(col(LearnedAlias.id)))
    for row in rows:
        found[row.card_id].append(row.alias)
    return dict(found)


def aliases_export(catalog: Catalog, learned: dict[str, list[str]]) -> list[dict[str, object]]:
    """Per card with learned aliases: what to paste into its card file's `aliases:`
    (`catalog` read from the store, so its cards' aliases include the learned ones)."""
    rows: list[dict[str, object]] = []
    for card in catalog.cards:
        if card.id in learned:
            # The catalog's aliases already end with the learned ones (see from_store).
            rows.append(
                {
                    "card": card.id,
                    "title": card.title,
                    "learned": list(learned[card.id]),
                    "aliases": list(card.aliases),
                }
            )
    return rows


# -- the weekly review ---------------------------------------------------------------------


def review_items(session: Session, now: datetime, catalog: Catalog) -> list[ReviewItem]:
    """Questions not yet reviewed: no match (for a reason other than an empty question),
    or marked "not what I needed"; each with the cards it came closest to."""
    rows = session.exec(
        select(AskedQuestion)
        .where(col(AskedQuestion.reported_at).is_(None), col(AskedQuestion.resolved_at).is_(None))
        .where(col(AskedQuestion.asked_at) <= now)
        .where(
            or_(
                col(AskedQuestion.feedback) == "missed",
                col(AskedQuestion.reason).notin_(["", "empty"]),
            )
        )
        .order_by(col(AskedQuestion.asked_at))
    ).all()
    ranker = _Closest(catalog.cards) if any(not r.cards or r.note for r in rows) else None
    return [ReviewItem(row, closest(row, catalog, ranker)) for row in rows]


def closest(row: AskedQuestion, catalog: Catalog, ranker: _Closest | None = None) -> list[Card]:
    """The cards a question came closest to: the nearest to what the asker said they
    needed, if they said, then those offered (or, for a no-match, the nearest by its words)."""
    by_id = {c.id: c for c in catalog.cards}
    offered = [by_id[c] for c in row.cards if c in by_id]
    if not offered or row.note:
        ranker = ranker or _Closest(catalog.cards)
    wanted = ranker.rank(row.note)[:1] if ranker and row.note else []
    found = wanted + (offered or (ranker.rank(row.question) if ranker else []))
    return list(dict.fromkeys(found))[:CLOSEST]


def weekly_review(session: Session, now: datetime, catalog: Catalog) -> list[Reply]:
    """The week's review as replies addressed to admins and card owners; marks it sent."""
    items = review_items(session, now, catalog)
    admins = [p.email for p in catalog.people if p.role == "admin"]
    people = {p.email for p in catalog.people}
    per_person: dict[str, list[tuple[ReviewItem, list[Card]]]] = defaultdict(list)
    for item in items:
        for email in admins:
            per_person[email].append((item, item.cards))
        owners = {e for card in item.cards for e in card.owners if e in people}
        for email in sorted(owners - set(admins)):
            mine = [c for c in item.cards if email in c.owners]
            per_person[email].append((item, mine))
    titles = {c.id: c.title for c in catalog.cards}
    replies: list[Reply] = []
    for email, found in per_person.items():
        replies += _review_replies(email, found, email in admins, titles)
    for item in items:
        item.question.reported_at = now
        session.add(item.question)
    _forget_old(session, now)
    return replies


def _review_replies(
    email: str,
    found: list[tuple[ReviewItem, list[Card]]],
    is_admin: bool,
    titles: dict[str, str],
) -> list[Reply]:
    shown = found[:WEEKLY_ITEMS]
    replies = [
        Reply(
            render("learn_weekly_intro", count=len(found), shown=len(shown), is_admin=is_admin),
            to_person=email,
            kind="learn_weekly_intro",
        )
    ]
    for item, cards in shown:
        question = item.question
        replies.append(
            Reply(
                render(
                    "learn_weekly_item",
                    question=question.question,
                    missed=question.feedback == "missed",
                    note=question.note,
                    reason=question.reason,
                    offered=[titles[c] for c in question.cards if c in titles],
                    closest=[c.title for c in cards],
                ),
                buttons=[
                    Button(
                        f"Add as an alias of {card.title}",
                        "learn.alias",
                        {"question": question.id, "card": card.id},
                    )
                    for card in cards
                ]
                + [Button(label("another_card"), "learn.pick", {"question": question.id})],
                to_person=email,
                kind="learn_weekly_item",
            )
        )
    return replies


def _forget_old(session: Session, now: datetime) -> None:
    """Keep questions only as long as they can teach something."""
    session.exec(  # type: ignore[call-overload]
        delete(AskedQuestion)
        .where(col(AskedQuestion.asked_at) < now - KEEP_ANSWERED)
        .where(col(AskedQuestion.reason).in_(["", "empty"]), col(AskedQuestion.feedback) == "")
    )
    session.exec(  # type: ignore[call-overload]
        delete(AskedQuestion).where(col(AskedQuestion.asked_at) < now - KEEP_ANY)
    )


class _Closest:
    """The cards a question that found no match came closest to: the rarer the question's
    words a card contains (in its title, aliases and what-we-do), the closer it is."""

    def __init__(self, cards: Sequence[Card]):
        self.cards = list(cards)
        self.words = [set(_stems(_card_text(card))) for card in self.cards]
        counts = Counter(w for words in self.words for w in words)
        total = len(self.cards)
        self.idf = {w: math.log(1 + total / n) for w, n in counts.items()}

    def rank(self, question: str) -> list[Card]:
        asked = set(_stems(question))
        scored = [
            (sum(self.idf[w] for w in asked & words), n) for n, words in enumerate(self.words)
        ]
        best = sorted((s for s in scored if s[0] > 0), key=lambda s: (-s[0], s[1]))
        return [self.cards[n] for _, n in best[:CLOSEST]]


def _card_text(card: Card) -> str:
    parts = [card.title, card.team, *card.aliases, card.section("what_we_do")]
    return " ".join(parts + [card.section("situations")])


def _stems(text: str) -> list[str]:
    kept = [w for w in words_of(text) if w not in _STOP and len(w) >= 3]
    return list(stemmer().stemWords(kept))
