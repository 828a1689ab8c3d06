"""How informative a word is, from its frequency in general English (not in one firm).

A firm's own cards say little about which words of a question matter: a word every card
uses may still be the point of the question, and a word no card uses may be noise. How rare
a word is in English at large carries over from firm to firm; `wordfreq` measures it.
"""

from __future__ import annotations

from functools import lru_cache

# Zipf frequency is log10 of a word's frequency per billion words: about 7 for "the",
# 5 for "company", 3 for "payroll", 0 for a word wordfreq has never seen.
_CEILING = 7.0


@lru_cache(maxsize=100_000)
def information(word: str) -> float:
    """How much a folded word says: 0 for the commonest words, up to 7 for unknown ones."""
    return max(0.0, _CEILING - zipf(word))


def zipf(word: str) -> float:
    """The word's Zipf frequency in general English (0 when wordfreq doesn't know it)."""
    from wordfreq import zipf_frequency  # a third of a second to import: only when asked

    return float(zipf_frequency(word, "en"))
