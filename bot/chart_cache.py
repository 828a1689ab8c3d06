"""Rendered charts, cached in the database so that any replica reuses them.

A chart's key names its kind and scope (a campaign, a digest week) and ends in a digest of
everything it shows, so a cached PNG is never stale: new points make a new key, and the
first request after a change draws once. Drawing runs on one worker thread: matplotlib
costs about 200 ms a chart, one thread bounds the CPU it takes from the turns around it,
and concurrent requests for the same key in one process share that one drawing.
Housekeeping forgets rows older than `KEEP`.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete

from bot.messages import Reply
from bot.store import Store
from bot.store.models import ChartImage, utcnow

# A campaign's chart changes daily and the digest's weekly: older pictures are never asked for.
KEEP = timedelta(days=8)

Draw = Callable[[], bytes]

_lock = threading.Lock()
_pending: dict[str, Future[bytes]] = {}
_drawer: ThreadPoolExecutor | None = None


def chart_key(kind: str, scope: object, shown: Any) -> str:
    """The cache key of a chart of `kind` for `scope` showing `shown` (JSON-able data)."""
    data = json.dumps(shown, sort_keys=True, default=str, separators=(",", ":"))
    return f"{kind}:{scope}:{hashlib.sha256(data.encode()).hexdigest()[:32]}"


@dataclass(frozen=True)
class ChartSpec:
    """A chart not drawn yet: its cache key and how to draw it.

    Read the data inside a transaction, build the spec, and fetch the picture after the
    transaction ends (`cached_chart`), so a turn never holds the database while drawing.
    """

    key: str
    draw: Draw


def cached_chart(store: Store, spec: ChartSpec) -> bytes:
    """The PNG stored under the spec's key; drawn (once) on the chart thread if missing."""
    with store.read() as session:
        found = _stored(session, spec.key)
    if found is not None:
        return found
    png = draw_once(spec.key, spec.draw)
    try:
        with store.write() as session:
            _store(session, spec.key, png)
    except IntegrityError:
        pass  # another replica stored the same picture first
    return png


def cached_chart_in(session: Session, spec: ChartSpec) -> bytes:
    """`cached_chart` inside a write transaction the caller already holds (scheduled jobs)."""
    found = _stored(session, spec.key)
    if found is not None:
        return found
    png = draw_once(spec.key, spec.draw)
    try:
        with session.begin_nested():
            _store(session, spec.key, png)
    except IntegrityError:
        pass
    return png


def draw_once(key: str, draw: Draw) -> bytes:
    """Run `draw` on the chart thread; callers asking for the same key meanwhile share it."""
    with _lock:
        future = _pending.get(key)
        if future is None:
            future = _chart_thread().submit(draw)
            _pending[key] = future
    try:
        return future.result()
    finally:
        with _lock:
            if _pending.get(key) is future:
                del _pending[key]


def prune(session: Session, now: datetime) -> list[Reply]:
    """Housekeeping step: forget charts older than `KEEP`."""
    session.exec(delete(ChartImage).where(col(ChartImage.created_at) < now - KEEP))
    return []


def _stored(session: Session, key: str) -> bytes | None:
    row = session.get(ChartImage, key)
    return row.png if row is not None else None


def _store(session: Session, key: str, png: bytes) -> None:
    if session.get(ChartImage, key) is None:
        session.add(ChartImage(key=key, png=png, created_at=utcnow()))
        session.flush()


def _chart_thread() -> ThreadPoolExecutor:
    global _drawer
    if _drawer is None:
        _drawer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="crossbot-charts")
    return _drawer
