"""Understanding what people type: referrals, amounts and referral status updates.

`parse_referral` turns "I've introduced Acme to Priya for their TUPE issue, maybe £20k" or
"/refer Acme to priya for employment £20k" into a `ReferralDraft`: who the client is, who
receives it (a person, or a team when no one is named), which service card it is about, the
value and what is still missing. It only reports what the text says; defaults (such as the
card's main contact as receiver) are the referral lifecycle's business.

Everything here works over a small `Directory` (people, clients, cards) so it can be built
from a content folder now and from the database later. Card inference goes through a
`CardScorer` seam: a keyword-overlap scorer lives here, a search engine can replace it.
"""

from __future__ import annotations

import html
import math
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import snowballstemmer
from rapidfuzz import fuzz
from sqlmodel import Session, col, select

from bot.catalog import Card, Catalog, Client, Person
from bot.store import models

__all__ = [
    "Amount",
    "CardScorer",
    "ClientMention",
    "Directory",
    "KeywordCardScorer",
    "ReferralDraft",
    "StatusUpdate",
    "client_mentions",
    "infer_card",
    "looks_like_referral",
    "normalise",
    "parse_amount",
    "parse_referral",
    "parse_status_update",
    "resolve_client",
]

# -- the directory -----------------------------------------------------------------------


@dataclass
class Directory:
    """The people, clients and service cards a parse can refer to.

    `currency` is the firm's currency, assumed when a value is given without one.
    """

    people: list[Person] = field(default_factory=list)
    clients: list[Client] = field(default_factory=list)
    cards: list[Card] = field(default_factory=list)
    currency: str = "GBP"

    @classmethod
    def from_catalog(cls, catalog: Catalog, currency: str = "GBP") -> Directory:
        return cls(list(catalog.people), list(catalog.clients), list(catalog.cards), currency)

    @classmethod
    def from_session(cls, session: Session, currency: str = "GBP") -> Directory:
        """Active people, live cards and clients from the database."""
        people = session.exec(select(models.Person).where(models.Person.active)).all()
        emails = {p.id: p.email for p in people}
        cards = session.exec(select(models.ServiceCard).where(~col(models.ServiceCard.retired)))
        clients = session.exec(select(models.Client).where(~col(models.Client.retired)))
        return cls(
            [
                Person(
                    p.email,
                    p.name,
                    p.team,
                    p.office,
                    p.title,
                    p.role,
                    p.slack_id or "",
                    p.teams_id or "",
                )
                for p in people
            ],
            [
                Client(
                    c.name,
                    tuple(c.aliases),
                    c.sector,
                    emails.get(c.owner_id, ""),
                    tuple(c.services),
                )
                for c in clients
            ],
            [
                Card(
                    c.id,
                    c.title,
                    c.team,
                    tuple(c.owners),
                    tuple(c.aliases),
                    c.updated,
                    dict(c.sections),
                )
                for c in cards
            ],
            currency,
        )

    def person(self, email: str) -> Person | None:
        return self._by_email.get(email.strip().lower())

    def card(self, card_id: str) -> Card | None:
        return next((c for c in self.cards if c.id == card_id), None)

    def teams(self) -> list[str]:
        return sorted({p.team for p in self.people} | {c.team for c in self.cards})

    def cards_owned_by(self, email: str) -> list[Card]:
        return [c for c in self.cards if email in c.owners]

    @cached_property
    def _by_email(self) -> dict[str, Person]:
        return {p.email.lower(): p for p in self.people}

    @cached_property
    def _index(self) -> _Index:
        """Lookups and compiled patterns, built once (treat a parsed directory as read-only)."""
        return _Index(self)


# -- results -----------------------------------------------------------------------------


@dataclass
class ReferralDraft:
    """What a referral message says, before defaults.

    `client` is the known client's canonical name, or the name as written when unknown
    (`client_known` tells which). `receiver` is set only when one person is meant; an
    ambiguous first name leaves it empty and lists `receiver_candidates`. `receiver_team`
    names a team when the text sends the client to a team rather than a person. `missing`
    lists, in the order to ask, what the text does not say: client, receiver, card.
    """

    client: str | None = None
    client_known: bool = False
    receiver: str | None = None
    receiver_candidates: list[str] = field(default_factory=list)
    receiver_team: str | None = None
    card: str | None = None
    value: float | None = None
    currency: str | None = None
    note: str = ""
    missing: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        """The `crossbot parse-referral --json` contract."""
        value: float | int | None = self.value
        if value is not None and float(value).is_integer():
            value = int(value)
        return {
            "client": self.client,
            "receiver": self.receiver,
            "card": self.card,
            "value": value,
            "currency": self.currency,
            "missing": list(self.missing),
        }


@dataclass(frozen=True)
class Amount:
    """A money amount found in text; `currency` is None when the text names none."""

    value: float
    currency: str | None
    start: int = 0
    end: int = 0


@dataclass
class StatusUpdate:
    """A referral lifecycle sentence: "we won Acme, £18k" → client, status, value, reason."""

    client: str | None
    status: str
    value: float | None = None
    currency: str | None = None
    reason: str | None = None
    client_known: bool = False


# -- words -------------------------------------------------------------------------------

