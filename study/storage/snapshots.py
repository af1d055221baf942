"""A consistent copy of a SQLite study storage, taken while workers may be writing to it.

A study that runs for hours is committed as it grows. Copying the database file while a worker
writes to it can catch half a transaction; SQLite's online backup API copies a consistent state
however busy the source is. `python -m study.snapshot` is the command.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

__all__ = ["snapshot_sqlite"]

_SQLITE_PREFIX = "sqlite:///"


def _path(location: str) -> Path:
    """A file path from a path or a `sqlite:///` URL."""
    return Path(location[len(_SQLITE_PREFIX):] if location.startswith(_SQLITE_PREFIX)
                else location)


def snapshot_sqlite(source: str, destination: str) -> Path:
    """Copies the SQLite database `source` to `destination` as one consistent state.

    The copy is written beside the destination and renamed over it, so a reader of
    `destination` sees either the old snapshot or the new one, never a partial file.

    Args:
        source: A SQLite file, as a path or a `sqlite:///path` URL; it must exist.
        destination: Where the copy goes (path or URL); its folder is created.

    Returns:
        The destination path.

    Raises:
        FileNotFoundError: when `source` does not exist.
        ValueError: when `source` and `destination` are the same file.
    """
    source_path, destination_path = _path(source), _path(destination)
    if not source_path.is_file():
        raise FileNotFoundError(f"`source` must be an existing SQLite file, but got {source!r}.")
    if destination_path.exists() and destination_path.resolve() == source_path.resolve():
        raise ValueError(f"`destination` must differ from `source`, but both are {source!r}.")
    destination_path.parent.mkdir(parents=True, exist_ok=True)
    partial = destination_path.with_name(destination_path.name + ".partial")
    partial.unlink(missing_ok=True)
    # Read-only on the source: a snapshot must never create or change the live storage.
    reader = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=60)
    writer = sqlite3.connect(partial)
    try:
        reader.backup(writer)
    finally:
        writer.close()
        reader.close()
    partial.replace(destination_path)
    return destination_path
