"""What the firm-scale benchmarks share: the SQLite file a generated firm goes into.

`digest_scale.py`, `dashboard_scale.py` and `leaderboard_scale.py` each generate a big firm
(bulk inserts) into SQLite, in a scratch folder or in a file named on the command line to
keep it. Not a benchmark itself; the scripts import it (the repository root is put on the
path, not installed).
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

from bot.store import Store


@contextlib.contextmanager
def sqlite_store(keep: Path | None, name: str) -> Iterator[tuple[Store, bool]]:
    """A migrated store on `keep`, else on `name` in a scratch folder removed afterwards,
    and whether its file is new (the firm is still to be generated); disposed on exit."""
    with tempfile.TemporaryDirectory() as folder:
        path = keep or Path(folder) / name
        fresh = not path.exists()
        store = Store(f"sqlite:///{path}")
        try:
            yield store, fresh
        finally:
            store.dispose()
