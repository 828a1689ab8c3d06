"""Win stories: submitted by anyone, published by ambassadors, clients anonymous by default.

A story is published once two things are true: an ambassador or admin has approved it
(an ambassador's own story is approved by posting it), and, if the author asked to name
the client, the client's relationship owner has answered (Approve or Keep anonymous).
Until then it is `pending`. Publishing awards campaign points in the same transaction.
A story that keeps its client anonymous may not name any client (`bot/story_privacy.py`),
and a published story its author changes goes back for review.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from bot import campaigns, story_privacy
from bot.money import currency_of, firm_currency, is_currency
from bot.people import owner_of_client
from bot.render import render
from bot.store import locked
from bot.store.models import Client, Person, Referral, Story, Team

REVIEWER_ROLES = frozenset({"ambassador", "admin"})
TITLE_MAX = 120
BODY_MAX = 3000
_VALUE = re.compile(
    r"^\s*(?P<symbol>[£$€]|(?:us|au|a|ca|c|nz|s|hk)\$)?\s*(?P<amount>\d[\d,]*(?:\.\d+)?)\s*"
    r"(?P<scale>k|mm|m|bn)?\s*(?P<code>[a-z]{3})?\s*$",
    re.I,
)
_SCALES = {"k": 1_000, "m": 1_000_000, "mm": 1_000_000, "bn": 1_000_000_000}


class StoryError(Exception):
    """Something to tell the person, by template name and its data."""

    suggestion: tuple[str, str] | None = None  # a title and text to offer instead

    def __init__(self, code: str, **data: object) -> None:
        super().__init__(code)
        self.code = code
        self.data = data


@dataclass
class Draft:
    """What a story form holds before it becomes a `Story`."""

    title: str = ""
    body: str = ""
    teams: list[str] = field(default_factory=list)
    referral_id: int | None = None
    value: float | None = None
    currency: str | None = None
    name_client: bool = False


@dataclass
class Outcome:
    """What happened to a story, so the dialogue knows whom to tell."""

    story: Story
    published: bool = False
    ask_owner: Person | None = None  # the relationship owner to ask about naming the client
    needs_review: bool = False
    back_to_review: bool = False  # a published story edited by its author
    reviewer: Person | None = None  # who approved it before the edit


def is_reviewer(person: Person) -> bool:
    return person.role in REVIEWER_ROLES


def may_manage(person: Person, story: Story) -> bool:
    """Authors and admins may edit or withdraw a story."""
    return person.is_admin or story.author_id == person.id


# -- parsing what people type -------------------------------------------------------------


def parse_value(text: str) -> tuple[float | None, str | None]:
    """'£20k' → (20000.0, 'GBP'); '' → (None, None); anything else raises StoryError.

    A bare amount is in the firm's currency, and "$" is the firm's dollar (`bot.money`).
    """
    if not text or not text.strip():
        return None, None
    match = _VALUE.match(text)
    if not match:
        raise StoryError("story_bad_value", value=text.strip())
    amount = float(match["amount"].replace(",", "")) * _SCALES.get(
        (match["scale"] or "").lower(), 1
    )
    home = firm_currency()
    currency = currency_of(match["code"] or match["symbol"], home) or home
    if match["code"] and not is_currency(match["code"].upper()):
        raise StoryError("story_bad_value", value=text.strip())
    return amount, currency


def parse_teams(session: Session, text: str | list[str]) -> list[str]:
    """Team names from 'Tax, Audit & Advisory', matched case-insensitively to known teams."""
    known = {t.name.casefold(): t.name for t in session.exec(select(Team))}
    parts = text if isinstance(text, list) else re.split(r"\s*[,;\n]\s*|\s+and\s+", text)
    teams: list[str] = []
    unknown: list[str] = []
    for part in (p.strip() for p in parts):
        if not part:
            continue
        name = known.get(part.casefold()) or _prefix_match(known, part)
        if name is None:
            unknown.append(part)
        elif name not in teams:
            teams.append(name)
    if unknown:
        raise StoryError("story_unknown_teams", unknown=unknown, known=sorted(known.values()))
    return teams


def _prefix_match(known: dict[str, str], part: str) -> str | None:
    hits = [name for key, name in known.items() if key.startswith(part.casefold())]
    return hits[0] if len(hits) == 1 else None


def teams_mentioned(session: Session, text: str) -> list[str]:
    """Known team names that appear in free text (to prefill the form)."""
    lowered = text.casefold()
    return sorted(
        t.name
        for t in session.exec(select(Team))
        if re.search(rf"\b{re.escape(t.name.casefold())}\b", lowered)
    )


def title_from(text: str) -> str:
    """A title from the first sentence of a story typed in chat."""
    first = re.split(r"(?<=[.!?])\s|\n", text.strip(), maxsplit=1)[0].rstrip(".")
    return first if len(first) <= TITLE_MAX else first[: TITLE_MAX - 1].rstrip() + "…"


def validate(draft: Draft) -> None:
    if not draft.title.strip():
        raise StoryError("story_missing", field="title")
    if not draft.body.strip():
        raise StoryError("story_missing", field="body")
    if len(draft.title) > TITLE_MAX:
        raise StoryError("story_too_long", field="title", limit=TITLE_MAX)
    if len(draft.body) > BODY_MAX:
        raise StoryError("story_too_long", field="body", limit=BODY_MAX)
    if not draft.teams:
        raise StoryError("story_missing", field="teams")
    if draft.value is not None and draft.value < 0:
        raise StoryError("story_bad_value", value=str(draft.value))


# -- the client, named or not ---------------------------------------------------------------


def client_label(client: Client | None, story: Story) -> str:
    """The client's name if the owner approved naming it, else a generic description."""
    if client is None:
        return render("story_client_description", sector="")
    if story.name_client and story.client_approval == "approved":
        return client.name
    return render("story_client_description", sector=client.sector.strip().lower())


