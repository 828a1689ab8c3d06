"""Anonymous stories name no client: the check, and the text anyone may read.

A story keeps its client anonymous unless its author asked to name it and the client's
relationship owner agreed. Its title and text are checked for every client the firm knows
(names and aliases, with the referral parser's matching); each name found is replaced by the
client's sector ("a logistics client"). The author gets that version back before the story
can be published, reviewers see the check's result, and every place that shows a story
shows its public text, so "Keep anonymous" holds whatever the story itself says.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from sqlmodel import Session, select

from bot import catalog as content
from bot.render import render
from bot.store.models import Client, Story
from bot.understand import ClientMention, Directory, client_mentions

_SESSION_KEY = "story_privacy.clients"
_FEW = 20


@dataclass(frozen=True)
class PrivacyCheck:
    """Client names found in a story's title and text, and both with each name replaced by
    the client's sector."""

    names: list[str]  # as the story writes them, first mention first
    title: str
    body: str
    sentences: list[str]  # each sentence that named a client, as it reads with the sector

    @property
    def passed(self) -> bool:
        return not self.names


class KnownClients:
    """Every client the firm has known (retired and provisional too), ready to look for."""

    def __init__(self, clients: list[content.ClientRecord]):
        self.directory = Directory(clients=clients)
        self.sectors = {c.name: c.sector for c in clients}
        # Every word of a name or alias is in a text that mentions it (a legal suffix aside,
        # which people leave out). Each form is filed under its rarest word, so a text only
        # runs the full matching for the few clients whose words it holds.
        forms = [
            (c, _required_words(f, f == c.name)) for c in clients for f in (c.name, *c.aliases)
        ]
        frequency = Counter(w for _, words in forms for w in set(words))
        self._by_word: dict[str, list[tuple[content.ClientRecord, frozenset[str]]]] = {}
        for client, words in forms:
            if words:
                rarest = min(words, key=lambda w: (frequency[w], w))
                self._by_word.setdefault(rarest, []).append((client, frozenset(words)))

    @classmethod
    def of(cls, session: Session) -> KnownClients:
        """The firm's clients, read once per session."""
        cached = session.info.get(_SESSION_KEY)
        if isinstance(cached, KnownClients):
            return cached
        rows = session.exec(select(Client)).all()
        known = cls([content.ClientRecord(c.name, tuple(c.aliases), c.sector) for c in rows])
        session.info[_SESSION_KEY] = known
        return known

    def mentions(self, text: str) -> list[ClientMention]:
        words = set(_words(text))
        candidates = list(
            {
                client.name: client
                for word in words
                for client, needed in self._by_word.get(word, ())
                if needed <= words
            }.values()
        )
        if not candidates:
            return []
        # A few candidates get a directory of their own; many (a first word every text
        # uses) share the firm's, compiled once. Either way the same clients are found.
        few = len(candidates) <= _FEW
        return client_mentions(text, Directory(clients=candidates) if few else self.directory)

    def description(self, client: str) -> str:
        """'a logistics client', or the fallback when the sector is unknown."""
        return render("story_client_description", sector=self.sectors.get(client, "").lower())

    def anonymise(self, text: str, named: str | None = None) -> tuple[str, list[str]]:
        """The text with every client but `named` replaced by its sector; the names found."""
        parts: list[str] = []
        found: list[str] = []
        last = 0
        for mention in self.mentions(text):
            if mention.client == named:
                continue
            description = self.description(mention.client)
            if re.search(r"(?:^|[.!?…:]\s+|\n\s*)$", text[: mention.start]):
                description = description[:1].upper() + description[1:]
            parts += [text[last : mention.start], description]
            found.append(text[mention.start : mention.end])
            last = mention.end
        return "".join(parts) + text[last:], found

    def check(self, title: str, body: str, named: str | None = None) -> PrivacyCheck:
        """Check a story; `named` is the one client it may name, if any."""
        public_title, in_title = self.anonymise(title, named)
        public_body, in_body = self.anonymise(body, named)
        names = list(dict.fromkeys(in_title + in_body))
        sentences = [public_title] if in_title else []
        if in_body:
            for sentence in _sentences(body):
                anonymised, found = self.anonymise(sentence, named)
                if found:
                    sentences.append(anonymised)
        return PrivacyCheck(names, public_title, public_body, sentences)


def nameable_client(session: Session, story: Story) -> str | None:
    """The client a story may name: its own, once the owner agreed (or while they decide)."""
    if not (story.name_client and story.client_id):
        return None
    if story.client_approval not in ("pending", "approved"):
        return None
    client = session.get(Client, story.client_id)
    return client.name if client else None


def check_story(session: Session, story: Story) -> PrivacyCheck:
    """The check as the story stands: may it be published with its own words?"""
    return KnownClients.of(session).check(story.title, story.body, nameable_client(session, story))


def public_text(session: Session, story: Story) -> tuple[str, str]:
    """The title and text anyone may read: client names replaced unless the owner agreed."""
    named = nameable_client(session, story) if story.client_approval == "approved" else None
    check = KnownClients.of(session).check(story.title, story.body, named)
    return check.title, check.body


def review_check(session: Session, story: Story) -> dict[str, object]:
    """What the check says, for a reviewer's eyes: descriptions, never client names."""
    known = KnownClients.of(session)
    mentioned = {m.client for m in known.mentions(f"{story.title}\n{story.body}")}
    own = nameable_client(session, story)
    return {
        "passed": not mentioned,
        "own_client": own in mentioned and story.client_approval == "pending",
        "descriptions": sorted({known.description(name) for name in mentioned}),
    }


def _required_words(form: str, name: bool = False) -> list[str]:
    """The words a mention of `form` must contain; for a name, without a last word that may
    be a legal suffix (alphabetic, at most 7 letters: Ltd, Limited, plc, GmbH, Corp...)."""
    words = _words(form)
    if name and len(words) > 1 and re.fullmatch(r"[^\W\d_]{1,7}", words[-1]):
        words = words[:-1]
    return words


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.casefold())


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+|\n+", text) if s.strip()]
