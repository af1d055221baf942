"""`python -m study.run`: from data to verdict in one command.

Four steps, each the command of its own name run in this process, in order: the search
(`study.search`), the selection of each value's pick from its top trials (`study.select`), the
paired confirmation on the test split until the anytime-valid verdict is decided or
`--max-reruns` pairs (`study.confirm --stop decided`), and the analysis into one report folder
(`python -m analysis`, run as its own process: `study` never imports `analysis`). Every step's
progress lives in the storage, so running the same command again resumes at the step and the
trial or rerun where it stopped. `--snapshot PATH` keeps a consistent copy of a SQLite storage,
every few minutes and after each step, for committing a long run as it grows.

`--budgets 8,16,32` runs a family of training budgets in one storage (`study.engine.budgets`):
the first budget is the study `--study-name`, each longer budget E the study NAME/epochs-E,
warm-started from the shorter budget's best trials; every member is searched and selected,
then the `--confirm-budgets` are confirmed, then the family is analysed as one
(`python -m analysis --budgets`). Runs that write a
`results/` storage or snapshot must come from a clean commit unless `--allow-dirty`
(`study.engine.provenance`).

Light module level, like every command (tests/test_interrupts.py checks it).
"""

from __future__ import annotations

import argparse
import functools
import shlex
import subprocess
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from study.cli import OneLineParser, run_command
from study.engine.budgets import DEFAULT_WARM_START
from study.errors import ConfigError, UsageError
from study.search import add_search_arguments, config_from_arguments
from study.storage.contract import DEFAULT_SELECT_SEEDS, DEFAULT_TOP_K

if TYPE_CHECKING:
    import optuna

    from study.config import SearchConfig
    from study.engine.budgets import Budget

__all__ = ["RUN_OPTIONS", "STEPS", "main"]

PROG = "python -m study.run"
STEPS = ("search", "select", "confirm", "analysis")
DEFAULT_SNAPSHOT_MINUTES = 10.0
# The options of this command that are not the search's.
RUN_OPTIONS = ("top_k", "select_seeds", "max_reruns", "margin", "out", "snapshot",
                "snapshot_minutes", "budgets", "budget_trials", "confirm_budgets", "warm_start")


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
    family = parser.add_argument_group(
        "a family of training budgets (one storage; the first budget keeps --study-name, "
        "each longer one E is NAME/epochs-E)")
    family.add_argument("--budgets", metavar="E1,E2,...",
                        help="epochs of each member, increasing (default: --epochs alone); "
                             "every member is searched and selected before any is confirmed")
    family.add_argument("--budget-trials", metavar="N1,N2,...",
                        help="search trials of each member (default: --n-trials each)")
    family.add_argument("--confirm-budgets", metavar="E,...",
                        help="the members confirmed on the test split (default: all)")
    family.add_argument("--warm-start", type=int, default=DEFAULT_WARM_START,
                        help="each value's best COMPLETE trials of the shorter budget queued "
                             f"in a longer budget's new search (default: {DEFAULT_WARM_START})")
    return parser


def _analysis_command(config: SearchConfig, margin: float, out: str | None) -> list[str]:
    command = [sys.executable, "-m", "analysis", "--storage", config.storage,
               "--study-name", config.resolved_study_name, "--margin", repr(margin)]
    return command + (["--out", out] if out else [])


def _plan(config: SearchConfig, args: argparse.Namespace) -> list[Budget]:
    from study.engine.budgets import parse_budget_list, plan_family

    def listed(text: str | None, argument: str) -> tuple[int, ...] | None:
        return None if text is None else parse_budget_list(text, argument)

    budgets = listed(args.budgets, "budgets") or (config.epochs,)
    if args.warm_start < 0:
        raise ConfigError(f"`warm_start` must be 0 or more trials per value, but got "
                          f"{args.warm_start}.")
    return plan_family(config, budgets, trials=listed(args.budget_trials, "budget_trials"),
                       confirm=listed(args.confirm_budgets, "confirm_budgets"))


