"""How informative a word is, from its frequency in general English (not in one firm).

A firm's own cards say little about which words of a question matter: a word every card
uses may still be the point of the question, and a word no card uses may be noise. How rare
a word is in English at large carries over from firm to firm; `wordfreq` measures it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import lru_cache

# Zipf frequency is log10 of a word's frequency per billion words: about 7 for "the",
# 5 for "company", 3 for "payroll", 0 for a word wordfreq has never seen.
_CEILING = 7.0
# Frequencies looked up, by folded word (wordfreq's own answers; bounded for a long server).
_ZIPF: dict[str, float] = {}
_KEEP = 500_000


@lru_cache(maxsize=100_000)
def information(word: str) -> float:
    """How much a folded word says: 0 for the commonest words, up to 7 for unknown ones."""
    return max(0.0, _CEILING - zipf(word))


def zipf(word: str) -> float:
    """The word's Zipf frequency in general English (0 when wordfreq doesn't know it)."""
    found = _ZIPF.get(word)
    if found is None:
        if len(_ZIPF) >= _KEEP:
            _ZIPF.clear()
        found = _ZIPF[word] = _looked_up(word)
    return found


def _looked_up(word: str) -> float:
    """wordfreq's `zipf_frequency(word, "en")`. A word of lower-case letters is its own one
    token, so its frequency is read from wordfreq's list as `zipf_frequency` would, without
    its tokeniser (most of the 40 us it takes for each word a question brings)."""
    # half a second with its word list: only when asked
    from wordfreq import get_frequency_dict, zipf_frequency

    if not (word.isascii() and word.isalpha() and word.islower()):
        return float(zipf_frequency(word, "en"))
    frequency = get_frequency_dict("en", "best").get(word)
    if frequency is None:
        return 0.0  # below the list: wordfreq's minimum, Zipf 0
    # `word_frequency`'s rounding (3 significant digits), then `zipf_frequency`'s
    frequency = max(frequency, _MINIMUM)
    frequency = round(frequency, math.floor(-math.log(frequency, 10)) + 3)
    return round(math.log(frequency, 10) + 9, 2)


_MINIMUM = 1e-9  # Zipf 0 as a frequency: `zipf_frequency`'s default floor


def known_zipf() -> dict[str, float]:
    """Every frequency looked up in this process so far (a content snapshot keeps them)."""
    return dict(_ZIPF)


def add_known_zipf(frequencies: Mapping[str, float]) -> None:
    """Frequencies an earlier process looked up: asked again, they need no wordfreq."""
    _ZIPF.update(frequencies)
