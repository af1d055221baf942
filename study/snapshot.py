"""`python -m study.snapshot SOURCE DEST`: a consistent copy of a SQLite study storage.

A study that runs for hours is committed as it grows; the copy is taken with SQLite's online
backup API (`study.storage.snapshots`), consistent however busy the source is. The same command
restores a committed snapshot as the live storage before the study resumes.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys

from study.storage.snapshots import snapshot_sqlite

__all__ = ["main", "snapshot_sqlite"]


def main(argv: list[str] | None = None) -> int:
    """Copies SOURCE to DEST; exit code 2 with one line when SOURCE is missing or the same."""
    parser = argparse.ArgumentParser(
        prog="python -m study.snapshot",
        description="Copy a SQLite study storage consistently, even while workers write to it.")
    parser.add_argument("source", help="SQLite file or sqlite:/// URL to copy")
    parser.add_argument("destination", help="file or sqlite:/// URL to write")
    args = parser.parse_args(argv)
    try:
        written = snapshot_sqlite(args.source, args.destination)
    except (FileNotFoundError, ValueError, sqlite3.DatabaseError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"Snapshot of {args.source} written to {written}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
