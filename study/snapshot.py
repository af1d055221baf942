"""`python -m study.snapshot SOURCE DEST`: a consistent copy of a SQLite study storage.

A study that runs for hours is committed as it grows; the copy is taken with SQLite's online
backup API (`study.storage.snapshots`), consistent however busy the source is. The same command
restores a committed snapshot as the live storage before the study resumes. Like every command,
a refusal is one line and exit code 2, with nothing written (`study.cli.run_command`).
"""

from __future__ import annotations

import argparse

from study.cli import OneLineParser, run_command

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Copies SOURCE to DEST; exit code 2 with one line when a refusal says why."""

    def snapshot() -> str:
        from study.storage.opener import mask_password
        from study.storage.snapshots import snapshot_sqlite

        parser = OneLineParser(
            prog="python -m study.snapshot",
            description="Copy a SQLite study storage consistently, even while workers write "
                        "to it.")
        parser.add_argument("source", help="SQLite file or sqlite:/// URL to copy")
        parser.add_argument("destination", help="file or sqlite:/// URL to write")
        parser.add_argument("--overwrite", action=argparse.BooleanOptionalAction, default=False,
                            help="replace a destination that is not an Optuna storage "
                                 "(default: off)")
        args = parser.parse_args(argv)
        written = snapshot_sqlite(args.source, args.destination, overwrite=args.overwrite)
        return f"Snapshot of {mask_password(args.source)} written to {written}"

    return run_command(snapshot, "python -m study.snapshot")


if __name__ == "__main__":
    raise SystemExit(main())
