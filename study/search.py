"""`python -m study.search`: run (or resume) a BN-placement study stored in Optuna."""

from __future__ import annotations

import argparse

from study.cli import run_command
from study.config import PRESETS, PRUNERS, SAMPLERS, SearchConfig, preset
from study.contract import PLACEMENTS, SCIENTIFIC_PARAM
from study.progress import format_params

__all__ = ["main", "parse_config"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m study.search",
        description="Tune MobileNetV2 with BN before or after ReLU6; trials go to Optuna "
                    "storage. Running the same command again resumes the study.")
    parser.add_argument("--preset", default="smoke",
                        help=f"base settings: {', '.join(PRESETS)} (default: smoke)")
    parser.add_argument("--dataset", help="fashion_mnist or tfds:<name>, e.g. tfds:tf_flowers")
    parser.add_argument("--data-dir", help="folder with the dataset's files")
    parser.add_argument("--storage", help="Optuna storage URL (default: sqlite:///studies/"
                                          "bnstudy.db); postgresql://... for many machines")
    parser.add_argument("--study-name", help="default: bnstudy-<preset>")
    parser.add_argument("--search-space", help="registered search space (default: bn_placement)")
    parser.add_argument("--n-trials", type=int, help="finished trials over all workers")
    parser.add_argument("--timeout", type=float, help="seconds after which no trial starts")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--image-size", type=int, help="input side, at least 32")
    parser.add_argument("--train-size", type=int, help="training images")
    parser.add_argument("--val-size", type=int, help="validation images")
    parser.add_argument("--sampler", help=f"one of {', '.join(SAMPLERS)}")
    parser.add_argument("--pruner", help=f"one of {', '.join(PRUNERS)}")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument("--mixed-precision", action=argparse.BooleanOptionalAction,
                        default=None, help="float16 compute (GPUs); on in the gpu preset")
    parser.add_argument("--jit-compile", choices=("auto", "on", "off"),
                        help="XLA compilation; auto: on with a GPU, off on CPU")
    parser.add_argument("--reuse-compiled", choices=("on", "off"),
                        help="trials of an architecture already compiled in this process "
                             "reuse its model, re-initialised (default: on)")
    parser.add_argument("--deterministic", action="store_const", const=True,
                        help="deterministic TensorFlow ops, so each trial can be reproduced")
    parser.add_argument("--no-balance", dest="balance", action="store_const", const=False,
                        help="let the sampler choose bn_position too")
    return parser


def parse_config(argv: list[str] | None = None) -> SearchConfig:
    """Reads the command line into a validated `SearchConfig`.

    Raises:
        ConfigError: for a wrong setting; argparse exits with code 2 for malformed flags.
    """
    args = vars(_parser().parse_args(argv))
    name = args.pop("preset")
    if args["jit_compile"] is not None:
        args["jit_compile"] = {"auto": "auto", "on": True, "off": False}[args["jit_compile"]]
    if args["reuse_compiled"] is not None:
        args["reuse_compiled"] = args["reuse_compiled"] == "on"
    return preset(name, **args)


def summary(study, storage_url: str) -> str:
    """The best trial per placement and the commands to look further."""
    from optuna.trial import TrialState

    lines = [f"Study {study.study_name!r}: {len(study.trials)} trials in {storage_url}"]
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    for position in PLACEMENTS:
        mine = [t for t in complete if t.params.get(SCIENTIFIC_PARAM) == position]
        if mine:
            best = max(mine, key=lambda t: t.value)
            params = format_params({k: v for k, v in best.params.items()
                                    if k != SCIENTIFIC_PARAM})
            lines.append(f"  best with BN {position:6s} the activation: val_accuracy "
                         f"{best.value:.4f} (trial {best.number}: {params})")
        else:
            lines.append(f"  no finished trial with BN {position} the activation yet")
    lines += ["Look further:",
              f"  optuna-dashboard {storage_url}",
              f"  python -m study.confirm --storage {storage_url} --study-name {study.study_name}",
              f"  python -m analysis --storage {storage_url} --study-name {study.study_name}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Runs the search; returns the exit code (2 for a user mistake, 130 when interrupted)."""

    def search() -> str:
        config = parse_config(argv)
        from study.runner import run_search  # imports Keras: only once the settings are good

        return summary(run_search(config, freeze_objects=True), config.storage)

    return run_command(search, "python -m study.search")


if __name__ == "__main__":
    raise SystemExit(main())
