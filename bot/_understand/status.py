"""Referral lifecycle sentences: 'we won Acme, £18k', 'Acme went elsewhere on price'."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot._understand.amounts import Amount, parse_amount
from bot._understand.clients import _CAP_PHRASE, _is_not_a_client, _known_clients, _trim_phrase
from bot._understand.directory import Directory
from bot._understand.referral import normalise


@dataclass
class StatusUpdate:
    """A referral lifecycle sentence: "we won Acme, £18k" → client, status, value, reason."""

    client: str | None
    status: str
    value: float | None = None
    currency: str | None = None
    reason: str | None = None
    client_known: bool = False


_STATUS_PATTERNS = {
    # negations first: "didn't win" is lost, "won't" is not won
    "lost": r"\b(?:lost|lose|declined|turned\s+(?:us\s+)?down|went\s+(?:elsewhere|with\s+"
    r"(?:another|a\s+different|a\s+cheaper|someone|their)\b)|chose\s+(?:another|a\s+"
    r"different|a\s+cheaper|someone\s+else)|didn['’]?t\s+(?:get|win|go\s+ahead|proceed)|"
    r"(?:not|isn['’]?t|aren['’]?t)\s+(?:going\s+ahead|proceeding)|fell\s+through|no\s+go|"
    r"passed\s+on\s+it)\b",
    "won": r"\b(?:won(?!['’]t)|signed(?:\s+up)?|instructed\s+us|landed|got\s+(?:it|the\s+"
    r"(?:work|job|mandate|instruction))|engagement\s+letter\s+signed|we['’]re\s+instructed)\b",
    "meeting": r"\b(?:meeting|call|intro(?:duction)?|coffee|lunch)\s+(?:is\s+)?(?:booked|set"
    r"(?:\s+up)?|arranged|scheduled|fixed|in\s+the\s+diary)|\b(?:booked|arranged|scheduled|"
    r"set\s+up)\s+(?:a\s+|the\s+)?(?:meeting|call)|\bmeeting\s+(?:with|on)\b|\bmet\s+with\b",
    "proposal": r"\b(?:proposal|pitch|quote|fee\s+(?:estimate|proposal)|engagement\s+letter)\s+"
    r"(?:sent|submitted|out|went\s+out|is\s+out)|\bsent\s+(?:a|the|our)\s+"
    r"(?:proposal|quote|pitch|fee\s+estimate|engagement\s+letter)",
    "accepted": r"\b(?:accepted|i['’]?ll\s+take\s+(?:it|this|them)|on\s+it|"
    r"picked\s+(?:it\s+)?up)\b",
}
_STATUSES = [
    (name, re.compile(pattern, re.IGNORECASE)) for name, pattern in _STATUS_PATTERNS.items()
]


def parse_status_update(text: str, directory: Directory | None = None) -> StatusUpdate | None:
    """A lifecycle sentence: "Acme went well, we won it, £18k" → won, £18k.

    "we lost Acme, price" → lost with reason "price"; "meeting booked with Acme" →
    meeting. None when the text states no status. The client is a known client when a
    directory is given, else the capitalised name the sentence is about.
    """
    text = normalise(text)
    status = next((name for name, pattern in _STATUSES if pattern.search(text)), None)
    if status is None:
        return None
    directory = directory or Directory()
    amount = parse_amount(text, directory.currency)
    client: str | None = None
    known = False
    hits = _known_clients(text, directory)
    if hits:
        client, known = hits[0].name, True
    else:
        for match in _CAP_PHRASE.finditer(text):
            phrase = _trim_phrase(match.group())
            if (
                phrase
                and phrase.lower() not in {"we", "i"}
                and not _is_not_a_client(phrase, directory)
            ):
                client = phrase
                break
    update = StatusUpdate(client, status, client_known=known)
    if amount:
        update.value, update.currency = amount.value, amount.currency or directory.currency
    if status == "lost":
        update.reason = _loss_reason(text, client, amount)
    return update


def _loss_reason(text: str, client: str | None, amount: Amount | None) -> str | None:
    match = re.search(
        r"\b(?:because(?:\s+of)?|due\s+to|as|on|over|reason:?)\s+(?P<why>[^.;!?]+)",
        text,
        re.IGNORECASE,
    )
    if match:
        return match.group("why").strip(" ,")
    tail = text
    if amount:
        tail = tail[: amount.start] + tail[amount.end :]
    parts = [p.strip(" .!") for p in re.split(r"[,;:—–]|\s-\s", tail)[1:]]
    parts = [p for p in parts if p and (not client or client.lower() not in p.lower())]
    return parts[-1] if parts else None
