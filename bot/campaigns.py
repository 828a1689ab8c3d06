"""Cross-selling weeks: campaigns, the points ledger, ideas and leaderboards.

The referral, story and idea modules call the `award_for_*` functions inside their own
transactions, so a point is written in the same transaction as the event that earned it.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.store.models import Idea, PointEvent, Referral, ReferralEvent, Story


def award_for_referral_event(
    session: Session, referral: Referral, event: ReferralEvent, now: datetime
) -> list[PointEvent]:
    """Points earned by a referral's change of status, if a campaign is running."""
    return []


def award_for_story(session: Session, story: Story, now: datetime) -> list[PointEvent]:
    """Points for a story when it is published, if a campaign is running."""
    return []


def award_for_idea(session: Session, idea: Idea, now: datetime) -> list[PointEvent]:
    """Points for a new idea, if a campaign is running."""
    return []
