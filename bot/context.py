"""What a turn is handled with: the store, the settings, the clock and the content caches."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, inspect
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import select

from bot.catalog import Catalog, from_store
from bot.firm import Firm
from bot.money import use_firm_currency
from bot.people import by_email
from bot.settings import Settings
from bot.store import Store
from bot.store.models import Client, LearnedAlias, Person, ServiceCard, utcnow
from bot.store.models import Firm as FirmRow

PEOPLE_CACHE_SIZE = 50_000
_PERSON = inspect(Person).class_manager


@dataclass
class Context:
    """Shared by every turn of one process. Cheap to build in tests: `Context(Store())`.

    The catalog (and anything derived from it, such as the search index) is cached and
    re-read when a `crossbot load` changed the database. That check costs two queries, so it
    runs at most every `content_check_seconds` rather than on every turn; `refresh()` forces it.

    People looked up by email (the speaker of every turn) are cached too: forgotten at once
    when this process writes to the person table, and after `content_check_seconds` for
    writes by other processes (a `crossbot load`).
    """

    store: Store
    settings: Settings = field(default_factory=lambda: Settings())
    now: Callable[[], datetime] = utcnow
    content_check_seconds: float = 2.0
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _checked_at: float = field(default=float("-inf"), repr=False)
    _people: dict[str, tuple[float, int, dict[str, Any] | None]] = field(
        default_factory=dict, repr=False
    )

    def catalog(self) -> Catalog:
        """The content as the database holds it, re-read only when a load changed it."""
        with self._lock:
            due = time.monotonic() - self._checked_at >= self.content_check_seconds
            if due or "catalog" not in self._cache:
                self._reload_if_changed()
            catalog: Catalog = self._cache["catalog"]
            return catalog

    def firm(self) -> Firm:
        """The firm as loaded, with the CROSSBOT_CURRENCY / CROSSBOT_TIMEZONE overrides."""
        stored = self.catalog().firm
        if stored is None:
            return Firm(currency=self.settings.currency, timezone=self.settings.timezone)
        return self.settings.apply(stored)

    def cached(self, name: str, build: Callable[[Catalog], Any]) -> Any:
        """A value derived from the catalog (a search index, say), rebuilt when it changes."""
        with self._lock:
            catalog = self.catalog()
            if name not in self._cache:
                self._cache[name] = build(catalog)
            return self._cache[name]

    def person(self, email: str) -> Person | None:
        """The person with this email, or None; a fresh object each call (callers may change it)."""
        key = email.strip().lower()
        now = time.monotonic()
        version = self.store.people_version  # read before the query: see Store.people_version
        hit = self._people.get(key)
        if hit is None or hit[1] != version or now - hit[0] >= self.content_check_seconds:
            with self.store.read() as session:
                found = by_email(session, key)
                values = found.model_dump() if found is not None else None
            if len(self._people) >= PEOPLE_CACHE_SIZE:
                self._people.clear()
            hit = self._people[key] = (now, version, values)
        if hit[2] is None:
            return None
        # Built the way the ORM builds a row it loads (no validation: the values came from
        # the database), then detached, as if read in a session that has closed.
        person: Person = _PERSON.new_instance()
        person.__dict__.update(hit[2])
        make_transient_to_detached(person)
        return person

    def refresh(self) -> None:
        """Check for new content on the next use (after loading content in this process)."""
        with self._lock:
            self._checked_at = float("-inf")
            self._people.clear()

    def _reload_if_changed(self) -> None:
        version = self._content_version()
        self._checked_at = time.monotonic()
        if self._cache.get("version") == version:
            return
        with self.store.read() as session:
            catalog = from_store(session)
        self._cache.clear()
        self._cache.update(catalog=catalog, version=version)
        use_firm_currency(self.firm().currency)  # amounts are shown in the firm's terms

    def _content_version(self) -> tuple[Any, ...]:
        with self.store.read() as session:
            cards = session.exec(select(func.count(), func.max(ServiceCard.changed_at))).one()
            people = session.exec(
                select(func.count(), func.max(Person.id)).where(Person.active)
            ).one()
            # Provisional clients created by referrals must reach the parser's directory too.
            clients = session.exec(select(func.count(), func.max(Client.id))).one()
            # An alias accepted from a question is part of its card at once (bot.learning).
            aliases = session.exec(select(func.count(), func.max(LearnedAlias.id))).one()
            firm = session.exec(select(FirmRow.name, FirmRow.currency, FirmRow.timezone)).first()
        return (*cards, *people, *clients, *aliases, *(firm or ()))
