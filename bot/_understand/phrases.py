"""Client names found in text through one index, whatever the number of clients.

Every way of writing a client (name, name without legal suffix, alias) is filed under its
first word, folded. A message is read word by word: only the forms filed under a word of the
message, all of whose words the message has, are looked for in it (by `spans`, which compiles
nothing). So a sentence costs about the same with 30 clients or 30,000, and a new client is
one more entry rather than a rebuilt index.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from bot.catalog import ClientRecord

_FIRST_WORD = re.compile(r"\w+")
# (−length, filing order, form, client, the form's words lower-cased)
_Form = tuple[int, int, str, ClientRecord, frozenset[str]]


@dataclass
class ClientForms:
    """Every form of every client, filed by first word, plus the folded keys for look-ups."""

    spans: Callable[[str, str], list[tuple[int, int]]]  # (form, text) → where it is named
    key: Callable[[str], str]
    by_first: dict[str, list[_Form]] = field(default_factory=dict)
    anywhere: list[_Form] = field(default_factory=list)
    exact: dict[str, ClientRecord] = field(default_factory=dict)
    keys: list[str] = field(default_factory=list)  # folded forms of 6+ letters, for typos
    key_clients: list[ClientRecord] = field(default_factory=list)
    sorted_keys: list[tuple[str, str]] = field(default_factory=list)  # (key, client name)
    count: int = 0  # forms filed so far: among forms of one length, the first filed wins

    def add(self, form: str, client: ClientRecord) -> None:
        """File one way of writing a client (longer forms are tried first)."""
        said = frozenset(w.lower() for w in _FIRST_WORD.findall(form))
        entry = (-len(form), self.count, form, client, said)
        self.count += 1
        first = _FIRST_WORD.match(form)
        bucket = self.by_first.setdefault(first.group().lower(), []) if first else self.anywhere
        bisect.insort(bucket, entry, key=lambda e: (e[0], e[1]))
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
        said = {w.lower() for w in _FIRST_WORD.findall(text)}
        candidates = list(self.anywhere)
        for word in said:
            candidates += self.by_first.get(word, ())
        found = []
        for rank, order, form, client, words in candidates:
            # a form can only be there if all its words are: most candidates stop here,
            # before the text is scanned for it ("The …" clients for any "the")
            if not words <= said:
                continue
            for start, end in self.spans(form, text):
                found.append((rank, order, start, end, client))
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
