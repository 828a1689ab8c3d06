"""What a turn is handled with: the store, the settings, the clock and the content caches."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.catalog import Catalog, from_store, new_clients
from bot.firm import Firm
from bot.logs import log_failure
from bot.money import use_firm_currency
from bot.people import values_by_email
from bot.settings import Settings
from bot.store import Store, detached
from bot.store.models import Client, LearnedAlias, Person, ServiceCard, utcnow
from bot.store.models import Firm as FirmRow

PEOPLE_CACHE_SIZE = 50_000
log = logging.getLogger(__name__)


@dataclass
class Context:
    """Shared by every turn of one process. Cheap to build in tests: `Context(Store())`.

    The catalog (and anything derived from it, such as the search index) is cached and
    re-read when the database changed. That check costs a few queries, so it runs at most
    every `content_check_seconds` rather than on every turn; `refresh()` forces it.

    A change updates only what it touches: new clients (a referral's provisional client) are
    read alone and added in place to every derived value that has `add_clients`; changed
    cards, aliases or people are re-read and the derived values rebuilt in a background
    thread while the old ones keep answering (`wait_for_rebuild()` waits for it). A new
    firm, the first load and `refresh()` reload at once.

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
    _builders: dict[str, Callable[[Catalog], Any]] = field(default_factory=dict, repr=False)
    _rebuild: threading.Thread | None = field(default=None, repr=False)
    _reload_now: bool = field(default=False, repr=False)
    _generation: int = field(default=0, repr=False)  # a reload makes a running rebuild stale
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
            self._builders.setdefault(name, build)
            if name not in self._cache:
                self._cache[name] = build(catalog)
            return self._cache[name]

    def wait_for_rebuild(self, timeout: float | None = None) -> None:
        """Wait until a background rebuild of the content caches, if one runs, is done."""
        thread = self._rebuild
        if thread is not None:
            thread.join(timeout)

    def person(self, email: str, session: Session | None = None) -> Person | None:
        """The person with this email, or None; a fresh object each call (callers may change it).

        Not cached yet, they are read in `session` when one is open (saving a transaction).
        """
        key = email.strip().lower()
        now = time.monotonic()
        version = self.store.people_version  # read before the query: see Store.people_version
        hit = self._people.get(key)
        if hit is None or hit[1] != version or now - hit[0] >= self.content_check_seconds:
            with nullcontext(session) if session is not None else self.store.read() as reader:
                values = values_by_email(reader, key)
            if len(self._people) >= PEOPLE_CACHE_SIZE:
                self._people.clear()
            hit = self._people[key] = (now, version, values)
        if hit[2] is None:
            return None
        return detached(Person, hit[2])

    def refresh(self) -> None:
        """Reload the content at the next use (after loading content in this process)."""
        with self._lock:
            self._checked_at = float("-inf")
            self._reload_now = True
            self._people.clear()

    def _reload_if_changed(self) -> None:
        version = self._content_version()
        self._checked_at = time.monotonic()
        old: _Version | None = self._cache.get("version")
        reload_now, self._reload_now = self._reload_now, False
        if old == version:
            return
        if reload_now or old is None or old.firm != version.firm:
            self._reload(version)
        elif (old.cards, old.people) == (version.cards, version.people):
            if not self._add_clients(old, version):
                self._rebuild_in_background(version)
        else:
            self._rebuild_in_background(version)

    def _reload(self, version: _Version) -> None:
        self._generation += 1
        with self.store.read() as session:
            catalog = from_store(session)
        self._cache.clear()
        self._cache.update(catalog=catalog, version=version)
        use_firm_currency(self.firm().currency)  # amounts are shown in the firm's terms

    def _add_clients(self, old: _Version, version: _Version) -> bool:
        """Add clients created since `old` in place; False when more than that changed."""
        if self._rebuild is not None and self._rebuild.is_alive():
            return False  # the rebuild reads every client anyway
        known = old.clients[1] or 0
        with self.store.read() as session:
            added = new_clients(session, known)
            edited = session.exec(
                select(func.max(Client.changed_at)).where(col(Client.id) <= known)
            ).one()
        if edited != old.clients[2] or old.clients[0] + len(added) != version.clients[0]:
            return False  # a load edited a client too: the rebuild reads them all
        catalog: Catalog = self._cache["catalog"]
        self._cache["catalog"] = replace(catalog, clients=[*catalog.clients, *added])
        for name in list(self._builders):
            value = self._cache.get(name)
            if value is None:
                continue
            if hasattr(value, "add_clients"):
                value.add_clients(added)
            else:
                del self._cache[name]  # built afresh when next asked for
        self._cache["version"] = version
        return True

    def _rebuild_in_background(self, version: _Version) -> None:
        """Re-read the content and rebuild the derived values; the old ones answer meanwhile."""
        if self._rebuild is not None and self._rebuild.is_alive():
            return
        builders = {n: b for n, b in self._builders.items() if n in self._cache}
        self._rebuild = threading.Thread(
            target=self._rebuilt,
            args=(version, builders, self._generation),
            name="crossbot-content",
            daemon=True,
        )
        self._rebuild.start()

    def _rebuilt(
        self, version: _Version, builders: dict[str, Callable[[Catalog], Any]], generation: int
    ) -> None:
        try:
            with self.store.read() as session:
                catalog = from_store(session)
            values = {name: build(catalog) for name, build in builders.items()}
        except Exception as exc:  # the old content keeps answering; the next check retries
            log_failure(log, "content rebuild failed", exc)
            return
        with self._lock:
            if generation != self._generation:
                return  # reloaded meanwhile: this is older than what the cache holds
            self._cache.clear()
            self._cache.update(values, catalog=catalog, version=version)
            use_firm_currency(self.firm().currency)

    def _content_version(self) -> _Version:
        with self.store.read() as session:
            cards = session.exec(select(func.count(), func.max(ServiceCard.changed_at))).one()
            # Count and highest id see rows added; the latest change stamp sees rows edited.
            people = session.exec(
                select(func.count(), func.max(Person.id), func.max(Person.changed_at)).where(
                    Person.active
                )
            ).one()
            # Provisional clients created by referrals must reach the parser's directory too.
            clients = session.exec(
                select(func.count(), func.max(Client.id), func.max(Client.changed_at))
            ).one()
            # An alias accepted from a question is part of its card at once (bot.learning).
            aliases = session.exec(select(func.count(), func.max(LearnedAlias.id))).one()
            firm = session.exec(select(FirmRow.name, FirmRow.currency, FirmRow.timezone)).first()
        return _Version((*cards, *aliases), tuple(people), tuple(clients), tuple(firm or ()))


class _Version(NamedTuple):
    """What the content caches were built from, part by part."""

    cards: tuple[Any, ...]  # cards and the aliases learnt for them
    people: tuple[Any, ...]  # (count, highest id, latest change)
    clients: tuple[Any, ...]  # (count, highest id, latest change)
    firm: tuple[Any, ...]
