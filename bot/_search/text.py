"""Turning free text into comparable terms: folding, tokenising, stemming."""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache
from pathlib import Path

import snowballstemmer

_WORD = re.compile(r"[a-z0-9]+")
_APOSTROPHE = re.compile(r"'s\b|'(?=\w)")  # "client's" -> "client", "won't" -> "wont"
_IT = re.compile(r"\bIT\b")
_AMPERSAND_ACRONYM = re.compile(r"\b([A-Za-z]{1,2})\s*&\s*([A-Za-z]{1,2})\b")

# Words that say "this is a question" rather than what it is about. Kept short on purpose:
# BM25's idf already discounts what every card says; these are the words a card never
# says but every question does.
STOPWORDS = frozenset(
    """
    a an and any anyone anybody are as at be been being but by can could did do does doing
    done for from get gets getting got had has have having he her here hers him his how i if
    in into is it its just me my myself of off on one or our ours ourselves out over please
    she so some someone somebody something than that the their them then there these they
    this those to too under up us very was we were what when where which while who whom
    whose why will with would you your yours need needs needed want wants wanted looking
    find help helps helping know knows tell ask asking re ve ll d s t m also like about
    work working works firm team guy person people colleague colleagues best good right
    should shall might may must i'm i've we've let lets sort sorts deal deals dealing
    handle handles handling who's what's else around really quite etc able anything everyone
    """.split()
)


def fold(text: str) -> str:
    """Lower-case, strip accents, and spell '&' as 'and' so variants compare equal."""
    if "IT" in text:
        text = _IT.sub(" information technology ", text)  # 'IT' the department, not 'it'
    if "&" in text:
        text = joined_acronyms(text)
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text.replace("\u2019", "'"))
        text = text.encode("ascii", "ignore").decode("ascii")  # drops the accents
    text = text.casefold().replace("&", " and ")
    if "'" not in text:
        return text
    return _APOSTROPHE.sub("", text)


def words(text: str) -> list[str]:
    """The folded words of `text`; hyphens and slashes separate words."""
    return folded_words(fold(text))


def folded_words(folded: str) -> list[str]:
    """The words of text already passed through `fold` (which leaves it ASCII)."""
    found = folded.translate(_SPACES).split()
    return _testaments(found) if "will" in found else found


# Everything but lower-case letters and digits separates words (faster than a regex).
_SPACES = {c: " " for c in range(128) if not chr(c).isdigit() and not "a" <= chr(c) <= "z"}


_BEFORE_NOUN = frozenset("a an the my his her their our your its no new old living mutual".split())
_AFTER_NOUN = frozenset(
    "and or was is has had in for with dispute disputes writing drafting review trust written "
    "made updated challenge contested executor executors".split()
)


def _testaments(found: list[str]) -> list[str]:
    """'will' the document becomes 'wills'; 'will' the verb stays a stopword."""
    out = list(found)
    for i, word in enumerate(found):
        if word != "will":
            continue
        before = found[i - 1] if i else ""
        after = found[i + 1] if i + 1 < len(found) else ""
        if is_testament(before, after):
            out[i] = "wills"
    return out


