"""Everything the parser looks up in a directory, built once per directory."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cached_property

from bot._understand.cards import KeywordCardScorer
from bot._understand.clients import add_client, client_index
from bot._understand.directory import Directory
from bot._understand.teams import TeamNames
from bot._understand.text import fold_name
from bot.catalog import ClientRecord, PersonRecord

_NICKNAME_TEXT = """alexander alex; alexandra alex; andrew andy; anthony tony; benjamin ben;
    catherine kate cathy; katherine kate; christopher chris; christine chris; daniel dan;
    david dave; deborah debbie; edward ed ted; elizabeth liz beth; frederick fred;
    gregory greg; jacob jake; james jim jamie; jennifer jen jenny; jonathan jon; joseph joe;
    joshua josh; kenneth ken; margaret maggie meg; matthew matt; michael mike mick;
    nicholas nick nicky; patricia trish; peter pete; rebecca becky becca; richard rich rick;
    samuel sam; samantha sam; stephen steve; steven steve; susan susie; theodore theo;
    thomas tom; timothy tim; victoria vicky tori; william liam; zachary zach"""
_NICKNAMES: dict[str, tuple[str, ...]] = {
    names.split()[0]: tuple(names.split()[1:]) for names in _NICKNAME_TEXT.split(";")
}


class Index:
    """Everything the parser looks up, built once per directory."""

    def __init__(self, directory: Directory):
        self.by_slack = {p.slack_id: p.email for p in directory.people if p.slack_id}
        self.by_first: dict[str, list[PersonRecord]] = {}
        for person in directory.people:
            self.by_first.setdefault(fold_name(person.first_name), []).append(person)
        nicknames: dict[str, list[PersonRecord]] = {}
        for person in directory.people:
            for short in _NICKNAMES.get(fold_name(person.first_name), ()):
                nicknames.setdefault(short, []).append(person)
        for short, people in nicknames.items():
            self.by_first.setdefault(short, people)  # a real first name always wins
        self.person_names = {p.name.lower() for p in directory.people}
        self.by_surname: dict[str, list[PersonRecord]] = {}
        for person in directory.people:
            if len(person.name.split()) > 1:
                surname = fold_name(person.name.split()[-1])
                self.by_surname.setdefault(surname, []).append(person)
        locals_: dict[str, list[str]] = {}
        for person in directory.people:
            locals_.setdefault(person.email.split("@")[0].lower(), []).append(person.email)
        # only an unambiguous local part with a separator ("laura.keane") names a person
        self.by_local = {
            local: emails[0]
            for local, emails in locals_.items()
            if len(emails) == 1 and re.search(r"[._]", local)
        }
        self.clients = client_index(directory.clients)
        self.client_by_name: dict[str, ClientRecord] = {}
        for client in directory.clients:
            self.client_by_name.setdefault(client.name, client)
        self.services = {t.lower() for t in directory.teams()}
        for card in directory.cards:
            self.services.update(x.lower() for x in (card.title, *card.aliases))
        self.team_names = TeamNames(directory)
        self._cards = directory.cards

    @cached_property
    def scorer(self) -> KeywordCardScorer:
        """Built on the first card inference: the cheap first check needs names only."""
        return KeywordCardScorer(self._cards)

    def add_clients(self, clients: Iterable[ClientRecord]) -> None:
        """File more clients (from referrals, say) without building the rest again."""
        for client in clients:
            add_client(self.clients, client)
            self.client_by_name.setdefault(client.name, client)
