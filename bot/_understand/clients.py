"""Clients named in text: known clients (also with typos) and new ones in telling places."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rapidfuzz import fuzz

from bot._understand import phrases
from bot._understand.names import _Mention
from bot._understand.phrases import ClientForms
from bot._understand.text import fold_name
from bot._understand.text import overlaps as _overlaps
from bot.catalog import ClientRecord

if TYPE_CHECKING:
    from bot._understand.directory import Directory


_LEGAL_SUFFIX = r"(?:ltd|limited|llp|plc|inc|llc|gmbh|bv|nv|sa|sas|spa|ag|pty|co|corp)"
_PUNCTUATION = re.compile(r"[^\w\s&]")  # compiled once: `client_key` folds every client
_SUFFIX = re.compile(rf"\b{_LEGAL_SUFFIX}\b")
# A capitalised word; a full stop ends it when a new sentence starts ("Bakeries. Owner").
_CAP_WORD = r"[A-Z][\w'’-]*(?:\.[\w'’-]+)*(?:\.(?!\s+[A-Z]))?"
_CAP_TOKEN = rf"(?:{_CAP_WORD}|&|[A-Z0-9]{{2,}}|(?:ltd|plc|llp|inc|limited|llc)\b\.?)"
_JOINERS = r"(?:&|and|of|de|du|la|le|von|van|der|y)"
_CAP_PHRASE = re.compile(
    rf"(?<![\w@])(?:[Tt]he\s+)?{_CAP_WORD}(?:\s+(?:{_JOINERS}\s+)?{_CAP_TOKEN})*"
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


def client_forms(clients: Iterable[ClientRecord]) -> list[tuple[str, ClientRecord]]:
    """Every way of writing each client (name, name without suffix, aliases), longest first."""
    forms = [(form, c) for c in clients for form in _forms_of(c)]
    return sorted(forms, key=lambda pair: len(pair[0]), reverse=True)


def _forms_of(client: ClientRecord) -> list[str]:
    forms = dict.fromkeys((client.name, _without_suffix(client.name), *client.aliases))
    return [form for form in forms if form]


def client_index(clients: Iterable[ClientRecord]) -> ClientForms:
    """The index of every client's forms that `_known_clients` and `resolve_client` read."""
    return phrases.client_forms(client_forms(clients), client_spans, client_key)


def add_client(forms: ClientForms, client: ClientRecord) -> None:
    """File a new client (one made by a referral, say) in an existing index."""
    for form in sorted(_forms_of(client), key=len, reverse=True):
        forms.add(form, client)


@functools.lru_cache(maxsize=4096)  # text that isn't ASCII would compile it every time
def client_pattern(form: str) -> re.Pattern[str]:
    """A client's name in running text; short all-capital aliases (ACP) must match case."""
    return re.compile(rf"(?<![\w@.]){_loose(form)}(?=['’]s\b|[^\w]|$)", _case_flags(form))


def _case_flags(form: str) -> re.RegexFlag:
    return re.NOFLAG if form.isupper() and len(form) <= 5 else re.IGNORECASE


def client_spans(form: str, text: str) -> list[tuple[int, int]]:
    """Where `client_pattern(form)` matches in `text`, found without compiling a pattern.

    A pattern per client cost about 0.2 ms on its first mention (and crowded the `re`
    module's cache); ASCII text is scanned with `str.find` instead, anything else goes
    through the pattern (its Unicode case folding and word classes are the reference).
    """
    plain, written = text.replace("’", "'"), form.replace("’", "'")
    words = written.split()
    if not (words and plain.isascii() and written.isascii()):
        return [match.span() for match in client_pattern(form).finditer(text)]
    if _case_flags(form) == re.IGNORECASE:
        plain, words = plain.lower(), [word.lower() for word in words]
    spans: list[tuple[int, int]] = []
    at = plain.find(words[0])
    while at >= 0:
        end = _rest_of_name(plain, at + len(words[0]), words[1:])
        if end is not None and _standalone(plain, at, end):
            spans.append((at, end))
            at = plain.find(words[0], end)
        else:
            at = plain.find(words[0], at + 1)
    return spans


def _rest_of_name(text: str, end: int, words: list[str]) -> int | None:
    """Where the name ends if `words` follow `end`, each after some whitespace (`\\s+`)."""
    for word in words:
        gap = end
        while gap < len(text) and text[gap].isspace():
            gap += 1
        if gap == end or not text.startswith(word, gap):
            return None
        end = gap + len(word)
    return end


def _standalone(text: str, start: int, end: int) -> bool:
    """The pattern's look-arounds: no word, "@" or "." just before, no word character after."""
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    return not (_is_word(before) or before in "@.") and not _is_word(after)


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"  # ASCII only here: the same as `\\w`


def _known_clients(text: str, directory: Directory) -> list[_ClientHit]:
    """Known clients named exactly (acronym aliases must match case), longest first."""
    hits: list[_ClientHit] = []
    taken: list[tuple[int, int]] = []
    for _, _, start, end, client in directory._index.clients.matches(text):
        if _overlaps(start, end, taken):
            continue
        taken.append((start, end))
        if not _longer_name(text, end):
            hits.append(_ClientHit(client.name, True, start, end))
    return sorted(hits, key=lambda h: h.start)


_NAME_GOES_ON = re.compile(rf"\s+(?!(?:{_ROLES}|{_LEGAL_SUFFIX})\b)[A-Z][a-z]{{2,}}", re.IGNORECASE)


