"""Command line: `python -m analysis --study-name NAME [--storage URL] [--out DIR] [--margin M]
[--interval anytime|welch] [--compare VALUE] [--budgets] [--param NAME [--reference VALUE]]
[--units UNITS] [--note|--no-note]`.

Any single-objective Optuna study in an RDB storage can be analysed: a bnstudy study with the
question it stored, another with `--param NAME` (a categorical parameter; `--reference` picks
the value the others are compared with), either direction, its values in their own units
(`--units` names them; `--margin` is then required, in them). The dashboard note goes into a
study bnstudy wrote unless `--no-note`, into another only with `--note`.

With `--budgets`, NAME is the first study of a family of training budgets
(`study.engine.budgets`): every member gets its usual analysis (the first into DIR, member E
into DIR/epochs-E) and the family its budgets.md, budgets.json and figures in DIR.

Thin on purpose: arguments become one frozen `AnalysisConfig`, the library does the rest, run
through `study.cli.run_command` like `study.search` and `study.confirm`: a user mistake (bad
storage, missing study, too few trials, bad margin, unusable `--out`) is one line on stderr and
exit code 2, Ctrl-C is one line and exit code 130, never a traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import optuna

from analysis.findings.verdict import DEFAULT_INTERVAL
from analysis.reading.objective import FRACTION
from analysis.reading.studies import AnalysisError, load_question
from analysis.reports.verdict_text import verdict_sentence
from analysis.study_analysis import Analysis, analyze
from study.cli import OneLineParser, add_margin, add_storage, add_study_name, run_command
from study.config import DEFAULT_STORAGE, check_study_name
from study.stats.decision import DEFAULT_MARGIN, check_margin
from study.stats.looks import INTERVALS

# analysis.reports.writer (matplotlib, through the figures) is imported where it is used, so
# that --help prints before it is.

PROG = "python -m analysis"
# Each seed refits fANOVA's 64-tree forest: measured 0.6 s a seed for 32 trials on a 2-core CPU,
# more with more trials. 100 seeds already shrink the seed-to-seed noise of the mean tenfold;
# thousands would keep the analysis running for hours.
MAX_IMPORTANCE_SEEDS = 100


@dataclass(frozen=True)
class AnalysisConfig:
    """One analysis run."""

    storage: str
    study_name: str
    out_dir: Path
    margin: float | None = None  # None: DEFAULT_MARGIN for accuracies; required in other units
    interval: str = DEFAULT_INTERVAL  # "anytime": valid however often reruns were looked at
    importance_seeds: int = 5  # fANOVA forests differ by seed; 5 shows the spread cheaply
    # Attach the verdict (and the report as artifacts) for optuna-dashboard; None: only to a
    # study bnstudy wrote, never unasked into someone else's.
    note: bool | None = None
    artifact_dir: Path | None = None  # None: beside a SQLite storage, else no artifacts
    overwrite: bool = False  # replace files in --out that the analysis did not write
    compare: str | None = None  # with 3+ values: the one compared with the reference; None: all
    budgets: bool = False  # analyse the family of training budgets whose first study this is
    param: str | None = None  # the categorical parameter compared; None: the stored question
    reference: str | None = None  # the value the others are compared with; None: the first
    units: str | None = None  # what the values are in; None: see `analysis.analyze`


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of `python -m analysis`."""
    parser = OneLineParser(
        prog=PROG,
        description="Analyse a study's question (does its scientific hyperparameter, BN "
                    "placement by default, matter once the rest is tuned?): verdict, report, "
                    "figures, dashboard note. Any single-objective Optuna study, with --param "
                    "naming its categorical parameter.",
    )
    add_storage(parser, default=DEFAULT_STORAGE)
    add_study_name(parser)
    parser.add_argument("--out", help="output folder (default: reports/<study name>)")
    add_margin(parser, default=None,
               help="equivalence margin, the smallest difference that matters: for accuracies "
                    f"a fraction in (0, 1) (default {DEFAULT_MARGIN}); for other values in their "
                    "own units, and required")
    parser.add_argument(
        "--param", metavar="NAME",
        help="the categorical parameter to compare, for a study bnstudy did not write "
        "(default: the question bnstudy stored, or bn_position)",
    )
    parser.add_argument(
        "--reference", metavar="VALUE",
        help="the value of --param every other is compared with (default: its first choice)",
    )
    parser.add_argument(
        "--units",
        help=f"what the values are in, named in the report: '{FRACTION}' reads them as "
        "fractions of accuracy (in pp, margin in (0, 1)); any other text names their units "
        "(default: fractions without --param, the objective's own units with it)",
    )
    parser.add_argument(
        "--interval",
        choices=INTERVALS,
        default=DEFAULT_INTERVAL,
        help="anytime: a confidence sequence, valid however often the reruns were looked at "
        "and whenever they stopped; welch: Welch's fixed-n interval, only for a number of "
        f"reruns fixed in advance and a verdict read once (default {DEFAULT_INTERVAL})",
    )
    parser.add_argument(
        "--importance-seeds",
        type=int,
        default=5,
        help=f"seeds per importance method, at most {MAX_IMPORTANCE_SEEDS} (default 5)",
    )
    parser.add_argument(
        "--note", action=argparse.BooleanOptionalAction,
        help="attach the verdict as a dashboard note and the report as artifacts of the study "
        "(default: yes for a study bnstudy wrote, no for any other, which is only read)",
    )
    parser.add_argument(
        "--artifact-dir",
        help="folder of the artifact store the report and figures are uploaded to, for "
        "`optuna-dashboard --artifact-dir` (default: <storage file>-artifacts beside a SQLite "
        "storage; none for other storages)",
    )
    parser.add_argument(
        "--compare", metavar="VALUE",
        help="with a question of three or more values: analyse only VALUE against the "
        "reference (default: each value, into <out>/<value>/, the error level split across "
        "the comparisons)",
    )
    parser.add_argument(
        "--budgets", action=argparse.BooleanOptionalAction, default=False,
        help="analyse the family of training budgets whose first study is --study-name (the "
        "studies NAME/epochs-E of `study.run --budgets`): each member's report (the first into "
        "--out, member E into <out>/epochs-E), then budgets.md and its figures into --out: the "
        "verdict at each budget, whether it depends on the budget, the plateau of the picks "
        "and their learning curves",
    )
    parser.add_argument(
        "--overwrite", action=argparse.BooleanOptionalAction, default=False,
        help="replace files in --out that the analysis did not write (refused otherwise)"
    )
    return parser


