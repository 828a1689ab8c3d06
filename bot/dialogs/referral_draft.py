"""The referral being put together in chat, before the referrer confirms it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from bot.money import Money
from bot.referrals import NewReferral
from bot.understand import ReferralDraft


@dataclass
class Draft:
    """What is known so far; kept in the dialogue state as JSON (`to_dict` / `from_dict`)."""

    client: str | None = None
    receiver: str | None = None  # email
    candidates: list[str] = field(default_factory=list)  # several people fit the name
    team: str | None = None  # sent to a team: its card's main contact receives it
    card: str | None = None
    card_asked: bool = False
    value: float | None = None
    currency: str | None = None
    note: str = ""
    self_named: bool = False  # the referrer named themselves (said so when asking again)
    duplicate: int | None = None  # the id of the referral this one repeats
    confirmation: str | None = None  # one key per confirmation: pressed twice, saved once

    @classmethod
    def parsed(cls, parsed: ReferralDraft, note: str = "") -> Draft:
        """A draft from what the parser read in a sentence."""
        return cls(
            client=parsed.client,
            receiver=parsed.receiver,
            candidates=list(parsed.receiver_candidates),
            team=parsed.receiver_team,
            card=parsed.card,
            value=parsed.value,
            currency=parsed.currency,
            note=note,
        )

    @property
    def estimate(self) -> Money | None:
        """The value the referrer put on it (kept as two fields: the dialogue state's form)."""
        return Money(self.value, self.currency) if self.value is not None else None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Draft:
        """The draft kept in the dialogue state; unknown keys (an older version's) are dropped."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def to_new(self) -> NewReferral:
        """What the referrer confirmed, for `referrals.create` (client and receiver are set)."""
        assert self.client is not None and self.receiver is not None
        return NewReferral(
            client=self.client,
            receiver=self.receiver,
            card=self.card,
            estimate=self.estimate,
            note=self.note,
            confirmation=self.confirmation,
        )