@dataclass(frozen=True)
class ClientMention:
    """A known client named in a text: which client, and where (`text[start:end]`)."""

    client: str
    start: int
    end: int


def client_mentions(text: str, directory: Directory) -> list[ClientMention]:
    """Every known client named in `text` by name or alias, in order (acronyms match case)."""
    return [ClientMention(h.name, h.start, h.end) for h in _known_clients(text, directory)]


def _longer_name(text: str, end: int) -> bool:
    """ "Kessler Aviation" is not the client "Kessler": a capitalised word carries the name on."""
    match = _NAME_GOES_ON.match(text, end)
    return match is not None and match.group().lstrip()[:1].isupper()


def _without_suffix(name: str) -> str:
    """ "Acme Ltd" → "Acme": people rarely say the legal suffix."""
    return re.sub(rf"[\s,]+{_LEGAL_SUFFIX}\.?$", "", name, flags=re.IGNORECASE).strip()


def _loose(form: str) -> str:
    """A regex for a client name tolerant of spacing and curly apostrophes."""
    # either apostrophe stands for both (one pass: a second replace would rewrite the first's)
    parts = [re.sub("['’]", "['’]", re.escape(p)) for p in form.split()]
    return r"\s+".join(parts)


def resolve_client(name: str, directory: Directory) -> tuple[str, bool]:
    """The known client `name` refers to (also with a typo), else `name` as written."""
    cleaned = name.strip(" \t,.;:-–—'\"()")
    if not cleaned:
        return "", False
    key = client_key(cleaned)
    forms = directory._index.clients
    exact = forms.exact.get(key)
    if exact is not None:
        return exact.name, True
    typo = forms.typo_of(key, _same_shape) if len(key) >= 6 else None
    if typo is not None:
        return typo.name, True
    prefixed = _prefix_client(key, directory)
    return (prefixed, True) if prefixed else (cleaned, False)


def _prefix_client(key: str, directory: Directory) -> str | None:
    """The one known client whose name starts with `key` ("Northwind" → Northwind Foods)."""
    if len(key) < 5:
        return None
    owners = directory._index.clients.starting(key)
    return owners.pop() if len(owners) == 1 else None


def _same_shape(a: str, b: str) -> bool:
    """Typos keep the number of words and each word close (Nortwind Foods ~ Northwind Foods)."""
    words_a, words_b = a.split(), b.split()
    return len(words_a) == len(words_b) and all(
        fuzz.ratio(x, y) >= 75 for x, y in zip(words_a, words_b, strict=True)
    )


def client_key(name: str) -> str:
    """A name folded for comparison: case, punctuation and legal suffixes ignored."""
    folded = _PUNCTUATION.sub("", name.lower().replace("’", "'"))
    folded = _SUFFIX.sub(" ", folded)
    return " ".join(folded.replace("&", " and ").split())


def _referral_client(
    text: str, directory: Directory, people: Sequence[_Mention], slot: str | None
) -> _ClientHit | None:
    """The client a message is about: known names first, then names in telling places."""
    if slot is not None:
        name, known = resolve_client(slot, directory)
        start = text.find(slot)
        return _ClientHit(name, known, start, start + len(slot)) if name else None
    person_spans = [(m.start, m.end) for m in people]
    named = [
        h
        for h in _known_clients(text, directory)
        if not _overlaps(h.start, h.end, person_spans) and not _disowned(text, h.start)
    ]
    if named:
        return named[0]
    fuzzy = _fuzzy_client(text, directory, person_spans)
    if fuzzy:
        return fuzzy
    return _unknown_client(text, directory, people)


_DISOWNED = re.compile(
    r"(?:nothing\s+to\s+do\s+with|not\s+to\s+be\s+confused\s+with|unrelated\s+to|"
    r"no\s+relation\s+to|not\s+(?:the\s+)?(?:same\s+as\s+)?|rather\s+than|unlike)\s*(?:the\s+)?$",
    re.IGNORECASE,
)


def _disowned(text: str, start: int) -> bool:
    """ "Kestrel Aviation (nothing to do with Kestrel Logistics)": not the client meant."""
    return bool(_DISOWNED.search(text[max(0, start - 40) : start]))


def _fuzzy_client(
    text: str, directory: Directory, person_spans: list[tuple[int, int]]
) -> _ClientHit | None:
    """A known client written with a typo or shortened ("Nortwind Foods", "Northwind")."""
    for match in _CAP_PHRASE.finditer(text):
        phrase = _trim_phrase(match.group())
        if len(client_key(phrase)) < 6 or _is_not_a_client(phrase, directory):
            continue
        start = text.find(phrase, match.start())
        if _overlaps(start, start + len(phrase), person_spans) or _disowned(text, start):
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
        # "New client: Sandridge Bakeries.", "new one for you - Stanbridge Cycles Ltd are…"
        (
            r"\bnew\s+(?:client|prospect|contact|lead|one|matter|enquiry|instruction)\b"
            r"(?:\s+(?:via|from|through|for\s+you|of\s+(?:mine|ours))\b[^:—–.,;!?]{0,25}?)?"
            r"\s*(?:[:—–]|\s-\s)\s*(?P<x>[^;!?()]+)",
            re.IGNORECASE,
            False,
        ),
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
    if key in index.person_names or (len(words) <= 2 and fold_name(words[0]) in index.by_first):
        return True
    services = index.services
    if key in services or " ".join(words) in services:
        return True
    return bool(len(words) == 1 and (phrase.isupper() or _is_filler(words[0])))