_STEMMER = snowballstemmer.stemmer("english")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9&'’\-]*")
_STOP = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    please pls thanks thank cheers hi hey hello bot crossbot log logging referral referrals
    refer referred referring referal introduce introduced introducing pass passing send sending
    sent team lot people folks someone somebody person right one ones client clients new
    contact maybe probably around about approx est estimate ballpark fees fee worth budget
    value could might may also want wants need needs needed get got like look looking take
    pick call chat meet help advice advise they'd they're i'm i've we're it's that's there's
    can't don't won't quick urgent asap pa ish c k m
    expect expecting expected next last week weeks month months year years today tomorrow
    yesterday morning afternoon evening monday tuesday wednesday thursday friday soon later
    ceo cfo coo cto cio md fd gc hrd chair founder founders senior junior boss colleague
    lunch coffee dinner drinks call calls phone email emails discuss discussed discussing
    connect connected introduction intro details detail follow following touch lovely great
    nice good thanks""".split()
)


def _stem(word: str) -> str:
    return str(_STEMMER.stemWord(word.lower().strip("'’-").replace("’", "'").removesuffix("'s")))


def _tokens(text: str) -> list[str]:
    """Lower-cased, stemmed content words (a '&' inside an acronym like H&S is kept)."""
    text = _NOUN_WILL.sub(r"\1 wills", text)
    words = []
    for raw in _WORD.findall(text):
        for part in re.split(r"-(?=[A-Za-z])", raw) if "&" not in raw else [raw]:
            word = part.lower().strip("'’-")
            if word and word not in _STOP and not word.isdigit():
                words.append(_stem(word))
    return [w for w in words if w]


_NOUN_WILL = re.compile(r"\b(the|a|his|her|their|my|your|our|new|of)\s+will\b", re.IGNORECASE)
# -- amounts -----------------------------------------------------------------------------

_SYMBOL_CURRENCY = {
    "£": "GBP",
    "$": "USD",
    "us$": "USD",
    "€": "EUR",
    "¥": "JPY",
    "₹": "INR",
    "a$": "AUD",
    "au$": "AUD",
    "c$": "CAD",
    "ca$": "CAD",
    "s$": "SGD",
    "hk$": "HKD",
    "nz$": "NZD",
}
_CODES = "gbp|usd|eur|chf|jpy|aud|cad|sgd|hkd|nzd|sek|nok|dkk|inr|zar|aed|cny"
_WORD_CURRENCY = {
    "gbp": "GBP",
    "pounds": "GBP",
    "pound": "GBP",
    "quid": "GBP",
    "sterling": "GBP",
    "usd": "USD",
    "dollars": "USD",
    "dollar": "USD",
    "bucks": "USD",
    "eur": "EUR",
    "euros": "EUR",
    "euro": "EUR",
}
_MULTIPLIER = {
    "k": 1e3,
    "thousand": 1e3,
    "grand": 1e3,
    "m": 1e6,
    "mn": 1e6,
    "mil": 1e6,
    "million": 1e6,
    "bn": 1e9,
    "b": 1e9,
    "billion": 1e9,
}
_UNITS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_CUR_WORDS = rf"{_CODES}|pounds?|quid|sterling|dollars?|bucks|euros?"
_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_MULT = r"k|thousand|grand|mn|mil|million|bn|billion|m|b"
_AMOUNT = re.compile(
    rf"(?<![^\W\d_])(?<!\d\.)(?<!\d)(?P<pre>(?:us|au|a|ca|c|s|hk|nz)\$|[£$€¥₹]|(?:{_CODES})(?=[\s\d]))?\s?"
    rf"(?P<num>{_NUMBER})(?:\s?(?P<mult1>{_MULT})(?![a-z]))?"
    rf"(?:\s?(?:-|–|to)\s?(?:[£$€]\s?)?(?P<upper>{_NUMBER})"  # a range: the lower end counts
    rf"(?:\s?(?P<mult>{_MULT})(?![a-z]))?)?"
    rf"(?:\s?(?P<post>{_CUR_WORDS})\b)?",
    re.IGNORECASE,
)
_WORD_NUMBER = "|".join(sorted(_UNITS, key=len, reverse=True))
_WORD_AMOUNT = re.compile(
    rf"\b(?P<words>(?:(?:{_WORD_NUMBER})(?:[\s-]+(?:{_WORD_NUMBER}|hundred|and))*))"
    rf"[\s-]+(?P<mult>thousand|grand|million|k)\b(?:\s(?P<post>{_CUR_WORDS})\b)?",
    re.IGNORECASE,
)


def parse_amount(text: str) -> Amount | None:
    """The money amount a message mentions: '£20k', '20,000 GBP', '$1.2m', 'twenty grand'.

    A bare number counts only when it looks like money: written with thousands (18,000)
    and not followed by a noun ("40,000 emails", "6 stores", "FTSE 250" are not amounts).
    With several amounts, the fee wins over the size of the deal ("a $2m deal, fees maybe
    $60k"); then amounts with a currency over amounts with only a k/m multiplier.
    """
    found = list(_amounts(text))
    if not found:
        return None
    found.sort(key=lambda pair: (_fee_rank(text, pair[1]), pair[0], pair[1].start))
    return found[0][1]


def _fee_rank(text: str, amount: Amount) -> int:
    """0 for an amount said to be the fee, 2 for the size of a deal or debt, else 1."""
    before = text[max(0, amount.start - 40) : amount.start].lower()
    if re.search(
        r"\b(?:fees?|worth|budget|billing|charge|quote|est|estimate|ballpark|value)\b"
        r"\W*(?:\w+\W+){0,3}$",
        before,
    ):
        return 0
    after = text[amount.end : amount.end + 30].lower()
    if re.match(
        r"\W*(?:deal|turnover|revenue|valuation|transaction|loan|facility|debt|"
        r"claim|fund|round|raise|business|company|portfolio|contract)\b",
        after,
    ):
        return 2
    return 1


def _amounts(text: str) -> Iterable[tuple[int, Amount]]:
    for match in _AMOUNT.finditer(text):
        pre, post = match.group("pre"), match.group("post")
        mult = match.group("mult1") or match.group("mult")
        number = float(match.group("num").replace(",", ""))
        currency = _currency(pre) or _currency(post)
        if mult:
            number *= _MULTIPLIER[mult.lower()]
        elif not currency and not _bare_money(text, match):
            continue
        if mult and mult.lower() in ("m", "b") and not currency and not _money_context(text, match):
            continue  # '5m' alone may be metres; need a money word nearby
        rank = 0 if currency else 1 if mult else 2
        yield rank, Amount(round(number, 2), currency, match.start(), match.end())
    for match in _WORD_AMOUNT.finditer(text):
        spoken = _words_to_number(match.group("words"))
        if spoken is None:
            continue
        value = spoken * _MULTIPLIER[match.group("mult").lower()]
        currency = _currency(match.group("post"))
        yield (0 if currency else 1), Amount(value, currency, match.start(), match.end())


def _currency(token: str | None) -> str | None:
    if not token:
        return None
    token = token.strip().lower()
    if re.fullmatch(_CODES, token):
        return token.upper()
    return _SYMBOL_CURRENCY.get(token) or _WORD_CURRENCY.get(token)


def _bare_money(text: str, match: re.Match[str]) -> bool:
    """A bare number is money when written like money and not counting something."""
    raw = match.group("num")
    digits = raw.replace(",", "").split(".")[0]
    if "," not in raw and not (len(digits) >= 4 and not re.fullmatch(r"(19|20)\d\d", digits)):
        return False
    after = text[match.end() :]
    return not re.match(r"\s*[A-Za-z]", after) or _money_context(text, match)


def _money_context(text: str, match: re.Match[str]) -> bool:
    before = text[max(0, match.start() - 30) : match.start()].lower()
    return bool(
        re.search(
            r"(fee|fees|worth|budget|value|est|estimate|ballpark|around|about|"
            r"approx|maybe|circa|c\.|~)\W*$",
            before,
        )
    )


def _words_to_number(words: str) -> float | None:
    total = 0.0
    current = 0.0
    for word in re.split(r"[\s-]+", words.lower()):
        if word == "and" or not word:
            continue
        if word == "hundred":
            current = (current or 1) * 100
        elif word in _UNITS:
            current += _UNITS[word]
        else:
            return None
    total += current
    return total or None


# -- people ------------------------------------------------------------------------------

_SLACK_MENTION = re.compile(r"<@(?P<id>[UW][A-Z0-9]+)(?:\|(?P<name>[^>]+))?>")
_TEAMS_MENTION = re.compile(r"<at>(?P<name>[^<]+)</at>", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_HONORIFIC = frozenset("mr mrs ms miss dr sir dame lady lord prof professor rev".split())


@dataclass(frozen=True)
class _Mention:
    """A place in the text that names one person or several (an ambiguous first name)."""

    emails: tuple[str, ...]
    start: int
    end: int
    explicit: bool = False  # an @mention, a Slack mention or an email address


def _find_people(
    text: str, directory: Directory, skip: Sequence[tuple[int, int]] = (), any_case: bool = False
) -> list[_Mention]:
    """Every mention of a person: Slack mentions, emails, @names, full and first names."""
    mentions: list[_Mention] = []
    taken: list[tuple[int, int]] = list(skip)

    def add(emails: Iterable[str], start: int, end: int, explicit: bool = False) -> None:
        unique = tuple(dict.fromkeys(emails))
        if unique and not _overlaps(start, end, taken):
            mentions.append(_Mention(unique, start, end, explicit))
            taken.append((start, end))

    by_slack = directory._index.by_slack
    for match in _SLACK_MENTION.finditer(text):
        email = by_slack.get(match.group("id"))
        if email:
            add([email], match.start(), match.end(), True)
        elif match.group("name"):
            names = _names_at(match.group("name"), directory, True)
            if names:
                add(names[0][0], match.start(), match.end(), True)
        taken.append((match.start(), match.end()))
    for match in _TEAMS_MENTION.finditer(text):
        names = _names_at(match.group("name").strip(), directory, True)
        if names:
            add(names[0][0], match.start(), match.end(), True)
        taken.append((match.start(), match.end()))
    for match in _EMAIL.finditer(text):
        person = directory.person(match.group())
        if person:
            add([person.email], match.start(), match.end(), True)
        taken.append((match.start(), match.end()))
    for match in re.finditer(r"@(\w[\w'’.-]*(?:\s+\w[\w'’-]*)?)", text):
        found = _names_at(match.group(1), directory, True)
        if found:
            emails, length = found[0]
            add(emails, match.start(), match.start() + 1 + length, True)
    for emails, start, end in _names_in(text, directory, any_case):
        add(emails, start, end)
    mentions.sort(key=lambda m: m.start)
    return mentions


def _names_at(text: str, directory: Directory, any_case: bool) -> list[tuple[list[str], int]]:
    """The person named at the very start of `text` (emails, length of the name)."""
    return [
        (emails, end) for emails, start, end in _names_in(text, directory, any_case) if start == 0
    ][:1]


def _names_in(
    text: str, directory: Directory, any_case: bool
) -> Iterable[tuple[list[str], int, int]]:
    """Full names (surnames matched loosely, for typos) and first names, in text order."""
    by_first = directory._index.by_first
    words = list(re.finditer(r"[^\W\d_][\w'’-]*", text))
    index = 0
    while index < len(words):
        word = words[index]
        bare = re.sub(r"['’]s$", "", word.group())
        people = by_first.get(bare.lower())
        capitalised = bare[:1].isupper()
        previous = words[index - 1].group().lower().rstrip(".") if index else ""
        if (
            not people
            or not (capitalised or any_case)
            or (previous in _HONORIFIC and not _full_name_follows(words, index, people))
            or _word_not_name(
                bare, previous, words[index + 1].group() if index + 1 < len(words) else ""
            )
        ):
            index += 1
            continue
        end = word.start() + len(bare)
        chosen = [p.email for p in people]
        if index + 1 < len(words) and bare == word.group():
            following = words[index + 1]
            gap = text[word.end() : following.start()]
            surname_match = _surname(following.group(), people) if gap.strip() == "" else None
            if surname_match is not None:
                chosen, end = [surname_match.email], following.end()
                index += 1
        yield chosen, word.start(), end
        index += 1


_WORDLIKE_NAMES = frozenset(
    """will may mark grace hope faith joy bill rob pat sue jack frank dawn summer april june
    rose ruby amber holly ivy penny miles max dean guy drew chase hunter sandy august art
    victor earl page reed""".split()
)
_DATE_WORDS = frozenset(
    "in by from until till since of early late mid next last this every".split()
)
_NOT_AFTER_NAME = frozenset("you we they i it be the a an this that have not he she".split())


def _full_name_follows(
    words: Sequence[re.Match[str]], index: int, people: Sequence[Person]
) -> bool:
    """ "Dr Priya Shah" is our Priya Shah when her surname follows exactly."""
    if index + 1 >= len(words):
        return False
    following = re.sub(r"['’]s$", "", words[index + 1].group()).lower()
    return any(p.name.split()[-1].lower() == following for p in people if len(p.name.split()) > 1)


def _word_not_name(word: str, previous: str, following: str) -> bool:
    """First names that are also words ("Will you…", "in May") are read as words there."""
    if word.lower() not in _WORDLIKE_NAMES:
        return False
    return previous in _DATE_WORDS or following.lower() in _NOT_AFTER_NAME


def _surname(word: str, people: Sequence[Person]) -> Person | None:
    """The person whose surname `word` is, allowing a typo or two."""
    word = re.sub(r"['’]s$", "", word).lower()
    best: tuple[float, Person | None] = (0.0, None)
    for person in people:
        surname = person.name.split()[-1].lower() if len(person.name.split()) > 1 else ""
        if not surname:
            continue
        score = 100.0 if word == surname else fuzz.ratio(word, surname)
        if score > best[0]:
            best = (score, person)
    return best[1] if best[0] >= 75 else None


def _overlaps(start: int, end: int, spans: Iterable[tuple[int, int]]) -> bool:
    return any(start < s_end and s_start < end for s_start, s_end in spans)


# -- clients -----------------------------------------------------------------------------

_LEGAL_SUFFIX = r"(?:ltd|limited|llp|plc|inc|llc|gmbh|bv|nv|sa|sas|spa|ag|pty|co|corp)"
_CAP_TOKEN = r"(?:[A-Z][\w'’.-]*|&|[A-Z0-9]{2,}|(?:ltd|plc|llp|inc|limited|llc)\b\.?)"
_JOINERS = r"(?:&|and|of|de|du|la|le|von|van|der|y)"
_CAP_PHRASE = re.compile(
    rf"(?<![\w@])(?:[Tt]he\s+)?[A-Z][\w'’.-]*(?:\s+(?:{_JOINERS}\s+)?{_CAP_TOKEN})*"
)
_FILLER = frozenset(
    """hi hey hello please quick just met referral referring referal refer logging log sending
    send passing pass can could would should will so also fyi new another thanks thank cheers
    ok okay morning afternoon evening urgent re note sorry client i i'm i've i'd we we've
    we're our my their they they're he she it its this that these those there here when if
    then but and or a an as at for from in on to with by of any some one two all both
    dear team update following follow next""".split()
)
_SUBJECT_VERBS = (
    r"want|wants|wanted|are|is|was|were|need|needs|needed|have|has|had|got|gets|would|will|"
    r"could|should|may|might|just|asked|asks|plan|plans|planning|looking|require|requires|"
    r"received|face|faces|facing|think|thinks|intend|intends|hope|hopes|'?re|'?s|’s|"
    r"recently|already|also|currently|now|build|builds|make|makes|run|runs|sell|sells|own|"
    r"owns|operate|operates|employ|employs|do|does|did|been|seem|seems|say|says|said|told|"
    r"called|rang|emailed|reckon|worry|worried|struggle|struggling|expanding|growing|opening|"
    r"buying|selling|acquiring|raising|moving|going|hoping|lost|won|hit|took|wish|wishes"
)
_ROLES = (
    r"md|fd|ceo|cfo|coo|cto|cio|gc|hrd|chair|chairman|chairwoman|founders?|owners?|directors?|"
    r"head|partners?|boss|board|general counsel|finance director|managing director"
)


@dataclass(frozen=True)
class _ClientHit:
    name: str
    known: bool
    start: int
    end: int


def _client_index(directory: Directory) -> list[tuple[str, Client]]:
    """Every way of writing each client (name and aliases), longest first."""
    return directory._index.client_forms


def _client_forms(directory: Directory) -> list[tuple[str, Client]]:
    forms = [
        (form, c)
        for c in directory.clients
        for form in dict.fromkeys((c.name, _without_suffix(c.name), *c.aliases))
        if form
    ]
    return sorted(forms, key=lambda pair: len(pair[0]), reverse=True)


def _client_pattern(form: str) -> re.Pattern[str]:
    """A client's name in running text; short all-capital aliases (ACP) must match case."""
    flags = 0 if form.isupper() and len(form) <= 5 else re.IGNORECASE
    return re.compile(rf"(?<![\w@.]){_loose(form)}(?=['’]s\b|[^\w]|$)", flags)


def _known_clients(text: str, directory: Directory) -> list[_ClientHit]:
    """Known clients named exactly (acronym aliases must match case), longest first."""
    hits: list[_ClientHit] = []
    taken: list[tuple[int, int]] = []
    for (_, client), pattern in zip(
        directory._index.client_forms, directory._index.client_patterns, strict=True
    ):
        for match in pattern.finditer(text):
            if not _overlaps(match.start(), match.end(), taken):
                hits.append(_ClientHit(client.name, True, match.start(), match.end()))
                taken.append((match.start(), match.end()))
    return sorted(hits, key=lambda h: h.start)


def _without_suffix(name: str) -> str:
    """ "Acme Ltd" → "Acme": people rarely say the legal suffix."""
    return re.sub(rf"[\s,]+{_LEGAL_SUFFIX}\.?$", "", name, flags=re.IGNORECASE).strip()


def _loose(form: str) -> str:
    """A regex for a client name tolerant of spacing and curly apostrophes."""
    parts = [re.escape(p) for p in form.split()]
    return r"\s+".join(parts).replace("'", "['’]").replace("’", "['’]")


def resolve_client(name: str, directory: Directory) -> tuple[str, bool]:
    """The known client `name` refers to (also with a typo), else `name` as written."""
    cleaned = name.strip(" \t,.;:-–—'\"()")
    if not cleaned:
        return "", False
    key = _client_key(cleaned)
    best: tuple[float, Client | None] = (0.0, None)
    for form_key, client in directory._index.client_keys:
        if not form_key:
            continue
        if form_key == key:
            return client.name, True
        if len(key) >= 6 and len(form_key) >= 6:
            score = fuzz.ratio(key, form_key)
            if score > best[0] and _same_shape(key, form_key):
                best = (score, client)
    if best[1] is not None and best[0] >= 88:
        return best[1].name, True
    prefixed = _prefix_client(key, directory)
    return (prefixed, True) if prefixed else (cleaned, False)


def _prefix_client(key: str, directory: Directory) -> str | None:
    """The one known client whose name starts with `key` ("Northwind" → Northwind Foods)."""
    if len(key) < 5:
        return None
    owners = {
        client.name
        for form_key, client in directory._index.client_keys
        if form_key.startswith(key + " ")
    }
    return owners.pop() if len(owners) == 1 else None


def _same_shape(a: str, b: str) -> bool:
    """Typos keep the number of words and each word close (Nortwind Foods ~ Northwind Foods)."""
    words_a, words_b = a.split(), b.split()
    return len(words_a) == len(words_b) and all(
        fuzz.ratio(x, y) >= 75 for x, y in zip(words_a, words_b, strict=True)
    )


def _client_key(name: str) -> str:
    """A name folded for comparison: case, punctuation and legal suffixes ignored."""
    folded = re.sub(r"[^\w\s&]", "", name.lower().replace("’", "'"))
    folded = re.sub(rf"\b{_LEGAL_SUFFIX}\b", " ", folded)
    return " ".join(folded.replace("&", " and ").split())


def _find_client(
    text: str, directory: Directory, people: Sequence[_Mention], slot: str | None
) -> _ClientHit | None:
    """The client a message is about: known names first, then names in telling places."""
    if slot is not None:
        name, known = resolve_client(slot, directory)
        start = text.find(slot)
        return _ClientHit(name, known, start, start + len(slot)) if name else None
    person_spans = [(m.start, m.end) for m in people]
    named = [
        h for h in _known_clients(text, directory) if not _overlaps(h.start, h.end, person_spans)
    ]
    if named:
        return named[0]
    fuzzy = _fuzzy_client(text, directory, person_spans)
    if fuzzy:
        return fuzzy
    return _unknown_client(text, directory, people)


def _fuzzy_client(
    text: str, directory: Directory, person_spans: list[tuple[int, int]]
) -> _ClientHit | None:
    """A known client written with a typo or shortened ("Nortwind Foods", "Northwind")."""
    for match in _CAP_PHRASE.finditer(text):
        phrase = _trim_phrase(match.group())
        if len(_client_key(phrase)) < 6 or _is_not_a_client(phrase, directory):
            continue
        start = text.find(phrase, match.start())
        if _overlaps(start, start + len(phrase), person_spans):
            continue
        name, known = resolve_client(phrase, directory)
        if known:
            return _ClientHit(name, True, start, start + len(phrase))
    return None


def _unknown_client(
    text: str, directory: Directory, people: Sequence[_Mention]
) -> _ClientHit | None:
    """A client not in clients.csv, kept as written, from where clients are usually named."""
    person_spans = [(m.start, m.end) for m in people]
    cues: list[tuple[str, int, bool]] = [
        # "refer Acme to", "introduced Acme to", "sending Acme over to", "referral for Acme —"
        (
            r"\b(?:refer(?:red|ring)?|referr?al\s+for|referr?al:|introduc(?:ed|ing|e)|"
            r"send(?:ing)?|pass(?:ing)?|log(?:ged|ging)?:?)\s+(?P<x>[^,.;:!?→]+?)"
            r"\s*(?:\bto\b|\bover\b|→|->|=>|—|–|\s-\s|,|:|\(|$)",
            re.IGNORECASE,
            False,
        ),
        # "referral to Priya for Acme: ..."
        (
            r"\b(?i:referr?al|refer(?:ring)?|intro(?:duction)?|matter|one)\s+(?i:to|for)\s+"
            r"[^,.;:!?]*?\bfor\s+(?P<x>[A-Z][^,.;:!?]*)",
            0,
            False,
        ),
        # "Acme → Priya"
        (r"(?:^|[.!?:]\s+)(?P<x>[^.!?:→]+?)\s*(?:→|->|=>)", 0, False),
        # "a new client of mine, Acme Ltd, ..."
        (r"\bclients?(?:\s+of\s+(?:mine|ours))?,\s+(?P<x>[^,]+),", 0, False),
        # "the MD of Acme", "the CFO at Acme"
        (rf"\b(?i:{_ROLES})\s+(?:of|at|from)\s+(?P<x>[A-Z][^,.;:!?]*)", 0, False),
        # "The Ashby family", "Mrs Jane Doe": kept whole
        (r"(?P<x>\b[Tt]he\s+[A-Z][\w'’-]+\s+family\b)", 0, True),
        (
            r"(?P<x>\b(?:Mr|Mrs|Ms|Miss|Dr|Sir|Dame|Lady|Lord|Prof)\.?\s+[A-Z][\w'’-]+"
            r"(?:\s+[A-Z][\w'’-]+)?)",
            0,
            True,
        ),
    ]
    for cue, flags, verbatim in cues:
        for match in re.finditer(cue, text, flags):
            start, end = match.start("x"), match.end("x")
            if verbatim:
                if not _overlaps(start, end, person_spans):
                    name, known = resolve_client(match.group("x"), directory)
                    return _ClientHit(name, known, start, end)
                continue
            hit = _client_phrase(text, start, end, directory, person_spans)
            if hit:
                return hit
    return _subject_client(text, directory, person_spans) or _object_client(
        text, directory, person_spans
    )


_CLIENT_VERBS = (
    r"help(?:ing)?|assist(?:ing)?|advis(?:e|ing)|act(?:ing)?\s+for|work(?:ing)?\s+(?:with|for)|"
    r"(?:speak|spoke|talk|talking|talked|chat|chatted|chatting)\s+(?:to|with)|"
    r"meet(?:ing)?(?:\s+with)?|met(?:\s+with)?|call(?:ed|ing)?|look(?:ing)?\s+after|"
    r"on\s+behalf\s+of|contact(?:ed)?|introduc(?:e|ing)\s+you\s+to"
)


def _object_client(
    text: str, directory: Directory, person_spans: list[tuple[int, int]]
) -> _ClientHit | None:
    """A name after a verb people use about clients ("could Tom help Acme with…")."""
    pattern = (
        rf"\b(?i:{_CLIENT_VERBS})\s+(?:the\s+(?:team|people|folks)\s+at\s+)?(?P<x>[A-Z][^,.;:!?]*)"
    )
    for match in re.finditer(pattern, text):
        hit = _client_phrase(text, match.start("x"), match.end("x"), directory, person_spans)
        if hit:
            return hit
    return None


def _client_phrase(
    text: str, start: int, end: int, directory: Directory, person_spans: list[tuple[int, int]]
) -> _ClientHit | None:
    """The first capitalised name inside text[start:end] that is not a person or a service."""
    chunk = text[start:end]
    for match in _CAP_PHRASE.finditer(chunk):
        phrase = _trim_phrase(match.group())
        offset = start + chunk.find(phrase, match.start())
        if not phrase or _overlaps(offset, offset + len(phrase), person_spans):
            continue
        if _is_not_a_client(phrase, directory):
            continue
        name, known = resolve_client(phrase, directory)
        return _ClientHit(name, known, offset, offset + len(phrase))
    return None


def _subject_client(
    text: str, directory: Directory, person_spans: list[tuple[int, int]]
) -> _ClientHit | None:
    """A name opening a sentence and followed by what clients do ("Acme want…", "Acme:")."""
    for sentence in re.finditer(r"(?:^|(?<=[.!?:;—–])\s+|\s-\s)(?P<s>[^.!?:;—–]+)", text):
        start = sentence.start("s")
        match = _CAP_PHRASE.match(text, start)
        if not match:
            continue
        phrase = _trim_phrase(match.group())
        if not phrase or _is_not_a_client(phrase, directory):
            continue
        offset = text.find(phrase, start)
        if _overlaps(offset, offset + len(phrase), person_spans):
            continue
        after = text[offset + len(phrase) :]
        after = re.sub(r"^\s*\([^)]*\)", "", after)  # "Acme (Leeds, spin-out) want…"
        incorporated = re.search(rf"\b{_LEGAL_SUFFIX}\.?$", phrase, re.IGNORECASE)
        if incorporated or re.match(
            rf"\s*(?:[:—–,]|\s-\s|(?:{_SUBJECT_VERBS})\b)", after, re.IGNORECASE
        ):
            name, known = resolve_client(phrase, directory)
            return _ClientHit(name, known, offset, offset + len(phrase))
    return None


def _trim_phrase(phrase: str) -> str:
    """Drop greeting and filler words from the start and possessives from the end."""
    words = phrase.split()
    while words and _is_filler(words[0]) and not (words[0].lower() == "the" and len(words) > 1):
        words = words[1:]
    for position, word in enumerate(words[:-1]):
        # "Acme's CFO" is Acme; "St Mary's School" stays whole
        if re.search(r"['’]s$", word) and not words[position + 1][:1].isupper():
            words = words[: position + 1]
            break
        if re.search(r"['’]s$", word) and re.fullmatch(rf"(?i:{_ROLES})", words[position + 1]):
            words = words[: position + 1]
            break
    while words and words[-1].lower() in {"&", "and", "of", "the"}:
        words = words[:-1]
    text = " ".join(words)
    return re.sub(r"['’]s$", "", text).strip(" .,'’-")


def _is_filler(word: str) -> bool:
    word = word.lower().strip(",.'’").replace("’", "'")
    return word in _FILLER or bool(re.fullmatch(r"\w+'(?:ve|re|ll|d|m)", word))


def _is_not_a_client(phrase: str, directory: Directory) -> bool:
    """Names of people, teams and services, and lone words, are not clients."""
    key = phrase.lower()
    words = key.split()
    if words and words[0] == "the":
        words = words[1:]
    if not words:
        return True
    index = directory._index
    if key in index.person_names or (len(words) <= 2 and words[0] in index.by_first):
        return True
    services = index.services
    if key in services or " ".join(words) in services:
        return True
    return bool(len(words) == 1 and (phrase.isupper() or _is_filler(words[0])))


# -- teams -------------------------------------------------------------------------------

_TEAM_WORDS = r"team|lot|people|folks|department|dept|practice|guys|colleagues"


@dataclass(frozen=True)
class _TeamHit:
    team: str
    card: str | None
    start: int
    end: int


def _find_team(text: str, directory: Directory) -> _TeamHit | None:
    """'the real estate team', 'H&S team', 'someone in Corporate Tax'."""
    for patterns, team, card_id in directory._index.team_patterns:
        for pattern in patterns:
            match = pattern.search(text)
            if match:
                return _TeamHit(team, card_id, match.start(), match.end())
    match = re.search(rf"\b(?:the\s+)?([A-Za-z&]+(?:\s+[A-Za-z&]+)?)\s+(?:{_TEAM_WORDS})\b", text)
    if match and not re.search(r"\b(?:my|our|their|your|his|her)\s*$", text[: match.start()]):
        return _TeamHit("", None, match.start(), match.end())  # a team we can't name yet
    return None


def _bare_team(slot: str, directory: Directory) -> _TeamHit | None:
    """A receiver slot that is just a team or a service: `/refer Acme to Tax`."""
    hit = _find_team("to " + slot.lstrip(), directory)
    if hit is None or hit.start != 0 or not hit.team:
        return None
    shift = 3 - (len(slot) - len(slot.lstrip()))  # offsets back into `slot`
    return _TeamHit(hit.team, hit.card, max(0, hit.start - shift), max(0, hit.end - shift))


def _team_patterns(
    directory: Directory,
) -> list[tuple[tuple[re.Pattern[str], ...], str, str | None]]:
    """How a team or a service is named as a receiver, longest name first."""
    names: list[tuple[str, str, str | None]] = []
    for card in directory.cards:
        names += [(form, card.team, card.id) for form in (card.title, *card.aliases)]
    names += [(team, team, _team_card(team, directory)) for team in directory.teams()]
    names.sort(key=lambda n: len(n[0]), reverse=True)  # stable: a card's name wins a tie
    compiled = []
    for form, team, card_id in names:
        name = _loose(form)
        patterns = (
            rf"\b(?:the\s+)?{name}\s+(?:{_TEAM_WORDS})\b",
            rf"\b(?:someone|somebody|anyone|a partner|a colleague)\s+(?:in|from)\s+"
            rf"(?:the\s+)?{name}\b",
            rf"\bto\s+(?:the\s+)?{name}(?=\s*(?:$|[,.;:!?(]|\s(?:for|re|about)\b))",
        )
        compiled.append((tuple(re.compile(p, re.IGNORECASE) for p in patterns), team, card_id))
    return compiled


def _team_card(team: str, directory: Directory) -> str | None:
    """The team's card named after the team ("Employment" → "Employment law"), if just one."""
    named = [
        c.id
        for c in directory.cards
        if c.team.lower() == team.lower() and c.title.lower().startswith(team.lower())
    ]
    return named[0] if len(named) == 1 else None


# -- cards -------------------------------------------------------------------------------

CardScorer = Callable[[str, Sequence[Card]], dict[str, float]]
"""Scores how well some words fit each card: {card id: evidence}, 0 or absent for none.

The seam for card inference: a search engine can stand in for `KeywordCardScorer`. A
scorer may carry a `min_evidence` attribute, the least score that names a card (default
`MIN_EVIDENCE`, on the keyword scorer's scale).
"""


class KeywordCardScorer:
    """Stemmed keyword overlap with a card's title, aliases and text, weighted by rarity.

    Title and alias words count three times more than words from the card's prose, and a
    whole alias phrase found in the text adds a bonus, so "TUPE" or "merger control" say
    more than a word that happens to appear in a paragraph.
    """

    NAME_WEIGHT = 3.0
    BODY_WEIGHT = 1.0
    PHRASE_BONUS = 2.0
    RELATED_SHARE = 0.5  # a word sharing a 5-letter stem start: acquiring ~ acquisitions

    def __init__(self, cards: Sequence[Card]):
        self.cards = list(cards)
        self._name_words: dict[str, set[str]] = {}
        self._body_words: dict[str, set[str]] = {}
        self._phrases: dict[str, list[tuple[str, ...]]] = {}
        self._related_cache: dict[str, str | None] = {}
        document_frequency: Counter[str] = Counter()
        for card in self.cards:
            # service names are noun phrases: "will disputes" is about wills
            names = [
                re.sub(r"\bwill\b", "wills", name, flags=re.IGNORECASE)
                for name in (card.title, *card.aliases, card.id.replace("-", " "))
            ]
            self._phrases[card.id] = [tuple(_tokens(n)) for n in names if len(_tokens(n)) > 1]
            self._name_words[card.id] = {w for n in names for w in _tokens(n)}
            body = " ".join(card.sections.values())
            self._body_words[card.id] = set(_tokens(body))
            document_frequency.update(self._name_words[card.id] | self._body_words[card.id])
        total = max(len(self.cards), 1)
        self._idf = {w: math.log(1 + total / df) for w, df in document_frequency.items()}

    def __call__(self, text: str, cards: Sequence[Card]) -> dict[str, float]:
        words = _tokens(text)
        unique = set(words)
        kin = {k for w in unique for k in _KIN.get(w, ()) if k not in unique}
        scores: dict[str, float] = {}
        for card in cards:
            if card.id not in self._name_words:
                continue
            score = 0.0
            for word in unique:
                score += self._word_score(word, card.id)
            for word in kin:  # "buying" counts a little for "acquisitions"
                score += self.RELATED_SHARE * self._word_score(word, card.id)
            for phrase in self._phrases[card.id]:
                if _contains(words, phrase):
                    score += self.PHRASE_BONUS * len(phrase)
            if score > 0:
                scores[card.id] = score
        return scores

    def _word_score(self, word: str, card_id: str) -> float:
        idf = self._idf.get(word)
        if idf is not None:
            if word in self._name_words[card_id]:
                return self.NAME_WEIGHT * idf
            return self.BODY_WEIGHT * idf if word in self._body_words[card_id] else 0.0
        related = self._related(word)
        if related is None:
            return 0.0
        return self.RELATED_SHARE * self._word_score(related, card_id)

    def _related(self, word: str) -> str | None:
        """A card word that starts like an unseen word, for stems the stemmer keeps apart."""
        if len(word) < 6:
            return None
        if word not in self._related_cache:
            prefix = word[:5]
            close = [w for w in self._idf if len(w) >= 6 and w.startswith(prefix)]
            self._related_cache[word] = max(
                close, key=lambda w: (len(os.path.commonprefix([w, word])), w), default=None
            )
        return self._related_cache[word]


_KIN_GROUPS = (
    # words people use for the same deal or dispute, as stems
    ("buy", "bought", "purchas", "acquir", "acquisit", "takeov"),
    ("sell", "sold", "sale", "dispos", "exit", "vendor"),
    ("merg", "merger", "acquisit"),
    ("sue", "su", "litig", "claim", "disput", "court"),
    ("sack", "fire", "dismiss", "dismissal"),
    ("hack", "breach", "ransomwar", "cyber", "attack"),
    ("divorc", "separ", "split"),
    ("rais", "fundrais", "invest", "investor", "fund"),
    ("lend", "loan", "borrow", "debt", "financ", "refinanc"),
    ("bust", "insolv", "administr", "liquid", "distress"),
)
_KIN: dict[str, tuple[str, ...]] = {}
for _group in _KIN_GROUPS:
    for _stem_word in _group:
        _KIN[_stem_word] = tuple(
            dict.fromkeys((*_KIN.get(_stem_word, ()), *(w for w in _group if w != _stem_word)))
        )


def _contains(words: Sequence[str], phrase: tuple[str, ...]) -> bool:
    size = len(phrase)
    return any(tuple(words[i : i + size]) == phrase for i in range(len(words) - size + 1))


def _default_scorer(directory: Directory) -> CardScorer:
    return directory._index.scorer


MIN_EVIDENCE = 4.0
OWNER_PRIOR = 2.0
TEAM_PRIOR = 1.5


def infer_card(
    words: str,
    directory: Directory,
    receivers: Sequence[str] = (),
    team: str | None = None,
    scorer: CardScorer | None = None,
) -> str | None:
    """The card the words are about, favouring the receiver's own cards and team.

    Evidence from the words is weighed by a prior: cards the receiver owns count double,
    cards of the receiver's (or the named) team half as much again; too little evidence
    means no card, rather than a guess.
    """
    scorer = scorer or _default_scorer(directory)
    scores = scorer(words, directory.cards)
    if not scores:
        return None
    least = float(getattr(scorer, "min_evidence", MIN_EVIDENCE))
    teams = {team.lower()} if team else set()
    for email in receivers:
        person = directory.person(email)
        if person:
            teams.add(person.team.lower())
    best: tuple[float, str | None] = (0.0, None)
    for card in directory.cards:
        evidence = scores.get(card.id, 0.0)
        if evidence < least:
            continue
        prior = 1.0
        if any(email in card.owners for email in receivers):
            prior = OWNER_PRIOR
        elif card.team.lower() in teams:
            prior = TEAM_PRIOR
        if evidence * prior > best[0]:
            best = (evidence * prior, card.id)
    return best[1]


# -- referrals ---------------------------------------------------------------------------

_SLASH = re.compile(r"^\s*/refer(?:ral)?\b\s*(?P<rest>.*)$", re.IGNORECASE | re.DOTALL)


def parse_referral(
    text: str,
    speaker_email: str,
    directory: Directory,
    scorer: CardScorer | None = None,
) -> ReferralDraft:
    """Read a referral from a sentence or a `/refer` command; see `ReferralDraft`."""
    text = normalise(text)
    slash = _SLASH.match(text)
    if slash:
        return _parse_slash(slash.group("rest"), speaker_email, directory, scorer)
    return _parse_sentence(text, speaker_email, directory, scorer)


MAX_CHARS = 1200  # a referral is a message, not a memo; bounds the work on pasted text


def normalise(text: str) -> str:
    """Chat text as typed: HTML entities from Slack undone, odd spaces made plain, bounded."""
    text = html.unescape(text).replace("\u00a0", " ").replace("\u2009", " ")
    return text.strip()[:MAX_CHARS]


def _parse_sentence(
    text: str, speaker: str, directory: Directory, scorer: CardScorer | None
) -> ReferralDraft:
    amount = parse_amount(text)
    amount_span = [(amount.start, amount.end)] if amount else []
    early = _find_people(text, directory, skip=amount_span)
    client = _find_client(text, directory, early, None)
    skip = amount_span + ([(client.start, client.end)] if client else [])
    mentions = _find_people(text, directory, skip=skip)
    team = _find_team(text, directory)
    topic = _topic_words(text, client, mentions, team, directory)
    return _draft(text, topic, speaker, directory, scorer, client, mentions, team, amount)


def _parse_slash(
    rest: str, speaker: str, directory: Directory, scorer: CardScorer | None
) -> ReferralDraft:
    """`/refer <client> to <person|team> [for <service>] [value] [note]` (or `a | b | c | d`)."""
    if "|" in rest:
        parts = [p.strip() for p in rest.split("|")]
        client_slot, receiver_slot = parts[0], parts[1] if len(parts) > 1 else ""
        words = " ".join(parts[2:])
    else:
        split = _receiver_split(rest, directory)
        if split is None:
            return _parse_sentence(rest, speaker, directory, scorer)
        client_slot, receiver_slot = rest[: split[0]], rest[split[1] :]
        words = receiver_slot
    amount = parse_amount(rest)
    client = None
    if client_slot.strip():
        name, known = resolve_client(client_slot, directory)
        client = _ClientHit(name, known, 0, 0) if name else None
    mentions = _find_people(receiver_slot, directory, any_case=True)[:1]
    if mentions and "|" not in rest:
        words = receiver_slot[mentions[0].end :]
    team = _find_team(receiver_slot, directory) or _bare_team(receiver_slot, directory)
    topic = _topic_words(words, client, [], team if "|" in rest else None, directory)
    return _draft(rest, topic, speaker, directory, scorer, client, mentions, team, amount)


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
    note: str,
    topic: str,
    speaker: str,
    directory: Directory,
    scorer: CardScorer | None,
    client: _ClientHit | None,
    mentions: Sequence[_Mention],
    team: _TeamHit | None,
    amount: Amount | None,
) -> ReferralDraft:
    receiver, candidates = _choose_receiver(mentions, speaker, note)
    draft = ReferralDraft(note=note.strip())
    if client:
        draft.client, draft.client_known = client.name, client.known
    draft.receiver, draft.receiver_candidates = receiver, candidates
    if amount:
        draft.value = amount.value
        draft.currency = amount.currency or directory.currency
    if team and team.card:
        draft.card = team.card
    elif not _NO_MATTER.search(topic):
        receivers = [receiver] if receiver else candidates
        draft.card = infer_card(topic, directory, receivers, team.team if team else None, scorer)
    if candidates and draft.card:
        draft.receiver_candidates = _by_fit(candidates, draft.card, directory)
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
    mentions: Sequence[_Mention], speaker: str, text: str = ""
) -> tuple[str | None, list[str]]:
    """One person is the receiver; several people behind one first name are candidates.

    With several people named, the one the text sends the client to wins: an @mention,
    "to/→ Tom", "Tom please/?", over "Priya's client" or "spoke with Priya".
    """
    speaker = speaker.strip().lower()
    named = [
        _Mention(tuple(e for e in m.emails if e != speaker), m.start, m.end, m.explicit)
        for m in mentions
    ]
    named = [m for m in named if m.emails]
    if not named:
        return None, []
    ranked = sorted(
        enumerate(named),
        key=lambda item: (_receiver_cue(item[1], text), len(item[1].emails) == 1, item[0]),
    )
    chosen = ranked[-1][1]
    if len(chosen.emails) == 1:
        return chosen.emails[0], []
    return None, list(chosen.emails)


