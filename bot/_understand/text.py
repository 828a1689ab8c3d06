"""Words shared by the parser's parts: stems, tokens, spans."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from bot._search.text import content_stems, fold, words

# Words that say "this is a referral" rather than what it is about, on top of search's
# stop words (which say "this is a question"): the same folding, stemming and stop words
# as search, so a card is found from a referral as it is found from a question.
REFERRAL_WORDS = frozenset(
    """referral referrals refer referred referring referal introduce introduced introducing
    intro introduction pass passing passed send sending sent over log logging logged lot
    folks client clients new contact maybe probably approx est estimate ballpark fees fee
    worth budget value take taking pick picking call chat meet meeting loop looping please
    pls thanks thank cheers hi hey hello bot crossbot quick urgent asap ish
    expect expecting expected next last week weeks month months year years today tomorrow
    yesterday morning afternoon evening monday tuesday wednesday thursday friday soon later
    ceo cfo coo cto cio md fd gc hrd chair founder founders senior junior boss lunch coffee
    dinner drinks calls phone email emails discuss discussed discussing connect connected
    details detail follow following touch lovely great nice ones advice advise
    about above after again against all am because before below between both down during
    each few further hers herself himself itself more most no nor not once only other own
    same such through until yet ive im weve theyre theyd youre thats theres cant dont wont
    hes shes id ill""".split()
)


def tokens(text: str) -> list[str]:
    """The stemmed content words of `text`, through search's pipeline (`bot._search.text`)."""
    said = [w for w in words(text) if w not in REFERRAL_WORDS and not w.isdigit()]
    return content_stems(said)


def overlaps(start: int, end: int, spans: Iterable[tuple[int, int]]) -> bool:
    """Whether [start, end) overlaps any of `spans`."""
    return any(start < s_end and s_start < end for s_start, s_end in spans)


@lru_cache(maxsize=100_000)
def fold_name(name: str) -> str:
    """A name as compared: case and accents ignored ("Órla" = "orla", "O'Brien" = "obrien")."""
    return fold(name).replace("'", "").replace("-", "").strip()
