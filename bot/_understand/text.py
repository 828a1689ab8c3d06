"""Words shared by the parser's parts: stems, tokens, spans."""

from __future__ import annotations

import re
from collections.abc import Iterable

import snowballstemmer

from bot._search.text import fold

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


def overlaps(start: int, end: int, spans: Iterable[tuple[int, int]]) -> bool:
    """Whether [start, end) overlaps any of `spans`."""
    return any(start < s_end and s_start < end for s_start, s_end in spans)


def fold_name(name: str) -> str:
    """A name as compared: case and accents ignored ("Órla" = "orla", "O'Brien" = "obrien")."""
    return fold(name).replace("'", "").replace("-", "").strip()
