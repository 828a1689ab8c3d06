"""Reading a referral from a sentence or a `/refer` command, and telling one from a question."""

from __future__ import annotations

import copy
import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

from bot._understand.amounts import Amount, amounts, parse_amount
from bot._understand.cards import (
    MIN_EVIDENCE,
    CardScorer,
    _default_scorer,
    best_card,
    contenders,
)
from bot._understand.clients import _ClientHit, _loose, _referral_client, resolve_client
from bot._understand.directory import Directory, ReferralDraft
from bot._understand.names import (
    _EMAIL,
    _SLACK_MENTION,
    _find_people,
    _Mention,
    may_name_a_person,
)
from bot._understand.teams import _bare_team, _find_team, _TeamHit, may_name_a_team

_SLASH = re.compile(r"^\s*/refer(?:ral)?\b\s*(?P<rest>.*)$", re.IGNORECASE | re.DOTALL)


def parse_referral(
    text: str,
    speaker_email: str,
    directory: Directory,
    scorer: CardScorer | None = None,
) -> ReferralDraft:
    """Read a referral from a sentence or a `/refer` command; see `ReferralDraft`."""
    return read_referral(text, directory, scorer).draft(speaker_email)


def read_referral(text: str, directory: Directory, scorer: CardScorer | None = None) -> Reading:
    """A message to be read at most once, whatever a turn asks of it (see `Reading`)."""
    return Reading(normalise(text), directory, scorer)


@dataclass
class _Parts:
    """What a text says whoever the speaker is: the people, client, team, amount and topic."""

    note: str
    topic: str
    client: _ClientHit | None
    mentions: Sequence[_Mention]
    team: _TeamHit | None
    amount: Amount | None


class Reading:
    """One message read once per turn: whether it is a referral, and its draft per speaker.

    A turn asks several things of one sentence (is it a referral? the draft for the
    speaker, and the draft without the speaker, to tell "me" from no one). The names,
    client, team, amount and card evidence don't depend on who speaks, so they are worked
    out on the first question and shared by the rest; drafts are kept per speaker.
    """

    def __init__(self, text: str, directory: Directory, scorer: CardScorer | None = None):
        self.text = text  # already `normalise`d
        self.directory = directory
        self.scorer = scorer
        self._drafts: dict[str, ReferralDraft] = {}
        self._scores: dict[str, dict[str, float]] = {}  # card evidence, by topic

    @cached_property
    def parts(self) -> _Parts:
        """The speaker-independent reading (parsed on first use)."""
        slash = _SLASH.match(self.text)
        if slash:
            return _parse_slash(slash.group("rest"), self.directory)
        return _parse_sentence(self.text, self.directory)

    def draft(self, speaker: str) -> ReferralDraft:
        """The referral as `speaker` says it (a fresh copy: callers may change it)."""
        key = speaker.strip().lower()
        if not any(key in m.emails for m in self.parts.mentions):
            key = ""  # the speaker matters only when named: the draft is everyone's
        if key not in self._drafts:
            self._drafts[key] = _draft(self.parts, key, self.directory, self._evidence)
        return copy.deepcopy(self._drafts[key])

    def looks_like_referral(self) -> bool:
        """`looks_like_referral` of this text, sharing the parse with `draft`."""
        return _looks_like(self.text, self.directory, self)

    def _evidence(self, topic: str) -> tuple[dict[str, float], float]:
        """The scorer's evidence per card and the least that names one, once per topic."""
        scorer = self.scorer or _default_scorer(self.directory)
        least = float(getattr(scorer, "min_evidence", MIN_EVIDENCE))
        if topic not in self._scores:
            # only the contenders are kept: each draft then weighs a few cards, not thousands
            self._scores[topic] = contenders(scorer(topic, self.directory.cards), least)
        return self._scores[topic], least


MAX_CHARS = 1200  # a referral is a message, not a memo; bounds the work on pasted text


def normalise(text: str) -> str:
    """Chat text as typed: HTML entities from Slack undone, odd spaces made plain, bounded."""
    text = html.unescape(text).replace("\u00a0", " ").replace("\u2009", " ")
    return text.strip()[:MAX_CHARS]


def _parse_sentence(text: str, directory: Directory) -> _Parts:
    amount = parse_amount(text, directory.currency)
    amount_span = [(amount.start, amount.end)] if amount else []
    early = _find_people(text, directory, skip=amount_span)
    client = _referral_client(text, directory, early, None)
    skip = amount_span + ([(client.start, client.end)] if client else [])
    mentions = _find_people(text, directory, skip=skip)
    team = _find_team(text, directory)
    topic = _topic_words(text, client, mentions, team, directory)
    return _Parts(text, topic, client, mentions, team, amount)