def owner_of(session: Session, story: Story) -> Person | None:
    client = session.get(Client, story.client_id) if story.client_id else None
    return owner_of_client(session, client)


def _content(story: Story) -> tuple[object, ...]:
    """What readers of a published story see, to tell whether an edit changed it."""
    return (story.title, story.body, tuple(story.teams), story.value, story.currency)


def _check_privacy(session: Session, story: Story) -> None:
    """Refuse a story naming a client it may not name, offering it back without the names."""
    check = story_privacy.check_story(session, story)
    if not check.passed:
        problem = StoryError("story_names_client", names=check.names, sentences=check.sentences)
        problem.suggestion = (check.title, check.body)
        raise problem


# -- the life of a story ------------------------------------------------------------------


def draft_from_referral(session: Session, referral_id: int, person: Person) -> Draft:
    """A draft prefilled from a won referral the person took part in (or an admin)."""
    referral = _visible_referral(session, referral_id, person)
    if referral.status != "won":
        raise StoryError("story_referral_not_won", referral=referral_id, status=referral.status)
    teams = [t for t in dict.fromkeys([referral.referrer_team, referral.receiver_team]) if t]
    return Draft(
        title=render("story_title_from_referral", teams=teams),
        teams=teams,
        referral_id=referral.id,
        value=referral.won_value if referral.won_value is not None else referral.value,
        currency=referral.currency,
    )


def _visible_referral(session: Session, referral_id: int, person: Person) -> Referral:
    """A referral the person may link a story to: a party, its teams' ambassador, an admin."""
    referral = session.get(Referral, referral_id)
    client = session.get(Client, referral.client_id) if referral else None
    parties = {referral.referrer_id, referral.receiver_id} if referral else set()
    if client is not None and client.owner_id:
        parties.add(client.owner_id)
    # The teams' ambassadors tell their wins (the close-the-loop nudge asks them to).
    teams = (referral.referrer_team, referral.receiver_team) if referral else ()
    ambassador = person.role == "ambassador" and person.team in teams
    if referral is None or (person.id not in parties and not person.is_admin and not ambassador):
        raise StoryError("story_no_referral", referral=referral_id)
    return referral


