"""What a turn is handled with: the store, the settings, the clock and the content caches."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import select

from bot.catalog import Catalog, from_store
from bot.settings import Settings
from bot.store import Store
from bot.store.models import Person, ServiceCard, utcnow


@dataclass
class Context:
    """Shared by every turn of one process. Cheap to build in tests: `Context(Store())`."""

    store: Store
    settings: Settings = field(default_factory=Settings)
    now: Callable[[], datetime] = utcnow
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def catalog(self) -> Catalog:
        """The content as the database holds it, re-read only when a load changed it."""
        version = self._content_version()
        if self._cache.get("version") != version:
            with self.store.read() as session:
                self._cache.clear()
                self._cache["catalog"] = from_store(session)
                self._cache["version"] = version
        catalog: Catalog = self._cache["catalog"]
        return catalog

    def cached(self, name: str, build: Callable[[Catalog], Any]) -> Any:
        """A value derived from the catalog (a search index, say), rebuilt when it changes."""
        catalog = self.catalog()
        if name not in self._cache:
            self._cache[name] = build(catalog)
        return self._cache[name]

    def _content_version(self) -> tuple[Any, ...]:
        with self.store.read() as session:
            cards = session.exec(
                select(
                    func.count(), func.max(ServiceCard.changed_at), func.max(ServiceCard.loaded_at)
                )
            ).one()
            people = session.exec(select(func.count()).where(Person.active)).one()
        return (*cards, people)
