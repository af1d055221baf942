"""A consistent copy of a SQLite study storage, taken while workers may be writing to it.

A study that runs for hours is committed as it grows. Copying the database file while a worker
writes to it can catch half a transaction; SQLite's online backup API copies a consistent state
however busy the source is. `python -m study.snapshot` is the command; `python -m study.run
--snapshot` takes one every few minutes and after each step (`PeriodicSnapshots`).

The copy replaces only what a copy may: a missing file, or an Optuna storage (an earlier
snapshot, or the live storage being restored). Any other file at the destination, a folder,
or a destination under a file is refused before anything is written, unless `overwrite`.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

from study.errors import StorageError
from study.storage.opener import check_not_under_a_file, mask_password

__all__ = ["PeriodicSnapshots", "is_optuna_sqlite", "snapshot_sqlite"]

_SQLITE_PREFIX = "sqlite:///"
# Optuna's own tables and the columns that mark them (another program's `studies` has others).
_OPTUNA_TABLES = {"studies": {"study_id", "study_name"},
                  "version_info": {"schema_version", "library_version"}}


def _path(location: str) -> Path:
    """A file path from a path or a `sqlite:///` URL."""
    return Path(location[len(_SQLITE_PREFIX):] if location.startswith(_SQLITE_PREFIX)
                else location)


def is_optuna_sqlite(path: Path) -> bool:
    """Whether `path` is a SQLite file holding Optuna's tables (read-only, changes nothing)."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=60)
    except sqlite3.Error:
        return False
    try:
        for table, columns in _OPTUNA_TABLES.items():
            found = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
            if not columns <= found:
                return False
        return True
    except sqlite3.Error:  # not a database at all
        return False
    finally:
        connection.close()


def snapshot_sqlite(source: str, destination: str, *, overwrite: bool = False) -> Path:
    """Copies the SQLite database `source` to `destination` as one consistent state.

    The copy is written beside the destination and renamed over it, so a reader of
    `destination` sees either the old snapshot or the new one, never a partial file; a copy
    that fails leaves no partial file behind.

    Args:
        source: A SQLite file, as a path or a `sqlite:///path` URL; it must exist.
        destination: Where the copy goes (path or URL); its folder is created.
        overwrite: Replace a destination that is not an Optuna storage too.

    Returns:
        The destination path.

    Raises:
        StorageError: when `source` is missing or not an Optuna storage, the two are the same
            file, or the destination is a folder, lies under a file, or is another program's
            file (without `overwrite`); the message quotes URLs with passwords masked.
    """
    source_path, destination_path = _path(source), _path(destination)
    shown_source, shown_destination = mask_password(source), mask_password(destination)
    if not source_path.is_file():
        raise StorageError(f"`source` must be an existing SQLite file, but got "
                           f"{shown_source!r}.")
    if not is_optuna_sqlite(source_path):
        raise StorageError(f"`source` must be an Optuna storage, but {shown_source!r} is not "
                           "one (no Optuna tables).")
    if destination_path.is_dir():
        raise StorageError(f"`destination` must be a file, but {shown_destination!r} is a "
                           "folder; name the file inside it, e.g. study.db.")
    check_not_under_a_file(destination_path, "destination", shown_destination)
    if destination_path.exists() and destination_path.resolve() == source_path.resolve():
        raise StorageError(f"`destination` must differ from `source`, but both are "
                           f"{shown_source!r}.")
    if destination_path.exists() and not overwrite and not is_optuna_sqlite(destination_path):
        raise StorageError(f"`destination` must be a new file or an Optuna storage, but "
                           f"{shown_destination!r} is another file; pass --overwrite to "
                           "replace it.")
    destination_path.parent.mkdir(parents=True, exist_ok=True)
    partial = destination_path.with_name(destination_path.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        # Read-only on the source: a snapshot must never create or change the live storage.
        reader = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=60)
        writer = sqlite3.connect(partial)
        try:
            reader.backup(writer)
        finally:
            writer.close()
            reader.close()
        partial.replace(destination_path)
    except (OSError, sqlite3.Error) as error:
        partial.unlink(missing_ok=True)
        # The source can change under the copy too (replaced by another file, say).
        raise StorageError(f"`source` must stay readable and `destination` writable, but "
                           f"copying {shown_source!r} to "
                           f"{shown_destination!r} failed ({error}).") from None
    return destination_path


class PeriodicSnapshots:
    """Snapshots of a live SQLite storage every `minutes` in a background thread, and on demand.

    For a run of several steps (`study.run`): `now()` after each step, the thread in between.
    A snapshot that fails in the thread is reported on `report` and tried again next time;
    one asked for with `now()` raises.
    """

    def __init__(self, source: str, destination: str, minutes: float,
                 report: Callable[[str], None]) -> None:
        if minutes <= 0:
            raise StorageError(f"`snapshot_minutes` must be positive, but got {minutes}.")
        self.source, self.destination, self.minutes = source, destination, minutes
        self._report = report
        self._stop = threading.Event()
        self._lock = threading.Lock()  # one copy at a time: the thread's or `now()`'s
        self._thread = threading.Thread(target=self._loop, name="snapshots", daemon=True)

    def __enter__(self) -> PeriodicSnapshots:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def now(self) -> Path:
        """Writes a snapshot now; returns its path."""
        with self._lock:
            return snapshot_sqlite(self.source, self.destination)

    def _loop(self) -> None:
        while not self._stop.wait(self.minutes * 60):
            if _path(self.source).is_file():
                try:
                    self.now()
                except StorageError as error:
                    self._report(f"Snapshot skipped: {error}")
