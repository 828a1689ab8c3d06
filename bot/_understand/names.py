"""People named in text: mentions, emails, full names, first names and nicknames."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rapidfuzz import fuzz

from bot._understand.text import fold_name
from bot._understand.text import overlaps as _overlaps
from bot.catalog import PersonRecord

if TYPE_CHECKING:
    from bot._understand.directory import Directory


_SLACK_MENTION = re.compile(r"<@(?P<id>[UW][A-Z0-9]+)(?:\|(?P<name>[^>]+))?>")
_TEAMS_MENTION = re.compile(r"<at>(?P<name>[^<]+)</at>", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_LOCAL_PART = re.compile(r"(?<![\w@.])[A-Za-z][\w'-]*[._][A-Za-z][\w'-]*(?![\w@]|\.\w)")
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
    by_local = directory._index.by_local
    for match in _LOCAL_PART.finditer(text):  # "laura.keane": an email without its domain
        email = by_local.get(match.group().lower())
        if email:
            add([email], match.start(), match.end(), True)
    for match in re.finditer(r"@(\w[\w'’.-]*(?:\s+\w[\w'’-]*)?)", text):
        found = _names_at(match.group(1), directory, True)
        if found:
            emails, length = found[0]
            add(emails, match.start(), match.start() + 1 + length, True)
    for emails, start, end in _names_in(text, directory, any_case):
        add(emails, start, end)
    mentions.sort(key=lambda m: m.start)
    return mentions


def may_name_a_person(text: str, directory: Directory) -> bool:
    """Whether some word of `text` could be a person (a superset of what `_find_people` finds):
    a mention or email, a known local part, or a first name or surname of someone."""
    if "@" in text or "<at>" in text.lower():
        return True
    index = directory._index
    if any(m.group().lower() in index.by_local for m in _LOCAL_PART.finditer(text)):
        return True
    for word in _WORDS.finditer(text):
        bare = fold_name(_POSSESSIVE.sub("", word.group()))
        if bare in index.by_first or bare in index.by_surname:
            return True
    return False


_WORDS = re.compile(r"[^\W\d_][\w'’-]*")
_POSSESSIVE = re.compile(r"['’]s$")


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
    words = list(_WORDS.finditer(text))
    index = 0
    while index < len(words):
        word = words[index]
        bare = re.sub(r"['’]s$", "", word.group())
        people = by_first.get(fold_name(bare))
        capitalised = bare[:1].isupper()
        if not people and capitalised and index + 1 < len(words):
            people = _misspelt_first_name(bare, words[index + 1].group(), directory)
        previous = words[index - 1].group().lower().rstrip(".") if index else ""
        if (
            not people
            or not (capitalised or any_case or _full_name_follows(words, index, people))
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


def _misspelt_first_name(word: str, following: str, directory: Directory) -> list[PersonRecord]:
    """ "Geriant Prosser": a first name with a typo, before a surname written exactly."""
    surname = fold_name(re.sub(r"['’]s$", "", following))
    folded = fold_name(word)
    if len(folded) < 4 or not following[:1].isupper():
        return []
    return [
        person
        for person in directory._index.by_surname.get(surname, [])
        if fuzz.ratio(folded, fold_name(person.first_name)) >= 75
    ]


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
    words: Sequence[re.Match[str]], index: int, people: Sequence[PersonRecord]
) -> bool:
    """ "Dr Priya Shah" is our Priya Shah when her surname follows exactly."""
    if index + 1 >= len(words):
        return False
    following = fold_name(re.sub(r"['’]s$", "", words[index + 1].group()))
    return any(
        fold_name(p.name.split()[-1]) == following for p in people if len(p.name.split()) > 1
    )


def _word_not_name(word: str, previous: str, following: str) -> bool:
    """First names that are also words ("Will you…", "in May") are read as words there."""
    if word.lower() not in _WORDLIKE_NAMES:
        return False
    return previous in _DATE_WORDS or following.lower() in _NOT_AFTER_NAME


def _surname(word: str, people: Sequence[PersonRecord]) -> PersonRecord | None:
    """The person whose surname `word` is, allowing a typo or two."""
    word = fold_name(re.sub(r"['’]s$", "", word))
    for person in people:  # the surname written exactly: the first such person
        if len(person.name.split()) > 1 and fold_name(person.name.split()[-1]) == word:
            return person
    best: tuple[float, PersonRecord | None] = (0.0, None)
    for person in people:
        surname = fold_name(person.name.split()[-1]) if len(person.name.split()) > 1 else ""
        if not surname:
            continue
        score = 100.0 if word == surname else fuzz.ratio(word, surname)
        if score > best[0]:
            best = (score, person)
    return best[1] if best[0] >= 75 else None