def submit(session: Session, author: Person, draft: Draft, now: datetime) -> Outcome:
    """Save a new story; publish it at once if nothing needs waiting for."""
    assert author.id is not None
    validate(draft)
    _check_repeat(session, author, draft)
    story = Story(author_id=author.id, title=draft.title.strip(), body=draft.body.strip())
    _apply(session, story, draft, author)
    story.created_at = now
    if is_reviewer(author):
        story.reviewed_by_id = author.id
    session.add(story)
    session.flush()
    owner = _ask_about_naming(session, story, author)
    _check_privacy(session, story)
    published = _publish_if_ready(session, story, now)
    return Outcome(story, published, owner, needs_review=story.reviewed_by_id is None)


def _check_repeat(session: Session, author: Person, draft: Draft) -> None:
    """The same story posted twice (a form sent again, on any replica) is saved once: the
    author's row is locked, so the second finds the first."""
    locked(session, Person, author.id)
    same = session.exec(
        select(Story.id).where(
            Story.author_id == author.id,
            Story.title == draft.title.strip(),
            Story.body == draft.body.strip(),
            col(Story.status).in_(["pending", "published"]),
        )
    ).first()
    if same is not None:
        raise StoryError("story_already_saved", story=same)


def edit(session: Session, story_id: int, editor: Person, draft: Draft, now: datetime) -> Outcome:
    """Change a story (its author, an admin, or a reviewer while it waits for review)."""
    story = _story(session, story_id)
    reviewing = story.status == "pending" and is_reviewer(editor)
    if not (may_manage(editor, story) or reviewing):
        raise StoryError("story_not_yours", story=story_id)
    if story.status in ("withdrawn", "declined"):
        raise StoryError("story_closed", story=story_id, status=story.status)
    validate(draft)
    before = (story.client_id, story.name_client)
    words_before = _content(story)
    story.title, story.body = draft.title.strip(), draft.body.strip()
    _apply(session, story, draft, editor, keep=story.referral_id)
    if reviewing and editor.id != story.author_id:
        story.reviewed_by_id = editor.id
    back_to_review, reviewer = False, None
    if story.status == "published" and not is_reviewer(editor) and _content(story) != words_before:
        # New words have not been reviewed: off the digest until an ambassador approves them.
        reviewer = session.get(Person, story.reviewed_by_id) if story.reviewed_by_id else None
        story.status, story.reviewed_by_id, back_to_review = "pending", None, True
    owner = None
    if (story.client_id, story.name_client) != before:
        story.client_approval = "not_asked"
        owner = _ask_about_naming(session, story, editor)
    _check_privacy(session, story)
    session.add(story)
    published = _publish_if_ready(session, story, now)
    return Outcome(
        story,
        published,
        owner,
        needs_review=story.reviewed_by_id is None,
        back_to_review=back_to_review,
        reviewer=reviewer,
    )


def review(
    session: Session, story_id: int, reviewer: Person, approve: bool, now: datetime
) -> Outcome:
    """An ambassador or admin approves (publishing when ready) or declines a pending story."""
    if not is_reviewer(reviewer):
        raise StoryError("story_not_reviewer")
    story = _story(session, story_id)
    if story.status != "pending" or story.reviewed_by_id is not None:
        raise StoryError("story_already_reviewed", story=story_id, status=story.status)
    story.reviewed_by_id = reviewer.id
    if not approve:
        story.status = "declined"
        session.add(story)
        return Outcome(story)
    session.add(story)
    return Outcome(story, _publish_if_ready(session, story, now))


def owner_answer(
    session: Session, story_id: int, owner: Person, approve: bool, now: datetime
) -> Outcome:
    """The relationship owner lets the client be named, or keeps it anonymous."""
    story = _story(session, story_id)
    expected = owner_of(session, story)
    if expected is None or expected.id != owner.id:
        raise StoryError("story_not_owner", story=story_id)
    if story.client_approval != "pending":
        raise StoryError("story_owner_answered", story=story_id, approval=story.client_approval)
    story.client_approval = "approved" if approve else "declined"
    session.add(story)
    return Outcome(story, _publish_if_ready(session, story, now))