def _parse_slash(rest: str, directory: Directory) -> _Parts:
    """`/refer <client> to <person|team> [for <service>] [value] [note]` (or `a | b | c | d`)."""
    if "|" in rest:
        parts = [p.strip() for p in rest.split("|")]
        client_slot, receiver_slot = parts[0], parts[1] if len(parts) > 1 else ""
        words = " ".join(parts[2:])
    else:
        split = _receiver_split(rest, directory) or _explicit_split(rest, directory)
        if split is None:
            return _parse_sentence(rest, directory)
        client_slot, receiver_slot = rest[: split[0]], rest[split[1] :]
        words = receiver_slot
    amount = parse_amount(rest, directory.currency)
    client = None
    if client_slot.strip():
        name, known = resolve_client(client_slot, directory)
        client = _ClientHit(name, known, 0, 0) if name else None
    mentions = _find_people(receiver_slot, directory, any_case=True)[:1]
    if mentions and "|" not in rest:
        words = receiver_slot[mentions[0].end :]
    team = _find_team(receiver_slot, directory) or _bare_team(receiver_slot, directory)
    topic = _topic_words(words, client, [], team if "|" in rest else None, directory)
    return _Parts(rest, topic, client, mentions, team, amount)


def _explicit_split(rest: str, directory: Directory) -> tuple[int, int] | None:
    """`/refer Acme priya@firm.example …` with no "to": the client ends where the email starts."""
    explicit = [m for m in _find_people(rest, directory, any_case=True) if m.explicit]
    if explicit and rest[: explicit[0].start].strip():
        return explicit[0].start, explicit[0].start
    return None


def _receiver_split(rest: str, directory: Directory) -> tuple[int, int] | None:
    """Where "<client> to <receiver>" splits: the first "to" followed by a person or team."""
    splits = [(m.start(), m.end()) for m in re.finditer(r"(?:^|\s)to\s+", rest, re.IGNORECASE)]
    for start, end in splits:
        after = rest[end:]
        people = _find_people(after, directory, any_case=True)
        team = _find_team("to " + after, directory)
        if (people and people[0].start == 0) or (team and team.start == 0):
            return start, end
    return splits[0] if splits else None


def _draft(
    parts: _Parts,
    speaker: str,
    directory: Directory,
    evidence: Callable[[str], tuple[dict[str, float], float]],
) -> ReferralDraft:
    team, note = parts.team, parts.note
    to_team = team is not None and bool(team.team or team.card)
    receiver, candidates, takes_it_on = _choose_receiver(parts.mentions, speaker, note, to_team)
    draft = ReferralDraft(note=note.strip())
    if parts.client:
        draft.client, draft.client_known = parts.client.name, parts.client.known
    draft.receiver, draft.receiver_candidates = receiver, candidates
    if parts.amount:
        draft.value = parts.amount.value
        draft.currency = parts.amount.currency or directory.currency
    if team and team.card:
        draft.card = team.card
    elif not _NO_MATTER.search(parts.topic):
        receivers = [receiver] if receiver else candidates
        scores, least = evidence(parts.topic)
        draft.card = best_card(scores, least, directory, receivers, team.team if team else None)
    if candidates and draft.card:
        draft.receiver_candidates = _by_fit(candidates, draft.card, directory)
        draft.receiver = _settled_by_card(candidates, draft.card, directory, takes_it_on)
        if draft.receiver:
            draft.receiver_candidates = []
    if team and not receiver:
        card = directory.card(draft.card) if draft.card else None
        draft.receiver_team = team.team or (card.team if card else None)
    draft.missing = _missing(draft)
    return draft


_NO_MATTER = re.compile(
    r"\bno\s+(?:specific|particular|actual|live)\s+(?:matter|need|issue|work|instruction)|"
    r"\bnothing\s+specific\b|\bgeneral\s+(?:intro|introduction|catch[- ]up|chat)\b|"
    r"\bjust\s+(?:an?\s+)?(?:intro|introduction|hello|catch[- ]up)\b",
    re.IGNORECASE,
)


def _settled_by_card(
    emails: list[str], card_id: str, directory: Directory, takes_it_on: bool
) -> str | None:
    """The one candidate who owns the matter's card, when the text has them taking it on.

    "Michael's taking the NLRB election" is the Michael on the labour card; "passing to
    Chris" still asks which Chris, since the matter alone is a guess at who was meant.
    """
    card = directory.card(card_id)
    if card is None or not takes_it_on:
        return None
    owners = [e for e in emails if e in card.owners]
    return owners[0] if len(owners) == 1 else None


