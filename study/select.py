"""`python -m study.select`: pick each placement's configuration by the mean of reseeded reruns.

Between the search and the confirmation: each placement's top `--top-k` search trials are
retrained with `--seeds` new seeds each on the validation split, and the best mean is the pick
`python -m study.confirm` reruns on the test split (`study.reruns.selection_reruns`). Light module
level (standard library and light study modules only), like `study.confirm`.
"""

from __future__ import annotations

import argparse

from study import cli
from study.cli import OneLineParser, run_command
from study.reruns.selection_reruns import MAX_SELECT_SEEDS, run_selection
from study.storage.contract import DEFAULT_SELECT_SEEDS, DEFAULT_TOP_K

__all__ = ["main", "run_selection"]


def _parser() -> argparse.ArgumentParser:
    from study.config import DEFAULT_STORAGE

    parser = OneLineParser(
        prog="python -m study.select",
        description="Retrain each value's top search trials with new seeds on the "
                    "validation split and pick the best mean; results go to the study "
                    "NAME/select, which `python -m study.confirm` then reruns from. Running the "
                    "same command again resumes.")
    cli.add_storage(parser, default=DEFAULT_STORAGE)
    cli.add_study_name(parser)
    parser.add_argument("--top-k", type=int, default=DEFAULT_TOP_K,
                        help="candidates per value of the question: its best COMPLETE search "
                             "trials, the best PRUNED ones filling in where there are fewer "
                             "(default: "
                             f"{DEFAULT_TOP_K})")
    parser.add_argument("--seeds", type=int, default=DEFAULT_SELECT_SEEDS,
                        help=f"reruns per candidate, 2 to {MAX_SELECT_SEEDS} (default: "
                             f"{DEFAULT_SELECT_SEEDS})")
    cli.add_reuse_compiled(parser, default=True, what="reruns")
    cli.add_allow_dirty(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Runs the selection; returns the exit code (2 for a user mistake, 130 for Ctrl-C)."""

    def select() -> str:
        from study.config import check_study_name
        from study.engine.provenance import check_storage_clean

        args = _parser().parse_args(argv)
        check_study_name(args.study_name)
        check_storage_clean(args.storage, allow_dirty=args.allow_dirty)
        run_selection(args.storage, args.study_name, top_k=args.top_k, seeds=args.seeds,
                      reuse_compiled=args.reuse_compiled)
        import shlex

        from study.storage.opener import mask_password

        return "Confirm the picks on the test split: " + shlex.join(
            ["python", "-m", "study.confirm", "--storage", mask_password(args.storage),
             "--study-name", args.study_name, "--stop", "decided"])

    return run_command(select, "python -m study.select")


if __name__ == "__main__":
    raise SystemExit(main())
