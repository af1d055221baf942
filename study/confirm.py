"""`python -m study.confirm`: rerun each placement's pick with fresh seeds, tested once each.

The reruns themselves are `study.reruns.confirmation`; this module reads the command line and
prints the summary. Light module level (standard library and light study modules only): it
runs before `run_command` can turn a Ctrl-C into one line (tests/test_interrupts.py checks it).
"""

from __future__ import annotations

import argparse
import shlex
import statistics
from typing import TYPE_CHECKING

from study.cli import (
    OLD_SPELLINGS,
    OneLineParser,
    add_allow_dirty,
    add_margin,
    add_reuse_compiled,
    add_storage,
    add_study_name,
    run_command,
)
from study.errors import ConfigError
from study.reruns.allocation import ALLOCATIONS
from study.reruns.confirmation import PAIRINGS, VARIED, run_confirmation
from study.reruns.stopping import StopRule
from study.stats.decision import DEFAULT_MARGIN, MIN_RERUNS_TO_DECIDE
from study.stats.intervals import MIN_RERUNS_EACH
from study.storage.contract import DEFAULT_CONFIRM_SEEDS
from study.storage.question import rerun_question

if TYPE_CHECKING:
    import optuna

__all__ = ["DEFAULT_CONFIRM_SEEDS", "DEFAULT_MAX_RERUNS", "add_decided_arguments", "main",
           "run_confirmation", "stop_rule", "summary"]

DEFAULT_MAX_RERUNS = 200  # per value: where a 1 pp difference at 0.5 pp spreads is decided


def summary(confirm: optuna.Study, storage_url: str, study_name: str) -> str:
    """Mean test accuracy ± std per value of the question, and the command that analyses it.

    The storage URL is shown with its password masked; the command is quoted for a shell.
    """
    from optuna.trial import TrialState

    from study.storage.opener import mask_password

    complete = confirm.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    shown = mask_password(storage_url)
    lines = [f"Study {confirm.study_name!r}: {len(complete)} reruns in {shown}"]
    question = rerun_question(confirm)
    width = max(len(question.label(value)) for value in question.values)
    for placement in question.values:
        values = [trial.value for trial in complete
                  if trial.params.get(question.param) == placement]
        if not values:
            lines.append(f"  no rerun with {question.label(placement)} yet")
            continue
        if len(values) > 1:
            spread = f" ± {statistics.stdev(values):.4f} (mean ± std of {len(values)} seeds)"
        else:
            spread = " (1 seed)"
        lines.append(f"  {question.label(placement):{width}s}: test accuracy "
                     f"{statistics.fmean(values):.4f}{spread}")
    lines += ["Analyse:", "  " + shlex.join(["python", "-m", "analysis", "--storage", shown,
                                             "--study-name", study_name])]
    return "\n".join(lines)


STOPS = ("all", "decided", "half-width")
# The spellings of earlier releases: `--seeds N` (reruns per value) is `--max-reruns N` for
# every stop now, `--stop-at-half-width H` is `--stop half-width --half-width H`.
OLD_CONFIRM_SPELLINGS = {
    **OLD_SPELLINGS,
    "--seeds": lambda value: ["--max-reruns", value],
    "--stop-at-half-width": lambda value: ["--stop", "half-width", "--half-width", value],
}


def stop_rule(args: argparse.Namespace) -> tuple[int, StopRule]:
    """(reruns per value at most, stop rule) from the command line's stop flags.

    Raises:
        ConfigError: for a flag that belongs to another stop, or --stop half-width without
            --half-width.
    """
    if args.stop != "decided" and args.margin is not None:
        raise ConfigError(f"`--margin` must be given only with --stop decided, but got "
                          f"{args.margin} with --stop {args.stop}.")
    if args.stop != "half-width" and args.half_width is not None:
        raise ConfigError(f"`--half-width` must be given only with --stop half-width, but got "
                          f"{args.half_width} with --stop {args.stop}.")
    if args.stop == "decided":
        rule = StopRule("decided", margin=DEFAULT_MARGIN if args.margin is None else args.margin)
        return (DEFAULT_MAX_RERUNS if args.max_reruns is None else args.max_reruns), rule
    most = DEFAULT_CONFIRM_SEEDS if args.max_reruns is None else args.max_reruns
    if args.stop == "all":
        return most, StopRule()
    if args.half_width is None:
        raise ConfigError("`--half-width` must be given with --stop half-width (a fraction, "
                          "e.g. 0.005 for 0.5 pp), but got none.")
    return most, StopRule("half-width", half_width=args.half_width)


