"""What the firm-scale benchmarks share: the SQLite file a generated firm goes into.

`digest_scale.py`, `dashboard_scale.py` and `leaderboard_scale.py` each generate a big firm
(bulk inserts) into SQLite, in a scratch folder or in a file named on the command line to
keep it. Not a benchmark itself; the scripts import it (the repository root is put on the
path, not installed).
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


def load_firm_arguments(parser: argparse.ArgumentParser, root: Path, users: int = 50) -> None:
    """`--users`, `--people` and `--content`: `load.py`'s firm, for the one-process benchmarks."""
    parser.add_argument("--users", type=int, default=users)
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--content", type=Path, default=root / "content")


@contextlib.contextmanager
def load_firm_on_sqlite(args: argparse.Namespace, name: str) -> Iterator[tuple[Any, str]]:
    """`load.py`'s firm as `args` ask, in a SQLite file `name` of a scratch folder (removed
    afterwards): the firm and the database's URL."""
    from load import build_firm, prepare_database

    with tempfile.TemporaryDirectory() as folder:
        firm = build_firm(args.content, args.users, Path(folder) / "content", args.people)
        url = f"sqlite:///{Path(folder) / name}"
        prepare_database(url, firm)
        yield firm, url