def _by_fit(emails: list[str], card_id: str, directory: Directory) -> list[str]:
    """Candidates who own the card first, then its team, so the likeliest choice leads."""
    card = directory.card(card_id)

    def fit(email: str) -> int:
        person = directory.person(email)
        if card is None or person is None:
            return 2
        return 0 if email in card.owners else 1 if person.team == card.team else 2

    return sorted(emails, key=fit)


def _choose_receiver(
    mentions: Sequence[_Mention], speaker: str, text: str = "", sends_to_team: bool = False
) -> tuple[str | None, list[str], bool]:
    """One person is the receiver; several people behind one first name are candidates.

    With several people named, the one the text sends the client to wins: an @mention,
    "to/→ Tom", "Tom please/?", "Emma's picking it up", over "Priya's client", "spoke with
    Priya" or "Geoff asked me". The flag says whether the text has the chosen person
    taking the matter on ("Michael's taking it"), which lets the matter's card settle an
    ambiguous first name.
    """
    speaker = speaker.strip().lower()
    named = [
        _Mention(tuple(e for e in m.emails if e != speaker), m.start, m.end, m.explicit)
        for m in mentions
    ]
    named = [m for m in named if m.emails]
    if not named:
        return None, [], False
    ranked = sorted(
        enumerate(named),
        key=lambda item: (_receiver_cue(item[1], text), len(item[1].emails) == 1, item[0]),
    )
    chosen = ranked[-1][1]
    if sends_to_team and _receiver_cue(chosen, text) <= 0:
        return None, [], False  # "Geoff's client → the tax folks": the team receives it
    if len(chosen.emails) == 1:
        return chosen.emails[0], [], False
    return None, list(chosen.emails), _takes_it_on(chosen, text)


_TAKES_IT_ON = re.compile(
    r"\s*(?:['’]s|is|will|['’]ll|has)\s+(?:be\s+|already\s+)?(?:taking|picking|leading|"
    r"running|handling|across\b|on\s+it|got\s+(?:it|this)|agreed\s+to|(?:take|pick|lead|"
    r"run|handle)\b)"
)
_NOT_THE_RECEIVER = re.compile(
    r"\s+(?:asked|flagged|mentioned|suggested|says|said|told|thinks|reckons|introduced|"
    r"referred|recommended|met|spoke|(?:is|['’]s)\s+(?:busy|away|off|out|on\s+leave|"
    r"snowed|swamped|conflicted|on\s+holiday|on\s+vacation|off\s+sick|unavailable|"
    r"tied\s+up))\b"
)


def _takes_it_on(mention: _Mention, text: str) -> bool:
    return bool(text) and bool(_TAKES_IT_ON.match(text, mention.end))


def _receiver_cue(mention: _Mention, text: str) -> int:
    """How strongly the words around a mention make that person the receiver."""
    if not text:
        return 0
    before = text[max(0, mention.start - 12) : mention.start].lower()
    after = text[mention.end : mention.end + 16].lower()
    score = 3 if mention.explicit else 0
    if re.search(
        r"(?:\bto|→|->|=>|\bfor|\bask|\bcan|\bcould|\bloop(?:ing)?\s+in|\bbring(?:ing)?\s+in)"
        r"\s*(?:the\s+)?$",
        before,
    ):
        score += 2
    if _takes_it_on(mention, text):
        return score + 3
    if re.search(r"\b(?:i\s+mean|i\s+meant|make\s+that|or\s+rather|correction:?)\W*$", before):
        score += 4  # "Hywel? Sorry, I mean Eleri"
    if re.match(
        r"\s*(?:[?!]|please|pls|would|could|can|to lead|is|['’]s (?:on|the|happy|keen))", after
    ):
        score += 1
    elif re.fullmatch(r"\W*", text[mention.end :]) or (
        not text[: mention.start].strip() and re.match(r"\s*(?:,|\s-\s|:)", after)
    ):
        score += 1  # "…, Emma" at the end, or "Mia, …" addressed at the start
    if re.match(r"['’]s\s+(?!on\b|the\b|happy|keen|great|good|best|right)[a-z]", after):
        score -= 2  # "Priya's client": the owner, not the receiver
    if _NOT_THE_RECEIVER.match(after):
        score -= 2  # "Geoff asked me to…", "Chloe's busy"
    if re.search(r"\b(?:with|from|cc|by|and|told|asked me)\s*$", before):
        score -= 1
    return score