def withdraw(session: Session, story_id: int, person: Person) -> Story:
    story = _story(session, story_id)
    if not may_manage(person, story):
        raise StoryError("story_not_yours", story=story_id)
    if story.status == "withdrawn":
        raise StoryError("story_closed", story=story_id, status=story.status)
    story.status = "withdrawn"
    session.add(story)
    return story


def get(session: Session, story_id: int) -> Story:
    """A story to show (not to change: changes start from `_story`'s locked row)."""
    story = session.get(Story, story_id)
    if story is None:
        raise StoryError("story_unknown", story=story_id)
    return story


def mine(session: Session, person: Person, limit: int = 10) -> list[Story]:
    return list(
        session.exec(
            select(Story)
            .where(Story.author_id == person.id, col(Story.status).in_(["pending", "published"]))
            .order_by(col(Story.created_at).desc())
            .limit(limit)
        )
    )


def awaiting_review(session: Session, limit: int = 10) -> list[Story]:
    return list(
        session.exec(
            select(Story)
            .where(Story.status == "pending", col(Story.reviewed_by_id).is_(None))
            .order_by(col(Story.created_at))
            .limit(limit)
        )
    )


def awaiting_owner(session: Session, owner: Person) -> list[Story]:
    """Stories whose client's naming waits on this relationship owner."""
    return list(
        session.exec(
            select(Story)
            .join(Client, col(Client.id) == col(Story.client_id))
            .where(Story.client_approval == "pending", Client.owner_id == owner.id)
            .where(Story.status == "pending")
        )
    )


def published_between(session: Session, start: datetime, end: datetime) -> list[Story]:
    return list(
        session.exec(
            select(Story)
            .where(Story.status == "published")
            .where(col(Story.published_at) >= start, col(Story.published_at) < end)
            .order_by(col(Story.published_at))
        )
    )


def _story(session: Session, story_id: int) -> Story:
    """The story about to change, locked and read afresh (`bot.store.locked`): a second press
    of the same button, on any replica, finds the change made and is refused."""
    story = locked(session, Story, story_id)
    if story is None:
        raise StoryError("story_unknown", story=story_id)
    return story


def _apply(
    session: Session, story: Story, draft: Draft, person: Person, keep: int | None = None
) -> None:
    story.teams = list(draft.teams)
    story.value, story.currency = draft.value, draft.currency if draft.value is not None else None
    story.referral_id = draft.referral_id
    story.client_id = None
    if draft.referral_id is not None:
        # A reviewer editing keeps the author's link; a new link needs the right to see it.
        if draft.referral_id == keep:
            referral = session.get(Referral, draft.referral_id)
        else:
            referral = _visible_referral(session, draft.referral_id, person)
        story.client_id = referral.client_id if referral else None
    story.name_client = bool(draft.name_client and story.client_id)


def _ask_about_naming(session: Session, story: Story, asker: Person) -> Person | None:
    """Mark the client approval pending and return the owner to ask (None if not needed)."""
    if not story.name_client:
        story.client_approval = "not_asked"
        return None
    owner = owner_of(session, story)
    if owner is None or not owner.active:
        # Nobody can approve naming the client: it stays anonymous.
        story.name_client, story.client_approval = False, "not_asked"
        return None
    if owner.id == asker.id:
        story.client_approval = "approved"  # the owner asked to name their own client
        return None
    story.client_approval = "pending"
    return owner


def _publish_if_ready(session: Session, story: Story, now: datetime) -> bool:
    ready = (
        story.status == "pending"
        and story.reviewed_by_id is not None
        and story.client_approval != "pending"
    )
    if not ready:
        return False
    story.status, story.published_at = "published", now
    session.add(story)
    session.flush()
    campaigns.award_for_story(session, story, now)
    return True
