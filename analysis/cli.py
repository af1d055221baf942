"""Command line: `python -m analysis --storage URL --study-name NAME [--out DIR] [--margin M]`.

Thin on purpose: arguments become one frozen `AnalysisConfig`, the library does the rest. A user
mistake (bad storage, missing study, too few trials, bad margin) is one line on stderr and exit
code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import optuna

from analysis.loading import AnalysisError
from analysis.pipeline import analyze
from analysis.report import verdict_sentence
from analysis.verdict import DEFAULT_MARGIN
from analysis.writer import attach_note, default_out_dir, write_outputs

EXIT_USAGE = 2


@dataclass(frozen=True)
class AnalysisConfig:
    """One analysis run."""

    storage: str
    study_name: str
    out_dir: Path
    margin: float = DEFAULT_MARGIN
    importance_seeds: int = 5  # fANOVA forests differ by seed; 5 shows the spread cheaply
    note: bool = True  # attach the verdict to the study in optuna-dashboard


class _OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (the usage is one `--help` away)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of `python -m analysis`."""
    parser = _OneLineParser(
        prog="python -m analysis",
        description="Analyse a BN-placement study: verdict, report, figures, dashboard note.",
    )
    parser.add_argument("--storage", required=True, help="Optuna storage URL (sqlite:///x.db)")
    parser.add_argument("--study-name", required=True, help="name of the search study")
    parser.add_argument("--out", type=Path, help="output folder (default: reports/<study name>)")
    parser.add_argument(
        "--margin",
        type=float,
        default=DEFAULT_MARGIN,
        help=f"equivalence margin in accuracy, a fraction in (0, 1) (default {DEFAULT_MARGIN})",
    )
    parser.add_argument(
        "--importance-seeds", type=int, default=5, help="seeds per importance method (default 5)"
    )
    parser.add_argument(
        "--no-note", action="store_true", help="do not attach the verdict as a dashboard note"
    )
    return parser


def config_from_args(args: argparse.Namespace) -> AnalysisConfig:
    """Check the parsed arguments and freeze them into a config.

    Args:
        args: Output of `build_parser().parse_args`.

    Returns:
        The config.
    """
    if not 0.0 < args.margin < 1.0:
        raise AnalysisError(f"`--margin` must be in (0, 1), but got {args.margin}.")
    if args.importance_seeds < 1:
        raise AnalysisError(
            f"`--importance-seeds` must be at least 1, but got {args.importance_seeds}."
        )
    return AnalysisConfig(
        storage=args.storage,
        study_name=args.study_name,
        out_dir=args.out if args.out is not None else default_out_dir(args.study_name),
        margin=args.margin,
        importance_seeds=args.importance_seeds,
        note=not args.no_note,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the analysis and print the verdict line and the report path.

    Args:
        argv: Arguments without the program name; sys.argv[1:] if None.

    Returns:
        Exit code: 0 on success, 2 on a user mistake.
    """
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_request:  # --help, or a one-line parser error
        return int(exit_request.code or 0)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        config = config_from_args(args)
        analysis = analyze(
            config.storage,
            config.study_name,
            margin=config.margin,
            importance_seeds=tuple(range(config.importance_seeds)),
        )
        written = write_outputs(analysis, config.out_dir, config.storage)
    except AnalysisError as error:
        print(f"python -m analysis: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    if config.note:
        try:
            attach_note(analysis, config.storage, written.report)
        except Exception as error:  # a read-only storage must not lose the written report
            first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
            print(f"python -m analysis: warning: no dashboard note: {first_line}", file=sys.stderr)
    print(f"{verdict_sentence(analysis)} Report: {written.report}")
    return 0
