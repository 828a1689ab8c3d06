"""Built content kept on disk between processes, keyed by everything it was built from.

`crossbot ask` is a fresh process per question. Reading the cards and building the search
index costs more than answering, and opening the database the ordinary way imports
SQLAlchemy. A snapshot holds what was built (the catalog and the index) under a key made of
the content's fingerprint (the files of a content folder, or the database's content
figures from `bot.store.probe`), the settings that shape it, and the code that built it.

A snapshot is only ever a shortcut: a missing, stale, unreadable or corrupt file reads as
None and the caller builds afresh (and saves a new one); a file that cannot be written is
skipped. Snapshots are pickles, so the folder is created private to its user (0700), and
a file is replaced whole (written beside, then renamed), never read half-written.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import sys
import tempfile
from pathlib import Path
from typing import Any

FORMAT = 2  # bump when what a snapshot holds changes shape
_CODE = Path(__file__).resolve().parent  # the bot package: its code and shipped data
log = logging.getLogger(__name__)


def folder_stamp(folder: Path | None) -> str:
    """A digest of every file under `folder`, names and bytes: any edit changes it.

    Contents, not modification times: two saves within the file system's clock tick, or a
    checkout that restores old times, still change the stamp.
    """
    digest = hashlib.sha256()
    if folder is None or not folder.is_dir():
        return ""
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not d.startswith("."))
        for name in sorted(files):
            path = Path(root, name)
            try:
                data = path.read_bytes()
            except OSError:
                data = b"\0unreadable"
            digest.update(f"{path.relative_to(folder)}\0{len(data)}\0".encode())
            digest.update(data)
    return digest.hexdigest()


def key(*parts: object) -> str:
    """One key for what a snapshot was built from: the parts, this Python and this code."""
    whole = (FORMAT, sys.version, _code_stamp(), parts)
    return hashlib.sha256(repr(whole).encode()).hexdigest()


def _code_stamp() -> list[tuple[str, int, int]]:
    """Each file of the bot package as (path, size, modification time), the way Python
    checks its own bytecode against the source: cheaper than reading 1.4 MB each question."""
    stamp, folders = [], [str(_CODE)]
    while folders:
        with os.scandir(folders.pop()) as entries:
            for entry in entries:
                if entry.is_dir():
                    if entry.name != "__pycache__":
                        folders.append(entry.path)
                    continue
                stat = entry.stat()
                stamp.append((entry.path.removeprefix(str(_CODE)), stat.st_size, stat.st_mtime_ns))
    return sorted(stamp)


def path_for(folder: Path, source: str) -> Path:
    """The snapshot file of one source (a content folder or a database): one file each."""
    return folder / f"snapshot-{hashlib.sha256(source.encode()).hexdigest()[:16]}.pickle"


def load(path: Path, wanted: str) -> Any | None:
    """What `path` holds if it was saved under `wanted`; None if missing, stale or corrupt."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    try:
        saved_format, saved_key, value = pickle.loads(data)  # noqa: S301  (our own 0700 folder)
    except Exception:  # a truncated or foreign file: build afresh
        log.debug("snapshot %s unreadable", path.name)
        return None
    if saved_format != FORMAT or saved_key != wanted:
        return None
    return value


def save(path: Path, under: str, value: Any) -> None:
    """Keep `value` under the key `under`, replacing what `path` held; failures are skipped."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        data = pickle.dumps((FORMAT, under, value), protocol=pickle.HIGHEST_PROTOCOL)
        handle, scratch = tempfile.mkstemp(dir=path.parent, prefix=".snapshot-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.replace(scratch, path)
        except BaseException:
            Path(scratch).unlink(missing_ok=True)
            raise
    except Exception as exc:  # a read-only home, a full disk, an unpicklable value
        log.debug("snapshot %s not saved: %s", path.name, type(exc).__name__)