def _receiver_cue(mention: _Mention, text: str) -> int:
    """How strongly the words around a mention make that person the receiver."""
    if not text:
        return 0
    before = text[max(0, mention.start - 12) : mention.start].lower()
    after = text[mention.end : mention.end + 16].lower()
    score = 3 if mention.explicit else 0
    if re.search(r"(?:\bto|→|->|=>|\bfor|\bask|\bcan|\bcould)\s*(?:the\s+)?$", before):
        score += 2
    if re.match(
        r"\s*(?:[?!]|please|pls|would|could|can|to lead|is|['’]s (?:on|the|happy|keen))", after
    ):
        score += 1
    if re.match(r"['’]s\s+(?!on\b|the\b|happy|keen|great|good|best|right)[a-z]", after):
        score -= 2  # "Priya's client": the owner, not the receiver
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
    spans += [(a.start, a.end) for _, a in _amounts(text)]
    if team and team.card is None and team.team:
        spans.append((team.start, team.end))
    kept = "".join(" " if _overlaps(i, i + 1, spans) else ch for i, ch in enumerate(text))
    if client:
        forms = [client.name] + [
            f for c in directory.clients if c.name == client.name for f in c.aliases
        ]
        for form in sorted(forms, key=len, reverse=True):
            kept = re.sub(_loose(form), " ", kept, flags=re.IGNORECASE)
    kept = _SLACK_MENTION.sub(" ", _EMAIL.sub(" ", kept))
    return kept


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
    """
    text = normalise(text)
    if _is_lookup_question(text):
        return False
    cued = bool(_REFERRAL_CUES.search(text))
    if directory is None:
        return cued
    draft = parse_referral(text, "", directory)
    to_whom = bool(draft.receiver or draft.receiver_candidates or draft.receiver_team)
    if cued:
        return to_whom or draft.client is not None
    return to_whom and (draft.client is not None or draft.value is not None)


def _is_lookup_question(text: str) -> bool:
    return bool(
        re.match(
            r"^\s*(?:who|which team|what team|does anyone|do we|is there|anyone)\b",
            text,
            re.IGNORECASE,
        )
    ) and not re.search(r"→|->|=>", text)


# -- status updates ----------------------------------------------------------------------

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
    amount = parse_amount(text)
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


# -- the directory's index ---------------------------------------------------------------


_NICKNAME_TEXT = """alexander alex; alexandra alex; andrew andy; anthony tony; benjamin ben;
    catherine kate cathy; katherine kate; christopher chris; christine chris; daniel dan;
    david dave; deborah debbie; edward ed ted; elizabeth liz beth; frederick fred;
    gregory greg; jacob jake; james jim jamie; jennifer jen jenny; jonathan jon; joseph joe;
    joshua josh; kenneth ken; margaret maggie meg; matthew matt; michael mike mick;
    nicholas nick nicky; patricia trish; peter pete; rebecca becky becca; richard rich rick;
    samuel sam; samantha sam; stephen steve; steven steve; susan susie; theodore theo;
    thomas tom; timothy tim; victoria vicky tori; william liam; zachary zach"""
_NICKNAMES: dict[str, tuple[str, ...]] = {
    names.split()[0]: tuple(names.split()[1:]) for names in _NICKNAME_TEXT.split(";")
}


class _Index:
    """Everything the parser looks up, built once per directory."""

    def __init__(self, directory: Directory):
        self.by_slack = {p.slack_id: p.email for p in directory.people if p.slack_id}
        self.by_first: dict[str, list[Person]] = {}
        for person in directory.people:
            self.by_first.setdefault(person.first_name.lower(), []).append(person)
        nicknames: dict[str, list[Person]] = {}
        for person in directory.people:
            for short in _NICKNAMES.get(person.first_name.lower(), ()):
                nicknames.setdefault(short, []).append(person)
        for short, people in nicknames.items():
            self.by_first.setdefault(short, people)  # a real first name always wins
        self.person_names = {p.name.lower() for p in directory.people}
        self.client_forms = _client_forms(directory)
        self.client_patterns = [_client_pattern(form) for form, _ in self.client_forms]
        self.client_keys = [(_client_key(form), client) for form, client in self.client_forms]
        self.services = {t.lower() for t in directory.teams()}
        for card in directory.cards:
            self.services.update(x.lower() for x in (card.title, *card.aliases))
        self.team_patterns = _team_patterns(directory)
        self.scorer = KeywordCardScorer(directory.cards)


@dataclass(frozen=True)
class ClientMention:
    """A known client named in a text: which client, and where (`text[start:end]`)."""

    client: str
    start: int
    end: int


def client_mentions(text: str, directory: Directory) -> list[ClientMention]:
    """Every known client named in `text` by name or alias, in order (acronyms match case)."""
    return [ClientMention(h.name, h.start, h.end) for h in _known_clients(text, directory)]