def _run_steps(config: SearchConfig, args: argparse.Namespace, members: list[Budget],
               after_step: Callable[[], None]) -> str:
    """Runs every member's search and selection, then the confirmations, then the analyses,
    calling `after_step` after each; returns the closing text."""
    from study.engine.budgets import member_config

    configs = [member_config(config, budget) for budget in members]
    steps: list[tuple[str, Callable[[], None]]] = []
    for index, (budget, member) in enumerate(zip(members, configs, strict=True)):
        where = f" at {budget.epochs} epochs" if len(members) > 1 else ""
        steps.append((f"search{where} ({member.n_trials} trials)",
                      functools.partial(_search, member, configs[index - 1] if index else None,
                                        args.warm_start, first=index == 0)))
        steps.append((f"select{where} (top {args.top_k} per value, {args.select_seeds} seeds "
                      "each, on validation)",
                      functools.partial(_select, member, args, keep_stored=len(members) > 1)))
    for budget, member in zip(members, configs, strict=True):
        if budget.confirm:
            where = f" at {budget.epochs} epochs" if len(members) > 1 else ""
            steps.append((f"confirm{where} (paired, on test, until decided or "
                          f"{args.max_reruns} pairs)", functools.partial(_confirm, member, args)))
    # A family is analysed as one (`python -m analysis --budgets`): each member's report, the
    # first into --out and member E into --out/epochs-E, and budgets.md beside the first's.
    commands = [_analysis_command(config, args.margin, args.out)
                + (["--budgets"] if len(members) > 1 else [])]
    steps.append(("analysis" + (f" of the {len(members)} budgets" if len(members) > 1 else ""),
                  functools.partial(_analyse, commands[0])))
    for number, (text, step) in enumerate(steps, start=1):
        print(f"\nStep {number} of {len(steps)}: {text}", flush=True)
        step()
        after_step()
    from study.storage.opener import mask_password

    shown = [shlex.join(["python", "-m", "analysis", "--storage", mask_password(config.storage),
                         *command[5:]]) for command in commands]
    return "Done: the verdict is in the report above. Analyse again with:\n  " + shown[0]


def _search(config: SearchConfig, shorter: SearchConfig | None, warm: int, *,
            first: bool) -> None:
    """One member's search; a longer budget's new search is queued the shorter's best first."""
    from study.engine.search_run import run_search

    def before_trials(study: optuna.Study) -> None:
        if shorter is None or warm == 0:
            return
        from study.engine.budgets import warm_start
        from study.storage.opener import load_study, open_storage
        from study.storage.question import stored_question

        previous = load_study(open_storage(config.storage, create=False),
                              shorter.resolved_study_name)
        queued = warm_start(study, previous, param=stored_question(study).param,
                            per_value=warm)
        if queued:
            print(f"Warm start: queued trials {', '.join(map(str, queued))} of "
                  f"{shorter.resolved_study_name!r} (the best {warm} COMPLETE of each value).",
                  flush=True)

    # gc.freeze once per process: a later freeze would keep the earlier searches' objects.
    run_search(config, freeze_objects=first, before_trials=before_trials)


def _select(config: SearchConfig, args: argparse.Namespace, *, keep_stored: bool) -> None:
    """One member's selection; with `keep_stored`, one already run keeps its own settings."""
    from study.reruns.selection_reruns import run_selection

    top_k, seeds = args.top_k, args.select_seeds
    if keep_stored:
        from study.storage.opener import load_study_if_any, open_storage
        from study.storage.reruns import select_study_name

        select = load_study_if_any(open_storage(config.storage, create=False),
                                   select_study_name(config.resolved_study_name))
        stored = {} if select is None else select.user_attrs.get("config", {})
        if (stored.get("top_k"), stored.get("seeds")) not in ((None, None), (top_k, seeds)):
            top_k, seeds = stored["top_k"], stored["seeds"]
            print(f"Keeping this member's selection as it was run: top {top_k}, {seeds} "
                  "seeds each.", flush=True)
    run_selection(config.storage, config.resolved_study_name, top_k=top_k, seeds=seeds,
                  reuse_compiled=config.reuse_compiled)


def _confirm(config: SearchConfig, args: argparse.Namespace) -> None:
    from study.reruns.confirmation import run_confirmation
    from study.reruns.stopping import StopRule

    run_confirmation(config.storage, config.resolved_study_name, args.max_reruns,
                     reuse_compiled=config.reuse_compiled,
                     rule=StopRule("decided", margin=args.margin), pairing="paired")


def _analyse(command: list[str]) -> None:
    # Its own process: `study` never imports `analysis`. Its lines go straight to ours.
    code = subprocess.run(command, check=False).returncode
    if code != 0:
        raise UsageError(f"`python -m analysis` must finish, but it stopped with exit code "
                         f"{code} (its line above says why); the study is kept, run the same "
                         "command again to analyse it.")


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
        members = _plan(config, args)
        from study.engine.provenance import check_storage_clean

        check_storage_clean(config.storage, allow_dirty=args.allow_dirty, snapshot=args.snapshot)
        check_storage(config.storage)
        if args.snapshot is None:
            return _run_steps(config, args, members, after_step=lambda: None)
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

            return _run_steps(config, args, members, after_step)

    return run_command(run, PROG)


if __name__ == "__main__":
    raise SystemExit(main())
