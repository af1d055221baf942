"""`python -m study.run`: from data to verdict in one command.

Four steps, each the command of its own name run in this process, in order: the search
(`study.search`), the selection of each value's pick from its top trials (`study.select`), the
paired confirmation on the test split until the anytime-valid verdict is decided or
`--max-reruns` pairs (`study.confirm --stop decided`), and the analysis into one report folder
(`python -m analysis`, run as its own process: `study` never imports `analysis`). Every step's
progress lives in the storage, so running the same command again resumes at the step and the
trial or rerun where it stopped. `--snapshot PATH` keeps a consistent copy of a SQLite storage,
every few minutes and after each step, for committing a long run as it grows.

Light module level, like every command (tests/test_interrupts.py checks it).
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from study.cli import OneLineParser, run_command
from study.errors import ConfigError, UsageError
from study.search import add_search_arguments, config_from_arguments
from study.storage.contract import DEFAULT_SELECT_SEEDS, DEFAULT_TOP_K

if TYPE_CHECKING:
    from study.config import SearchConfig

__all__ = ["RUN_OPTIONS", "STEPS", "main"]

PROG = "python -m study.run"
STEPS = ("search", "select", "confirm", "analysis")
DEFAULT_SNAPSHOT_MINUTES = 10.0
# The options of this command that are not the search's.
RUN_OPTIONS = ("top_k", "select_seeds", "max_reruns", "margin", "out", "snapshot",
                "snapshot_minutes")


def _parser() -> argparse.ArgumentParser:
    from study.confirm import add_decided_arguments

    parser = OneLineParser(
        prog=PROG,
        description="Search, select, confirm and analyse in one go: the search's options, "
                    "then each value's top trials rerun with new seeds on validation, the "
                    "picks rerun paired on the test split until the anytime-valid verdict is "
                    "decided, and the report. Running the same command again resumes.")
    add_search_arguments(parser)
    steps = parser.add_argument_group("after the search")
    steps.add_argument("--top-k", type=int, default=DEFAULT_TOP_K,
                       help=f"select: candidates per value (default: {DEFAULT_TOP_K})")
    steps.add_argument("--select-seeds", type=int, default=DEFAULT_SELECT_SEEDS,
                       help=f"select: reruns per candidate (default: {DEFAULT_SELECT_SEEDS})")
    add_decided_arguments(steps, "confirm and analysis", defaults=True)
    steps.add_argument("--out", help="report folder (default: reports/<study name>)")
    steps.add_argument("--snapshot", metavar="PATH",
                       help="a SQLite storage's consistent copy, written every "
                            "--snapshot-minutes and after each step (default: none)")
    steps.add_argument("--snapshot-minutes", type=float, default=DEFAULT_SNAPSHOT_MINUTES,
                       help=f"(default: {DEFAULT_SNAPSHOT_MINUTES:g})")
    return parser


def _analysis_command(config: SearchConfig, margin: float, out: str | None) -> list[str]:
    command = [sys.executable, "-m", "analysis", "--storage", config.storage,
               "--study-name", config.resolved_study_name, "--margin", repr(margin)]
    return command + (["--out", out] if out else [])


def _run_steps(config: SearchConfig, args: argparse.Namespace,
               after_step: Callable[[], None]) -> str:
    """Runs the four steps in turn, calling `after_step` after each; returns the closing text."""
    from study.engine.search_run import run_search
    from study.reruns.stopping import StopRule

    name = config.resolved_study_name

    def header(number: int, text: str) -> None:
        print(f"\nStep {number} of {len(STEPS)}: {text}", flush=True)

    header(1, f"search ({config.n_trials} trials)")
    run_search(config, freeze_objects=True)
    after_step()
    from study.reruns.confirmation import run_confirmation
    from study.reruns.selection_reruns import run_selection

    header(2, f"select (top {args.top_k} per placement, {args.select_seeds} seeds each, on "
              "validation)")
    run_selection(config.storage, name, top_k=args.top_k, seeds=args.select_seeds,
                  reuse_compiled=config.reuse_compiled)
    after_step()
    header(3, f"confirm (paired, on test, until decided or {args.max_reruns} pairs)")
    run_confirmation(config.storage, name, args.max_reruns, reuse_compiled=config.reuse_compiled,
                     rule=StopRule("decided", margin=args.margin), pairing="paired")
    after_step()
    header(4, "analysis")
    command = _analysis_command(config, args.margin, args.out)
    # Its own process: `study` never imports `analysis`. Its lines go straight to ours.
    code = subprocess.run(command, check=False).returncode
    if code != 0:
        raise UsageError(f"`python -m analysis` must finish, but it stopped with exit code "
                         f"{code} (its line above says why); the study is kept, run the same "
                         "command again to analyse it.")
    after_step()
    from study.storage.opener import mask_password

    shown = shlex.join(["python", "-m", "analysis", "--storage", mask_password(config.storage),
                        *command[5:]])
    return f"Done: the verdict is in the report above. Analyse again with:\n  {shown}"


def main(argv: list[str] | None = None) -> int:
    """Runs (or resumes) every step; returns the exit code (2 for a user mistake, 130 or 143
    when interrupted)."""

    def run() -> str:
        from study.config import check_study_name
        from study.storage.opener import check_storage, sqlite_file

        args = _parser().parse_args(argv)
        config = config_from_arguments({key: value for key, value in vars(args).items()
                                        if key not in RUN_OPTIONS})
        check_study_name(config.resolved_study_name)
        # Every step's settings are checked before the first: a refusal after hours of search
        # would waste them.
        from study.reruns.selection_reruns import check_selection
        from study.stats.decision import check_margin
        from study.storage.reruns import MAX_RERUNS

        check_selection(args.top_k, args.select_seeds)
        if not 1 <= args.max_reruns <= MAX_RERUNS:
            raise ConfigError(f"`max_reruns` must be between 1 and {MAX_RERUNS} pairs, but got "
                              f"{args.max_reruns}.")
        check_margin(args.margin)
        check_storage(config.storage)
        if args.snapshot is None:
            return _run_steps(config, args, after_step=lambda: None)
        if sqlite_file(config.storage) is None:
            raise ConfigError(f"`snapshot` needs a SQLite storage (a file to copy), but the "
                              f"storage is {config.storage.split(':', 1)[0]}.")
        from study.storage.snapshots import PeriodicSnapshots

        def report(line: str) -> None:
            print(line, file=sys.stderr, flush=True)

        with PeriodicSnapshots(config.storage, args.snapshot, args.snapshot_minutes,
                               report) as snapshots:
            def after_step() -> None:
                print(f"Snapshot written to {snapshots.now()}", flush=True)

            return _run_steps(config, args, after_step)

    return run_command(run, PROG)


if __name__ == "__main__":
    raise SystemExit(main())
