"""Stemming from the turn threads at once: each thread gets the stems one thread gets alone.

A Snowball stemmer keeps the word it is working on in itself; one shared by the threads
gave wrong stems, or an IndexError that turned a referral sentence into an apology.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator

import pytest

from bot._search.text import stem
from bot.learning import _stems

WORDS = [
    f"{root}{n}{ending}"
    for n in range(150)
    for root in ("relation", "condition")
    for ending in ("alizing", "ational", "fulness")
]


@pytest.fixture
def switching_often() -> Iterator[None]:
    """Threads swapped every microsecond, so that two are inside a stemmer at once."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def _in_threads(work: Callable[[str], object], words: list[str], threads: int = 4) -> list[dict]:
    results: list[dict] = [{} for _ in range(threads)]

    def run(n: int) -> None:
        for word in words:
            results[n][word] = work(word)

    started = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join()
    return results


def test_stems_made_in_four_threads_at_once_are_the_stems_of_one(switching_often: None) -> None:
    stem.cache_clear()
    expected = {w: stem(w) for w in WORDS}
    stem.cache_clear()  # every word is new to the cache again, so every thread stems

    found = _in_threads(stem, WORDS)

    assert all(result == expected for result in found)


def test_question_stems_made_in_four_threads_at_once_are_those_of_one(
    switching_often: None,
) -> None:
    sentences = [f"{w} and {w}s for the {w}ing client" for w in WORDS[:200]]
    expected = {s: _stems(s) for s in sentences}

    found = _in_threads(_stems, sentences)

    assert all(result == expected for result in found)
