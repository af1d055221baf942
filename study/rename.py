"""`python -m study.rename OLD NEW`: rename a study in its storage, keeping every trial.

For keeping a study under a name that says what it was while a new one takes its name (the
first, unpaired confirmation of a published run, say). Running it again after it was cut off
finishes it (`study.storage.renaming`); a refusal is one line and exit code 2.
"""

from __future__ import annotations

import argparse

from study.cli import OneLineParser, add_storage, run_command

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Renames OLD to NEW; exit code 2 with one line when a refusal says why."""

    def rename() -> str:
        from study.config import DEFAULT_STORAGE, check_study_name
        from study.storage.opener import open_storage
        from study.storage.renaming import rename_study

        parser = OneLineParser(
            prog="python -m study.rename",
            description="Rename a study in its storage, keeping its trials and attributes; "
                        "running it again finishes a rename that was cut off.")
        parser.add_argument("old", help="the study's name now")
        parser.add_argument("new", help="the name it gets")
        parser.add_argument("--once", action=argparse.BooleanOptionalAction, default=False,
                            help="do nothing if NEW exists already, even beside another study "
                                 "called OLD: for a script that renames on every resume "
                                 "(default: off)")
        add_storage(parser, default=DEFAULT_STORAGE)
        args = parser.parse_args(argv)
        check_study_name(args.new, "new")
        return rename_study(open_storage(args.storage, create=False), args.old, args.new,
                            once=args.once)

    return run_command(rename, "python -m study.rename")


if __name__ == "__main__":
    raise SystemExit(main())