def is_testament(before: str, after: str) -> bool:
    """Whether 'will' between these words ("" at either end) is the document: 'a will',
    'will dispute', a will at the end; else it is the verb."""
    return before in _BEFORE_NOUN or after in _AFTER_NOUN or not after


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The Snowball stem of one folded word (numbers and short words stay as they are);
    US, UK and Australian spellings of a word share a stem ('labor'/'labour')."""
    if len(word) <= 3 or word.isdigit():
        return word
    found = str(stemmer().stemWord(spelling(word)))
    if found == word and word[-1] == "s" and word[-2] in "aeio" and len(word) <= 6:
        return word[:-1]  # 'NDAs', 'SPAs', 'CVAs': Snowball keeps an acronym's plural s
    return found


_LOCAL = threading.local()


def stemmer() -> snowballstemmer.basestemmer.BaseStemmer:
    """This thread's English Snowball stemmer: a stemmer keeps the word it is working on in
    itself, so one shared by the turn threads gives wrong stems or an IndexError."""
    found = getattr(_LOCAL, "stemmer", None)
    if found is None:
        found = _LOCAL.stemmer = snowballstemmer.stemmer("english")
    return found


def phrasal(verb: str, particle: str) -> str:
    """One term for a phrasal verb, whatever the verb's form: 'takes over' and 'take over'
    are 'takeover', 'lay off' is 'layoff'."""
    return stem(stem(verb) + particle)


def spelling(word: str) -> str:
    """One spelling for the variants of English ('organize' -> 'organise', 'labor' ->
    'labour', 'licence' -> 'license', 'travelled' -> 'traveled', 'paediatric' -> 'pediatric')."""
    if word in _SPELLINGS:
        return _SPELLINGS[word]
    if "iz" in word and len(word) > 5 and not _NOT_IZE.search(word):
        word = _IZE.sub(r"is\1", word)
    if "yz" in word:
        word = _YZE.sub(r"ys\1", word)
    if word.startswith(_GREEK_AE):
        word = _AE.sub(lambda m: m.group(0).replace("ae", "e").replace("oe", "e"), word, count=1)
    match = _OUR.match(word)
    if match:
        return f"{match.group(1)}our{match.group(2)}"
    match = _DOUBLE_L.match(word)
    if match:
        return match.group(1) + match.group(2)
    return word


_IZE = re.compile(r"iz(e|es|ed|ing|er|ers|ation|ations|able)$")
_NOT_IZE = re.compile(r"(size|prize|seiz|maize|baize|citizen|wizard|horizon|pizza|blizz)")
_YZE = re.compile(r"yz(e|es|ed|ing|er|ers)$")
_GREEK_AE = ("paed", "orthopaed", "anaes", "haem", "oesoph", "foet", "aetiol", "oestr")
_AE = re.compile(r"ae|oe")
_OUR = re.compile(
    r"^(lab|col|fav|hon|behavi|neighb|harb|rum|hum|vap|endeav|sav|arm|flav|odd|rig|"
    r"vig|clam|splend|ferv|parl)or(|s|ed|ing|er|ers|able|ably|ite|ites|ful|ist|hood|ly)$"
)
_DOUBLE_L = re.compile(
    r"^(travel|model|cancel|label|fuel|counsel|signal|total|level|channel|marshal|equal|"
    r"dial|libel|enrol|fulfil|instal|jewel|compel|rival|tunnel|panel|funnel|quarrel)"
    r"l(ing|ed|er|ers|or|ors|ment|ments|ery)$"
)
_SPELLINGS = {
    **dict.fromkeys(["licence", "licences"], "license"),
    **{w: w.replace("ence", "ense") for w in ("defence", "defences", "offence", "offences")},
    "pretence": "pretense",
    **dict.fromkeys(["programme", "programmes"], "program"),
    "programmed": "programed",
    "practise": "practice",
    "practised": "practiced",
    "practising": "practicing",
    "center": "centre",
    "centers": "centres",
    "centered": "centred",
    "theater": "theatre",
    "theaters": "theatres",
    "fiber": "fibre",
    "liter": "litre",
    "liters": "litres",
    "meager": "meagre",
    "judgement": "judgment",
    "judgements": "judgments",
    "acknowledgement": "acknowledgment",
    "ageing": "aging",
    "mold": "mould",
    "molds": "moulds",
    "moldy": "mouldy",
    "tire": "tyre",
    "tires": "tyres",
    "aluminum": "aluminium",
    "catalog": "catalogue",
    "catalogs": "catalogues",
    "dialog": "dialogue",
    "analog": "analogue",
    "gray": "grey",
    "plow": "plough",
    "jewelry": "jewellery",
    "sulfur": "sulphur",
    "fulfill": "fulfil",
    "fulfillment": "fulfilment",
    "enroll": "enrol",
    "enrollment": "enrolment",
    "installment": "instalment",
    "installments": "instalments",
    "skeptical": "sceptical",
    "manoeuvre": "maneuver",
    "kerb": "curb",
    "tonne": "ton",
    "tonnes": "tons",
    "artefact": "artifact",
    "artefacts": "artifacts",
    "mum": "mom",
}


# Words that say whose the problem is: "my laptop" is an internal request, "laptop" may not be.
OWNERSHIP = frozenset({"my", "mine", "our", "ours", "own", "i", "me", "we", "us"})

# Particles that make phrasal verbs: "lay off" means what "layoff" does, "sell up" a sale.
PARTICLES = frozenset({"off", "out", "up", "over", "down", "back"})


# Each word seen while indexing, to its stem ("" for a stopword): indexing a big firm
# meets the same words over and over, and a dict lookup in C beats a loop in Python.
_STEMS: dict[str, str] = dict.fromkeys(STOPWORDS, "")


def content_stems(said: list[str]) -> list[str]:
    """The stems of the words that aren't stopwords (the hot loop of indexing)."""
    try:
        return [found for found in map(_STEMS.__getitem__, said) if found]
    except KeyError:  # a new word: learn every new word of this text, then look again
        for word in said:
            if word not in _STEMS:
                _STEMS[word] = stem(word)
        return [found for found in map(_STEMS.__getitem__, said) if found]


def terms(text: str, keep: frozenset[str] = frozenset()) -> list[str]:
    """Stemmed content terms of `text`, in order; `keep` are stopwords to keep."""
    return [stem(w) for w in words(text) if w in keep or w not in STOPWORDS]


def joined_acronyms(text: str) -> str:
    """Glue letter-ampersand-letter acronyms ('R&D', 'M&A') into one word ('rd', 'ma')."""
    return _AMPERSAND_ACRONYM.sub(r"\1\2", text)


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Common English words, so that typo correction leaves real words alone ('patient' is
    not a misspelt 'patent'). From symspellpy's frequency list; empty if it isn't installed."""
    try:
        import symspellpy
    except ImportError:  # optional: correction is merely bolder without it
        return frozenset()
    path = Path(symspellpy.__file__).parent / "frequency_dictionary_en_82_765.txt"
    if not path.is_file():
        return frozenset()
    found = set()
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            word, _, count = line.partition(" ")
            if count and int(count) >= _COMMON:
                found.add(word)
    return frozenset(found)


_COMMON = 20_000  # rarer entries of the list include misspellings
