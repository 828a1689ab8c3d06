"""The directory a parse refers to (people, clients, cards), and what a referral parse says."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from bot.catalog import Card, Catalog, ClientRecord, PersonRecord
from bot.money import DEFAULT_CURRENCY

if TYPE_CHECKING:
    from bot._understand.cards import CardScorer
    from bot._understand.index import Index


@dataclass
class Directory:
    """The people, clients and service cards a parse can refer to.

    `currency` is the firm's currency, assumed when a value is given without one.
    `scorer` infers cards when a parse is given none (default: a `KeywordCardScorer` over
    `cards`, built on first use).
    """

    people: list[PersonRecord] = field(default_factory=list)
    clients: list[ClientRecord] = field(default_factory=list)
    cards: list[Card] = field(default_factory=list)
    currency: str = DEFAULT_CURRENCY
    scorer: CardScorer | None = None

    @classmethod
    def from_catalog(cls, catalog: Catalog, currency: str | None = None) -> Directory:
        """The catalog's people, clients and cards; the currency defaults to the firm's."""
        firm = catalog.firm.currency if catalog.firm else DEFAULT_CURRENCY
        people, clients, cards = list(catalog.people), list(catalog.clients), list(catalog.cards)
        return cls(people, clients, cards, (currency or firm).upper())

    def person(self, email: str) -> PersonRecord | None:
        return self._by_email.get(email.strip().lower())

    def card(self, card_id: str) -> Card | None:
        return self._cards_by_id.get(card_id, (0, None))[1]

    def card_place(self, card_id: str) -> tuple[int, Card] | None:
        """The card with this id and its position in `cards`."""
        return self._cards_by_id.get(card_id)

    def client(self, name: str) -> ClientRecord | None:
        """The client with this canonical name."""
        return self._index.client_by_name.get(name)

    def teams(self) -> list[str]:
        return sorted({p.team for p in self.people} | {c.team for c in self.cards})

    def cards_owned_by(self, email: str) -> list[Card]:
        return list(self._cards_by_owner.get(email, ()))

    @cached_property
    def _cards_by_owner(self) -> dict[str, list[Card]]:
        by_owner: dict[str, list[Card]] = {}
        for card in self.cards:
            for email in dict.fromkeys(card.owners):
                by_owner.setdefault(email, []).append(card)
        return by_owner

    @cached_property
    def _by_email(self) -> dict[str, PersonRecord]:
        return {p.email.lower(): p for p in self.people}

    def add_clients(self, clients: list[ClientRecord]) -> None:
        """New clients (from referrals, say), added to the lookups in place."""
        self.clients.extend(clients)
        if "_index" in self.__dict__:  # built already: extend it rather than build it again
            self._index.add_clients(clients)

    @cached_property
    def _cards_by_id(self) -> dict[str, tuple[int, Card]]:
        by_id: dict[str, tuple[int, Card]] = {}
        for position, card in enumerate(self.cards):
            by_id.setdefault(card.id, (position, card))
        return by_id

    @cached_property
    def _index(self) -> Index:
        """Lookups built once (treat a parsed directory as read-only)."""
        from bot._understand.index import Index  # the index needs every part of the parser

        return Index(self)


@dataclass
class ReferralDraft:
    """What a referral message says, before defaults.

    `client` is the known client's canonical name, or the name as written when unknown
    (`client_known` tells which). `receiver` is set only when one person is meant; an
    ambiguous first name leaves it empty and lists `receiver_candidates`. `receiver_team`
    names a team when the text sends the client to a team rather than a person. `missing`
    lists, in the order to ask, what the text does not say: client, receiver, card.
    """

    client: str | None = None
    client_known: bool = False
    receiver: str | None = None
    receiver_candidates: list[str] = field(default_factory=list)
    receiver_team: str | None = None
    card: str | None = None
    value: float | None = None
    currency: str | None = None
    note: str = ""
    missing: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        """The `crossbot parse-referral --json` contract."""
        value: float | int | None = self.value
        if value is not None and float(value).is_integer():
            value = int(value)
        return {
            "client": self.client,
            "receiver": self.receiver,
            "card": self.card,
            "value": value,
            "currency": self.currency,
            "missing": list(self.missing),
        }
