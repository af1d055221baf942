"""`python -m study.search`: run (or resume) a BN-placement study stored in Optuna."""

from __future__ import annotations

import argparse
import shlex
from typing import TYPE_CHECKING

from study.cli import (
    OneLineParser,
    add_allow_dirty,
    add_reuse_compiled,
    add_storage,
    add_study_name,
    run_command,
)
from study.tuning.progress import format_params

if TYPE_CHECKING:
    from study.config import SearchConfig

# Light module level (standard library and light study modules only): `python -m study.search`
# runs this file before `run_command` can turn a Ctrl-C into one line, so Optuna, the storage
# and Keras are imported inside the command (tests/test_interrupts.py checks it).

__all__ = ["add_search_arguments", "config_from_arguments", "main", "parse_config"]


def _parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m study.search",
        description="Tune the search space (default: MobileNetV2 with BN before or after "
                    "ReLU6) for each value of its scientific hyperparameter; trials go to "
                    "Optuna storage. Running the same command again resumes the study.")
    add_search_arguments(parser)
    return parser


def add_search_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the search's options to `parser`: this command's, and `study.run`'s first step."""
    from study.config import PRESETS, PRUNERS, SAMPLERS
    from study.model.precision import PRECISIONS

    parser.add_argument("--preset", default="smoke", choices=sorted(PRESETS),
                        help="base settings (default: smoke)")
    parser.add_argument("--dataset", help="fashion_mnist, tfds:<name> (e.g. tfds:tf_flowers) "
                                          "or folder:<path> (one subfolder per class)")
    parser.add_argument("--data-dir", help="folder with the dataset's files")
    add_storage(parser, default=None,
                help="Optuna storage URL (default: sqlite:///studies/bnstudy.db); "
                     "postgresql://... for many machines")
    add_study_name(parser, required=False, help="default: bnstudy-<preset>")
    parser.add_argument("--search-space", help="a space of search_spaces/ by name, or the "
                        "dotted path of a module with build(hp, context) (default: bn_placement)")
    parser.add_argument("--n-trials", type=int, help="finished trials over all workers")
    parser.add_argument("--timeout", type=float, help="seconds after which no trial starts")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--image-size", type=int, help="input side, at least 32")
    parser.add_argument("--train-size", type=int, help="training images")
    parser.add_argument("--val-size", type=int, help="validation images")
    parser.add_argument("--sampler", choices=list(SAMPLERS), help="Optuna sampler (default: tpe)")
    parser.add_argument("--pruner", choices=list(PRUNERS), help="Optuna pruner (default: median)")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument("--precision", choices=PRECISIONS,
                        help="Keras dtype policy; auto (the gpu preset's): mixed_bfloat16 on "
                             "GPUs with bfloat16, else float32")
    parser.add_argument("--mixed-precision", action=argparse.BooleanOptionalAction,
                        default=None, help="shorthand: --precision mixed_float16 (or float32)")
    parser.add_argument("--jit-compile", choices=("auto", "on", "off"),
                        help="XLA compilation; auto: on with a GPU, off on CPU")
    add_reuse_compiled(parser, default=None)
    parser.add_argument("--deterministic", action=argparse.BooleanOptionalAction, default=None,
                        help="deterministic TensorFlow ops, so each trial can be reproduced "
                             "(default: off)")
    parser.add_argument("--balance", action=argparse.BooleanOptionalAction, default=None,
                        help="an equal share of trials for each value of the scientific "
                             "hyperparameter (the space's question: bn_position by default); "
                             "--no-balance lets the sampler choose it too (default: on)")
    add_allow_dirty(parser)


def parse_config(argv: list[str] | None = None) -> SearchConfig:
    """Reads the command line into a validated `SearchConfig`.

    Raises:
        ConfigError: for a wrong setting; argparse exits with code 2 for malformed flags.
    """
    return config_from_arguments(vars(_parser().parse_args(argv)))


def config_from_arguments(arguments: dict[str, object]) -> SearchConfig:
    """A validated `SearchConfig` from the values of `add_search_arguments`' options.

    Raises:
        ConfigError: for a wrong setting.
    """
    from study.config import ConfigError, preset

    args = dict(arguments)
    name = args.pop("preset")
    args.pop("allow_dirty", None)  # not a setting of the experiment: checked by the commands
    if args["jit_compile"] is not None:
        args["jit_compile"] = {"auto": "auto", "on": True, "off": False}[args["jit_compile"]]
    mixed = args.pop("mixed_precision")
    if mixed is not None:
        shorthand = "mixed_float16" if mixed else "float32"
        if args["precision"] not in (None, shorthand):
            raise ConfigError(f"`--mixed-precision` means --precision {shorthand}, but got "
                              f"--precision {args['precision']} beside it; pass one of them.")
        args["precision"] = shorthand
    return preset(name, **args)


def summary(study, storage_url: str) -> str:
    """The best trial per value of the study's question and the commands to look further.

    The storage URL is shown with its password masked; the commands are quoted for a shell.
    """
    from optuna.trial import TrialState

    from study.storage.opener import mask_password
    from study.storage.question import stored_question
    from study.storage.trials import best_per_value

    shown = mask_password(storage_url)
    lines = [f"Study {study.study_name!r}: {len(study.trials)} trials in {shown}"]
    question = stored_question(study)
    best_of = best_per_value(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)),
                             question)
    width = max(len(question.label(value)) for value in question.values)
    for value in question.values:
        best = best_of.get(value)
        if best is not None:
            params = format_params({k: v for k, v in best.params.items()
                                    if k != question.param})
            lines.append(f"  best with {question.label(value):{width}s}: val_accuracy "
                         f"{best.value:.4f} (trial {best.number}: {params})")
        else:
            lines.append(f"  no finished trial with {question.label(value)} yet")
    commands = [["optuna-dashboard", shown],
                ["python", "-m", "study.confirm", "--storage", shown,
                 "--study-name", study.study_name],
                ["python", "-m", "analysis", "--storage", shown, "--study-name", study.study_name]]
    lines += ["Look further:", *("  " + shlex.join(command) for command in commands)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Runs the search; returns the exit code (2 for a user mistake, 130 when interrupted)."""

    def search() -> str:
        from study.engine.provenance import check_storage_clean
        from study.storage.opener import check_storage

        arguments = vars(_parser().parse_args(argv))
        config = config_from_arguments(arguments)
        check_storage_clean(config.storage, allow_dirty=arguments["allow_dirty"])
        # A storage that must be refused is, before seconds of imports and data loading.
        check_storage(config.storage)
        # Imports Keras: only once the settings are good.
        from study.engine.search_run import run_search

        return summary(run_search(config, freeze_objects=True), config.storage)

    return run_command(search, "python -m study.search")


if __name__ == "__main__":
    raise SystemExit(main())