def add_decided_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup,
                          when: str, *, defaults: bool) -> None:
    """Adds --max-reruns and --margin, the settings of `--stop decided`.

    Args:
        parser: The parser or argument group to add them to.
        when: How their help starts ("with --stop decided").
        defaults: Give them their default values; False leaves them None, so that a command
            can take the default of its stop rule, and refuse --margin beside another
            (`stop_rule`).
    """
    parser.add_argument("--max-reruns", type=int, metavar="N",
                        default=DEFAULT_MAX_RERUNS if defaults else None,
                        help=f"{when}: the most reruns per value if the verdict stays "
                             f"undecided (default: {DEFAULT_MAX_RERUNS})"
                        if defaults else
                        "reruns per value: every one with --stop all, the most with "
                        f"--stop decided (default: {DEFAULT_MAX_RERUNS}) or half-width or "
                        f"--allocation by-spread (default: {DEFAULT_CONFIRM_SEEDS}, the "
                        "fewest the anytime verdict decides on)")
    add_margin(parser, default=DEFAULT_MARGIN if defaults else None,
               help=f"{when}: differences within +-M (a fraction) do not matter "
                    f"(default: {DEFAULT_MARGIN}, as `python -m analysis`)")


def _parser() -> argparse.ArgumentParser:
    from study.config import DEFAULT_STORAGE

    parser = OneLineParser(
        prog="python -m study.confirm", old_spellings=OLD_CONFIRM_SPELLINGS,
        description="Retrain the pick of each value of the study's question (BN placement by "
                    "default; the selection's pick, else the value's best search "
                    "trial) with several seeds and test each once on the held-out test split, "
                    "paired by seed; results go to the study "
                    "NAME/confirm. Running the same command again resumes.")
    add_storage(parser, default=DEFAULT_STORAGE)
    add_study_name(parser)
    parser.add_argument("--pairing", choices=PAIRINGS, default="paired",
                        help="paired: rerun k of every value shares its seeds (the same "
                             "initial weights where the widths match, the same data order) and "
                             "the verdict is on the pairs' differences; unpaired: independent "
                             "reruns, needed for --allocation by-spread (default: paired)")
    parser.add_argument("--vary", choices=VARIED, default="both",
                        help="what the seeds vary: both the initial weights (and dropout) and "
                             "the data order, or one of them with the other held fixed "
                             "(default: both)")
    parser.add_argument("--allocation", choices=ALLOCATIONS, default="equal",
                        help="equal: every seed for each value in turn; by-spread: "
                             "reruns go first to the value whose std is larger, which "
                             "narrows the interval of the difference with fewer reruns "
                             "(default: equal)")
    parser.add_argument("--stop", choices=STOPS, default="all",
                        help="all: run every rerun; decided: stop at the first rerun after "
                             "which the anytime-valid interval decides \"matters\" or "
                             "\"equivalent\" (each value needs "
                             f"{MIN_RERUNS_TO_DECIDE} reruns first), or at --max-reruns; "
                             "half-width: stop once the 95%% interval of the difference is at "
                             "most --half-width wide on each side and each value has "
                             f"{MIN_RERUNS_EACH} reruns, for a design whose n is fixed by "
                             "precision in advance (default: all)")
    add_decided_arguments(parser, "with --stop decided", defaults=False)
    parser.add_argument("--half-width", type=float, default=None, metavar="H",
                        help="with --stop half-width: the half-width to stop at, a fraction "
                             "(e.g. 0.005 for 0.5 pp)")
    add_reuse_compiled(parser, default=True, what="reruns")
    add_allow_dirty(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Runs the confirmation; returns the exit code (2 for a user mistake, 130 for Ctrl-C)."""

    def confirm() -> str:
        from study.config import check_study_name
        from study.engine.provenance import check_storage_clean

        args = _parser().parse_args(argv)
        check_study_name(args.study_name)
        seeds, rule = stop_rule(args)
        check_storage_clean(args.storage, allow_dirty=args.allow_dirty)
        study = run_confirmation(args.storage, args.study_name, seeds,
                                 reuse_compiled=args.reuse_compiled,
                                 allocation=args.allocation, rule=rule,
                                 pairing=args.pairing, vary=args.vary)
        return summary(study, args.storage, args.study_name)

    return run_command(confirm, "python -m study.confirm")


if __name__ == "__main__":
    raise SystemExit(main())
