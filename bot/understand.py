"""Understanding what people type: referrals, amounts and referral status updates.

`parse_referral` turns "I've introduced Acme to Priya for their TUPE issue, maybe £20k" or
"/refer Acme to priya for employment £20k" into a `ReferralDraft`: who the client is, who
receives it (a person, or a team when no one is named), which service card it is about, the
value and what is still missing. It only reports what the text says; defaults (such as the
card's main contact as receiver) are the referral lifecycle's business.

Everything works over a `Directory` (people, clients, cards and the firm's currency) built
from a catalog. Card inference goes through a `CardScorer` seam. The machinery lives in
`bot/_understand/` (amounts, names, clients, teams, cards), one module per concept.
"""

from __future__ import annotations

from bot._understand.amounts import Amount, parse_amount
from bot._understand.cards import CardScorer, KeywordCardScorer, infer_card
from bot._understand.clients import ClientMention, client_mentions, resolve_client
from bot._understand.directory import Directory, ReferralDraft
from bot._understand.referral import (
    Reading,
    looks_like_referral,
    normalise,
    parse_referral,
    read_referral,
)
from bot._understand.status import StatusUpdate, parse_status_update

__all__ = [
    "Amount",
    "CardScorer",
    "ClientMention",
    "Directory",
    "KeywordCardScorer",
    "Reading",
    "ReferralDraft",
    "StatusUpdate",
    "client_mentions",
    "infer_card",
    "looks_like_referral",
    "normalise",
    "parse_amount",
    "parse_referral",
    "parse_status_update",
    "read_referral",
    "resolve_client",
]
