"""Client names found in text through one index, whatever the number of clients.

Every way of writing a client (name, name without legal suffix, alias) is filed under all its
words, lower-cased, in order. A form can only be in a message if its words are a run of the
message's words, so a message is cut into its runs of as many words as forms have, and only
the forms filed under one of those runs are looked for (by `spans`, which compiles nothing).
So a sentence costs about the same with 30 clients or 30,000, even when thousands share a
first word ("North …"), and a new client is one more entry rather than a rebuilt index.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from bot.catalog import ClientRecord

_FIRST_WORD = re.compile(r"\w+")
# (−length, filing order, form, client)
_Form = tuple[int, int, str, ClientRecord]


@dataclass
class ClientForms:
    """Every form of every client, filed by its words, plus the folded keys for look-ups."""

    spans: Callable[[str, str], list[tuple[int, int]]]  # (form, text) → where it is named
    key: Callable[[str], str]
    # a form without a word ("&") is filed under (), the run of none every text has
    by_words: dict[tuple[str, ...], list[_Form]] = field(default_factory=dict)
    lengths: set[int] = field(default_factory=set)  # how many words the filed forms have
    exact: dict[str, ClientRecord] = field(default_factory=dict)
    keys: list[str] = field(default_factory=list)  # folded forms of 6+ letters, for typos
    key_clients: list[ClientRecord] = field(default_factory=list)
    sorted_keys: list[tuple[str, str]] = field(default_factory=list)  # (key, client name)
    count: int = 0  # forms filed so far: among forms of one length, the first filed wins

    def add(self, form: str, client: ClientRecord) -> None:
        """File one way of writing a client (longer forms are tried first)."""
        words = _words(form)
        self.by_words.setdefault(words, []).append((-len(form), self.count, form, client))
        self.count += 1
        self.lengths.add(len(words))
        key = self.key(form)
        if not key:
            return
        self.exact.setdefault(key, client)
        if len(key) >= 6:
            self.keys.append(key)
            self.key_clients.append(client)
        bisect.insort(self.sorted_keys, (key, client.name))

    def matches(self, text: str) -> list[tuple[int, int, int, int, ClientRecord]]:
        """Every form found in `text` as (−length, filing order, start, end, client), sorted."""
        said = _words(text)
        runs = {said[at : at + n] for n in self.lengths for at in range(len(said) - n + 1)}
        found = [
            (rank, order, start, end, client)
            for run in runs
            for rank, order, form, client in self.by_words.get(run, ())
            for start, end in self.spans(form, text)
        ]
        return sorted(found, key=lambda f: f[:4])

    def typo_of(self, key: str, same_shape: Callable[[str, str], bool]) -> ClientRecord | None:
        """The client whose folded form is closest to `key` (ratio ≥ 88, same word shape)."""
        found = process.extract(key, self.keys, scorer=fuzz.ratio, score_cutoff=88, limit=None)
        for _, _, position in sorted(found, key=lambda f: (-f[1], f[2])):
            if same_shape(key, self.keys[position]):
                return self.key_clients[position]
        return None

    def starting(self, key: str) -> set[str]:
        """The names of the clients one of whose forms starts with the words of `key`."""
        prefix = key + " "
        found = set()
        for form_key, name in self.sorted_keys[bisect.bisect_left(self.sorted_keys, (prefix,)) :]:
            if not form_key.startswith(prefix):
                break
            found.add(name)
        return found


def _words(text: str) -> tuple[str, ...]:
    return tuple(map(str.lower, _FIRST_WORD.findall(text)))


def client_forms(
    pairs: Iterable[tuple[str, ClientRecord]],
    spans: Callable[[str, str], list[tuple[int, int]]],
    key: Callable[[str], str],
) -> ClientForms:
    """An index over (form, client) pairs."""
    forms = ClientForms(spans, key)
    for form, client in pairs:
        forms.add(form, client)
    return forms
