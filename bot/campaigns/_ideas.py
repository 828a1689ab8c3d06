"""Ideas: a light reading of the text, recording, listing, upvotes, turning into a referral."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.campaigns._ledger import award_for_idea
from bot.campaigns._lifecycle import latest_campaign, running_campaign
from bot.campaigns._rules import CampaignError
from bot.store.models import (
    Campaign,
    Client,
    Idea,
    IdeaVote,
    Person,
    PointEvent,
    ServiceCard,
)


@dataclass
class ParsedIdea:
    client_name: str = ""
    card_id: str | None = None
    why_now: str = ""


_WHY = re.compile(
    r"\b(because|as|since|now that|given that|after|following)\b\s+(.+)$", re.I | re.S
)
_CAPITALISED = re.compile(r"\b([A-Z][\w&'.-]*(?:\s+(?:&\s+)?[A-Z][\w&'.-]*)*)")
_NOT_CLIENTS = frozenset(
    "I We They It R&D VAT The A An Idea Maybe Perhaps What How Why If Our My Their Should "
    "Could Might Think Just So".split()
)


def parse_idea(session: Session, text: str) -> ParsedIdea:
    """Light reading of an idea: the client (known or capitalised), the service, why now."""
    idea = ParsedIdea()
    why = _WHY.search(text)
    if why:
        idea.why_now = why.group(2).strip().rstrip(".")
    head = text[: why.start()] if why else text
    lowered = head.casefold()
    for client in session.exec(select(Client).where(col(Client.retired).is_(False))):
        if any(n and re.search(rf"\b{re.escape(n.casefold())}\b", lowered) for n in _names(client)):
            idea.client_name = client.name
            break
    if not idea.client_name:
        for match in _CAPITALISED.finditer(head):
            words = match.group(1).split()
            while words and words[0] in _NOT_CLIENTS:
                words.pop(0)
            if words:
                idea.client_name = " ".join(words)
                break
    idea.card_id = _best_card(session, head)
    return idea


def _names(client: Client) -> list[str]:
    return [client.name, *client.aliases]


_STOPWORDS = frozenset("and the for with of to a an in on our their".split())


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9&]+", text.casefold()) if w not in _STOPWORDS}


def _best_card(session: Session, text: str) -> str | None:
    """The card whose title words and aliases the idea mentions most (ties: longest alias)."""
    lowered, words = text.casefold(), _words(text)
    best: tuple[int, int, str] | None = None
    cards = session.exec(select(ServiceCard).where(col(ServiceCard.retired).is_(False)))
    for card in cards:
        aliases = [
            a for a in card.aliases if a and re.search(rf"\b{re.escape(a.casefold())}\b", lowered)
        ]
        title_hits = len(words & _words(card.title))
        score = (2 * title_hits + len(aliases), max((len(a) for a in aliases), default=0))
        if score[0] and (best is None or score > best[:2]):
            best = (*score, card.id)
    return best[2] if best else None


def record_idea(
    session: Session, author: Person, text: str, now: datetime
) -> tuple[Idea, list[PointEvent]]:
    """Save an idea (for the running campaign, if any) and award its points."""
    text = " ".join(text.split())
    if len(text) < 10:
        raise CampaignError("idea_too_short")
    assert author.id is not None
    parsed = parse_idea(session, text)
    campaign = running_campaign(session, now)
    idea = Idea(
        campaign_id=campaign.id if campaign else None,
        author_id=author.id,
        text=text[:1000],
        client_name=parsed.client_name,
        card_id=parsed.card_id,
        why_now=parsed.why_now,
        created_at=now,
    )
    session.add(idea)
    session.flush()
    return idea, award_for_idea(session, idea, now)


@dataclass
class IdeaRow:
    idea: Idea
    author: str
    votes: int
    mine: bool
    voted: bool


def list_ideas(
    session: Session, viewer: Person, now: datetime, limit: int = 10
) -> tuple[Campaign | None, list[IdeaRow]]:
    """The ideas of the running (or last) campaign, most upvoted first."""
    campaign = latest_campaign(session, now)
    votes = func.count(col(IdeaVote.id))
    query = (
        select(Idea, Person.name, votes)
        .join(Person, col(Person.id) == Idea.author_id)
        .outerjoin(IdeaVote, col(IdeaVote.idea_id) == Idea.id)
        .group_by(col(Idea.id), col(Person.name))
        .order_by(votes.desc(), col(Idea.created_at).desc())
        .limit(limit)
    )
    if campaign is not None:
        query = query.where(Idea.campaign_id == campaign.id)
    mine_voted = set(session.exec(select(IdeaVote.idea_id).where(IdeaVote.person_id == viewer.id)))
    rows = [
        IdeaRow(idea, name, int(count), idea.author_id == viewer.id, idea.id in mine_voted)
        for idea, name, count in session.exec(query).all()
    ]
    return campaign, rows


def upvote(session: Session, idea_id: int, voter: Person, now: datetime) -> Idea:
    """One vote per person per idea; your own ideas need other people's votes."""
    idea = session.get(Idea, idea_id)
    if idea is None:
        raise CampaignError("no_such_idea", idea_id=idea_id)
    if idea.author_id == voter.id:
        raise CampaignError("own_idea")
    assert voter.id is not None
    existing = session.exec(
        select(IdeaVote.id).where(IdeaVote.idea_id == idea_id, IdeaVote.person_id == voter.id)
    ).first()
    if existing is not None:
        raise CampaignError("already_voted")
    try:
        with session.begin_nested():
            session.add(IdeaVote(idea_id=idea_id, person_id=voter.id, at=now))
    except IntegrityError as exc:
        raise CampaignError("already_voted") from exc
    return idea


def idea_votes(session: Session, idea_id: int) -> int:
    return int(
        session.exec(select(func.count(col(IdeaVote.id))).where(IdeaVote.idea_id == idea_id)).one()
    )


def idea_referral_prefill(session: Session, idea_id: int, person: Person) -> dict[str, Any]:
    """What the referral flow starts from when an idea becomes a referral.

    Only the idea's author, an ambassador or an admin may do it; an idea already turned
    into a referral is not turned again.
    """
    idea = session.get(Idea, idea_id)
    if idea is None:
        raise CampaignError("no_such_idea", idea_id=idea_id)
    if idea.author_id != person.id and person.role not in ("ambassador", "admin"):
        raise CampaignError("not_yours")
    if idea.referral_id is not None:
        raise CampaignError("already_referred", idea_id=idea_id)
    return {"text": idea.text, "card": idea.card_id, "client": idea.client_name, "idea": idea.id}