def config_from_args(args: argparse.Namespace) -> AnalysisConfig:
    """Check the parsed arguments and freeze them into a config.

    Args:
        args: Output of `build_parser().parse_args`.

    Returns:
        The config.

    Raises:
        AnalysisError, ConfigError: naming the first wrong argument and the value received.
    """
    if args.margin is not None and args.param is None and args.units in (None, FRACTION):
        check_margin(args.margin, "--margin")  # accuracies, whatever the study: checked at once
    if not 1 <= args.importance_seeds <= MAX_IMPORTANCE_SEEDS:
        raise AnalysisError(
            f"`--importance-seeds` must be at least 1 and at most {MAX_IMPORTANCE_SEEDS} (each "
            f"seed refits a 64-tree forest; {MAX_IMPORTANCE_SEEDS} already make the mean "
            f"steady), but got {args.importance_seeds}."
        )
    from analysis.reports.writer import default_out_dir

    check_study_name(args.study_name, "--study-name")
    if args.out is not None and not args.out.strip():
        raise AnalysisError(f"`--out` must name a folder, but got {args.out!r}, which would "
                            "write into the current folder; leave it out for "
                            "reports/<study name>.")
    return AnalysisConfig(
        storage=args.storage,
        study_name=args.study_name,
        out_dir=Path(args.out) if args.out is not None else default_out_dir(args.study_name),
        margin=args.margin,
        interval=args.interval,
        importance_seeds=args.importance_seeds,
        note=args.note,
        artifact_dir=Path(args.artifact_dir) if args.artifact_dir else None,
        overwrite=args.overwrite,
        compare=args.compare,
        budgets=args.budgets,
        param=args.param,
        reference=args.reference,
        units=args.units,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the analysis and print the verdict line and the report path.

    Args:
        argv: Arguments without the program name; sys.argv[1:] if None.

    Returns:
        Exit code: 0 on success, 2 on a user mistake, 130 when interrupted.
    """

    def analysis() -> str:
        return run_analysis(config_from_args(build_parser().parse_args(argv)))

    return run_command(analysis, PROG,
                       on_interrupt="no half-written report is left; run the same command again.")


def _upload(analysis: Analysis, config: AnalysisConfig, files: list[Path]) -> str | None:
    """Uploads report and figure files as artifacts of the analysed study; returns where, with
    the dashboard command that shows them (None when the storage has no artifact folder)."""
    import shlex

    from analysis.reports.artifacts import default_artifact_dir, upload_report
    folder = config.artifact_dir or default_artifact_dir(config.storage)
    if folder is None:
        return None
    names = upload_report(analysis.loaded.study, files, folder)
    command = shlex.join(["optuna-dashboard", analysis.shown_storage, "--artifact-dir",
                          str(folder)])
    return (f"{len(names)} report files are artifacts of {analysis.study_name!r} in {folder}; "
            f"see them beside the note: {command}")


def run_analysis(config: AnalysisConfig) -> str:
    """Analyse, write the outputs, attach the dashboard note; return the closing line.

    A question of three or more values is analysed one comparison with the reference at a
    time, each into `<out>/<value>/` (or only `--compare VALUE`, into `<out>`), at the error
    level split across the comparisons. The dashboard note and artifacts hold one report, so
    they are attached only for a question of two values or a single `--compare`.

    Args:
        config: The run.

    Returns:
        The verdict sentence and the report's path (one per comparison).

    Raises:
        AnalysisError: for a storage, study or `--out` that cannot be used; nothing is
            written then.
    """
    from analysis.reports.writer import check_out_dir, safe_name

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if config.budgets:
        return run_family(config)
    # Every folder is checked before minutes of work, not after.
    check_out_dir(config.out_dir, config.study_name, overwrite=config.overwrite)
    runs = [config]
    if config.compare is None:
        question = load_question(config.storage, config.study_name, param=config.param,
                                 reference=config.reference)
        if len(question.others) > 1:
            runs = [dataclasses.replace(config, compare=str(value), note=False,
                                        out_dir=config.out_dir / safe_name(str(value)))
                    for value in question.others]
            for run in runs:
                check_out_dir(run.out_dir, run.study_name, overwrite=run.overwrite)
    return "\n".join(_write_and_attach(_analyse(run), run) for run in runs)


def run_family(config: AnalysisConfig) -> str:
    """Analyse every member of the family whose first study is `config.study_name`, then the
    family: budgets.md and its figures in `config.out_dir`, uploaded beside the first study's
    report; return the closing lines.

    Raises:
        AnalysisError: for a study without longer members, a question of three or more values
            without `--compare`, or a folder that cannot be used; nothing is written then.
    """
    from analysis.family_analysis import family_analysis
    from analysis.reading.budgets import family_studies
    from analysis.reading.errors import TooFewTrials
    from analysis.reports.budgets import dependence_sentence
    from analysis.reports.writer import (
        FAMILY_FILES,
        FIXED_FILES,
        check_out_dir,
        write_family_outputs,
    )
    from study.engine.budgets import member_folder

    members = family_studies(config.storage, config.study_name)
    question = load_question(config.storage, config.study_name, param=config.param,
                             reference=config.reference)
    if len(question.others) > 1 and config.compare is None:
        raise AnalysisError(
            f"`--budgets` compares one value with the reference at each budget, but "
            f"`{question.param}` has {len(question.values)} values; pass --compare VALUE (one "
            f"of {[str(value) for value in question.others]}).")
    runs = [dataclasses.replace(config, study_name=member.study_name, budgets=False,
                                out_dir=config.out_dir / member_folder(member.epochs,
                                                                       first=index == 0))
            for index, member in enumerate(members)]
    check_out_dir(config.out_dir, config.study_name, overwrite=config.overwrite,
                  files=FIXED_FILES + FAMILY_FILES)
    for run in runs[1:]:
        check_out_dir(run.out_dir, run.study_name, overwrite=run.overwrite)
    # Every member is analysed before any is written: one that cannot be leaves no report. A
    # longer one still early in its search (too few finished trials) is left out for now.
    analysed, pending = [], []
    for index, (member, run) in enumerate(zip(members, runs, strict=True)):
        try:
            analysed.append((member, _analyse(run), run))
        except AnalysisError as error:
            if index == 0 or not isinstance(error, TooFewTrials):
                raise AnalysisError(f"At {member.epochs} epochs ({member.study_name!r}): "
                                    f"{error}") from None
            pending.append((member, str(error)))
    lines = [f"At {member.epochs} epochs: {_write_and_attach(analysis, run)}"
             for member, analysis, run in analysed]
    lines += [f"At {member.epochs} epochs: not analysed yet: {reason}"
              for member, reason in pending]
    family = family_analysis([member for member, _, _ in analysed],
                             [analysis for _, analysis, _ in analysed], pending)
    written = write_family_outputs(family, config.out_dir, overwrite=config.overwrite)
    lines.append(f"{dependence_sentence(family.budgets)} Budgets: {written[0]}")
    first = analysed[0][1]
    if _noted(first, config):
        uploaded = _warn_without_dashboard(lambda: _upload(first, config, list(written)))
        if uploaded is not None:
            lines.append(uploaded.replace("report files", "budget files", 1))
    return "\n".join(lines)


def _warn_without_dashboard(step: Callable[[], str | None]) -> str | None:
    """Runs a dashboard step; a read-only storage must not lose the written report, so an
    error is one warning line on stderr."""
    try:
        return step()
    except Exception as error:
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        print(f"{PROG}: warning: no dashboard note: {first_line}", file=sys.stderr)
        return None


def _analyse(config: AnalysisConfig) -> Analysis:
    """One comparison (`config.compare`, or the only one) analysed, nothing written."""
    return analyze(
        config.storage,
        config.study_name,
        param=config.param,
        reference=config.reference,
        margin=config.margin,
        units=config.units,
        importance_seeds=tuple(range(config.importance_seeds)),
        interval=config.interval,
        compare=config.compare,
    )


def _noted(analysis: Analysis, config: AnalysisConfig) -> bool:
    """Whether the dashboard note and artifacts go into the study: as asked, else only into a
    study bnstudy wrote (another's is the user's record, written only on `--note`)."""
    return analysis.loaded.written_by_bnstudy if config.note is None else config.note


def _write_and_attach(analysis: Analysis, config: AnalysisConfig) -> str:
    """Writes an analysis into its folder (already checked) and attaches it to the dashboard;
    returns the closing lines."""
    from analysis.reports.writer import attach_note, write_outputs

    written = write_outputs(analysis, config.out_dir, overwrite=config.overwrite)
    uploaded = None
    if _noted(analysis, config):
        def attach() -> str | None:
            attach_note(analysis, written.report)
            return _upload(analysis, config, [written.report, *written.figures])

        uploaded = _warn_without_dashboard(attach)
    closing = f"{verdict_sentence(analysis)} Report: {written.report}"
    return closing if uploaded is None else f"{closing}\n{uploaded}"