def _topic_words(
    text: str,
    client: _ClientHit | None,
    mentions: Sequence[_Mention],
    team: _TeamHit | None,
    directory: Directory,
) -> str:
    """The words left for card inference once names, the team and amounts are removed."""
    spans = [(m.start, m.end) for m in mentions]
    spans += [(a.start, a.end) for _, a in amounts(text, directory.currency)]
    if team and team.card is None and team.team:
        spans.append((team.start, team.end))
    kept = _blanked(text, spans)
    if client:
        known = directory.client(client.name)
        forms = [client.name, *(known.aliases if known else ())]
        for form in sorted(forms, key=len, reverse=True):
            kept = re.sub(_loose(form), " ", kept, flags=re.IGNORECASE)
    kept = _SLACK_MENTION.sub(" ", _EMAIL.sub(" ", kept))
    return kept


def _blanked(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """`text` with every character inside a span made a space (positions kept)."""
    chars = list(text)
    for start, end in spans:
        start, end = max(start, 0), min(end, len(chars))
        if start < end:
            chars[start:end] = " " * (end - start)
    return "".join(chars)


def _missing(draft: ReferralDraft) -> list[str]:
    missing = []
    if not draft.client:
        missing.append("client")
    if not draft.receiver and (
        draft.receiver_candidates or not (draft.receiver_team or draft.card)
    ):
        missing.append("receiver")
    if not draft.card:
        missing.append("card")
    return missing


# -- intent ------------------------------------------------------------------------------

_REFERRAL_CUES = re.compile(
    r"^\s*/refer|\b(?:refer(?:red|ring|ral|al)?|referr?al|introduc(?:ed|ing)|pass(?:ing)?\s+"
    r"(?:\S+\s+){0,3}?(?:on\s+|over\s+)?to|could\s+you\s+pass|"
    r"send(?:ing)?\s+(?:\S+\s+){1,3}?(?:over\s+|across\s+)?to|log\s+(?:this|that|a|the)\b|put\s+\S+\s+in\s+touch|"
    r"(?:pick|take)\s+(?:this|it|them)\s+(?:up|on)|(?:can|could)\s+\S+\s+(?:pick|take)\s+"
    r"(?:this|it|them)\b)|→|->|=>",
    re.IGNORECASE,
)
_QUESTION = re.compile(
    r"^\s*(?:who|what|which|where|how|why|when|does|do|is|are|any|anyone|has|have)\b"
    r"(?:\s+\w+){0,3}\s+(?:does|do|handles?|knows?|covers?|offer|advise|help|can)?",
    re.IGNORECASE,
)


def looks_like_referral(text: str, directory: Directory | None = None) -> bool:
    """Whether a message starts a referral rather than asks a question.

    Cue words ("introduced", "referred", "log a referral", "pass them to", "→") decide;
    questions such as "who does employment law?" are not referrals. With a directory, a
    cue must come with someone to refer to, and a message without cue words counts when it
    names both a client (or a value) and a colleague or team to send it to.
    `read_referral(text, directory).looks_like_referral()` says the same and keeps the
    parse for the turn's draft.
    """
    text = normalise(text)
    return _looks_like(text, directory, Reading(text, directory) if directory else None)


def _looks_like(text: str, directory: Directory | None, reading: Reading | None) -> bool:
    if _is_lookup_question(text):
        return False
    cued = bool(_REFERRAL_CUES.search(text))
    if directory is None or reading is None:
        return cued
    if not cued and not may_name_a_receiver(text, directory):
        return False  # no one and no team to send a client to: no parse needed
    draft = reading.draft("")
    to_whom = bool(draft.receiver or draft.receiver_candidates or draft.receiver_team)
    if cued:
        return to_whom or draft.client is not None
    return to_whom and (draft.client is not None or draft.value is not None)


def may_name_a_receiver(text: str, directory: Directory) -> bool:
    """A cheap first check: False only when `text` can name neither a person nor a team.

    Dictionary look-ups per word (no parse), so the plain sentences of a who-does chat
    skip the referral parser; a True still needs the full parse to decide.
    """
    return may_name_a_person(text, directory) or may_name_a_team(text, directory)


def _is_lookup_question(text: str) -> bool:
    return bool(
        re.match(
            r"^\s*(?:who|which team|what team|does anyone|do we|is there|anyone)\b",
            text,
            re.IGNORECASE,
        )
    ) and not re.search(r"→|->|=>", text)
