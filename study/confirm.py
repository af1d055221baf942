"""`python -m study.confirm`: rerun each placement's best search trial with fresh seeds, on test.

A search ranks trials by one seed's validation accuracy, so the winners' values are optimistic
and say nothing about seed-to-seed spread. Retraining the best configuration of each placement
with K new seeds and scoring each once on the held-out test split gives the per-placement
samples the verdict in `analysis` is built for (Deep Learning Tuning Playbook: rerun the best
trials to see trial variance).

The reruns go to the study `NAME/confirm` in the same storage, one COMPLETE trial per
(placement, seed) with the source trial's params (`study.reruns`); running again skips the
pairs already there.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import shlex
import statistics
import sys
import time
from typing import TYPE_CHECKING, TextIO

from study.allocation import ALLOCATIONS, MIN_RERUNS_EACH, half_width, next_rerun
from study.cli import OneLineParser, run_command
from study.contract import (
    CONFIG_ATTR,
    CONFIRM_METRIC,
    DEFAULT_CONFIRM_SEEDS,
    PLACEMENTS,
    SCIENTIFIC_PARAM,
)
from study.custom_gradients import released_custom_gradients
from study.errors import ConfigError
from study.progress import format_params
from study.reruns import (
    CONFIRM_SEED_BASE,
    best_trials,
    confirm_study_name,
    done_reruns,
    rerun_seeds,
    store_rerun,
)

if TYPE_CHECKING:
    import optuna

    from study.compiled_models import TrialModels
    from study.config import SearchConfig
    from study.runner import TrainingInputs

# Light module level (standard library and light study modules only): `python -m study.confirm`
# runs this file before `run_command` can turn a Ctrl-C into one line, so Optuna, the storage
# and Keras are imported inside the functions (tests/test_interrupts.py checks it).

__all__ = ["DEFAULT_CONFIRM_SEEDS", "main", "run_confirmation", "search_config", "summary",
           "train_and_test"]

def search_config(study: optuna.Study, storage_url: str) -> SearchConfig:
    """Rebuilds the search's `SearchConfig` from the study's stored `config` attribute.

    Args:
        study: The search study.
        storage_url: Where the study lives now (it may have moved since the search).

    Returns:
        The validated configuration; fields the record lacks keep their defaults.

    Raises:
        ConfigError: when the study has no stored configuration.
    """
    from study.config import SearchConfig

    record = study.user_attrs.get(CONFIG_ATTR)
    if not isinstance(record, dict):
        raise ConfigError(f"`study_name` must name a study made by bnstudy, but "
                          f"{study.study_name!r} has no stored configuration.")
    fields = {field.name for field in dataclasses.fields(SearchConfig)}
    known = {key: value for key, value in record.items() if key in fields}
    if "precision" not in record and record.get("mixed_precision"):
        known["precision"] = "mixed_float16"  # stored before `precision` replaced the switch
    known.update(storage=storage_url, study_name=study.study_name)
    return SearchConfig(**known).validate()


def train_and_test(models: TrialModels, params: dict[str, object], inputs: TrainingInputs,
                   config: SearchConfig, seed: int) -> tuple[float, float, float]:
    """Trains one configuration on the training split and evaluates it once on the test split.

    Args:
        models: The search space's models (`TrialModels`): with reuse on, a rerun of an
            architecture already trained here reuses its compiled model, re-initialised.
        params: The configuration, as stored in the search trial.
        inputs: The training split and the test split (`training_inputs(..., held_out="test")`):
            a tf.data pipeline, or arrays where TensorFlow is missing.
        config: Epochs of the search.
        seed: Seeds the weights, dropout and the order (and augmentation) of the examples.

    Returns:
        (test accuracy, test loss, seconds spent in `fit`).

    Raises:
        ConfigError: when the search space asks for hyperparameters the trial does not have.
    """
    import keras
    import keras_tuner

    from study.seeding import seed_trial

    if not models.reuse:
        keras.backend.clear_session()  # one model at a time; earlier reruns' graphs would pile up
    seed_trial(seed, tensorflow_seed=CONFIRM_SEED_BASE)  # keeps reused models' kernels
    hp = keras_tuner.HyperParameters()
    hp.values = dict(params)  # Keras Tuner returns values already present instead of sampling
    with released_custom_gradients():  # else every rerun's train step stays in memory
        model: keras.Model = models.build_for_trial(hp)
        unknown = sorted(set(hp.values) - set(params))
        if unknown:
            raise ConfigError(f"`search_space` must be the one the study was run with, but "
                              f"{config.search_space!r} asks for {unknown}, which the trial "
                              f"lacks.")
        started = time.perf_counter()
        model.fit(*inputs.seeded_train(seed), epochs=config.epochs, verbose=0,
                  shuffle=inputs.shuffle, **inputs.batching)
        seconds = time.perf_counter() - started
        results = model.evaluate(*inputs.held_out, verbose=0, return_dict=True, **inputs.batching)
    return float(results["accuracy"]), float(results["loss"]), seconds


def run_confirmation(storage_url: str, study_name: str, seeds: int, *,
                     stream: TextIO | None = None, reuse_compiled: bool = True,
                     allocation: str = "equal",
                     stop_at_half_width: float | None = None) -> optuna.Study:
    """Reruns the best trial of each placement with up to `seeds` seeds, storing test accuracy.

    Everything is rebuilt from the search study's stored configuration: data, splits, epochs,
    batch and image size, search space. Pairs (placement, seed) already COMPLETE in the
    confirmation study are skipped, so an interrupted run continues where it stopped.

    Args:
        storage_url: The search's Optuna storage; a SQLite file must exist.
        study_name: The search study; reruns go to `confirm_study_name(study_name)`.
        seeds: Reruns per placement, seeded `rerun_seeds(seeds)`.
        stream: Where progress lines go; None is stdout.
        reuse_compiled: Reruns of one configuration reuse its compiled model, re-initialised
            with each seed (`study.compiled_models`); off builds and compiles every rerun.
        allocation: Which placement reruns next (`study.allocation`): "equal" gives each
            placement every seed in turn; "by-spread" gives reruns to the noisier placement
            first, in proportion to the stds, until each has had every seed.
        stop_at_half_width: Stop once the 95% interval of after - before (Welch) is at most
            this wide on each side (a fraction of accuracy, e.g. 0.005) and each placement has
            MIN_RERUNS_EACH reruns: a rule on the spreads alone. None runs every seed.

    Returns:
        The confirmation study (maximize test accuracy) with every rerun so far.

    Raises:
        ConfigError, DataError, StorageError: for wrong arguments or a storage that cannot be
            used (see `open_storage`), before anything is written to storage.
    """
    import optuna

    from study.storage import has_study, load_study, name_metric, open_storage

    stream = stream or sys.stdout
    if stop_at_half_width is not None and not 0 < stop_at_half_width < 1:
        raise ConfigError(f"`stop_at_half_width` must be a fraction of accuracy in (0, 1), but "
                          f"got {stop_at_half_width}.")
    seed_list = rerun_seeds(seeds)
    storage = open_storage(storage_url, create=False)
    study = load_study(storage, study_name)
    config = search_config(study, storage_url)
    best = best_trials(study)
    name = confirm_study_name(study_name)
    done = done_reruns(load_study(storage, name) if has_study(storage, name) else None, best,
                        storage_url)
    planned = len(seed_list) * len(PLACEMENTS)
    finished = sum(seed in done[placement] for placement in PLACEMENTS for seed in seed_list)
    by_spread = allocation != "equal"
    of_planned = f"{'at most ' if by_spread else ''}{planned}"

    def say(line: str) -> None:
        print(line, file=stream, flush=True)

    def precise_enough() -> bool:
        width = half_width(done)
        if stop_at_half_width is None or width is None or width > stop_at_half_width:
            return False
        say(f"The 95% interval of the difference is \N{PLUS-MINUS SIGN}{100 * width:.3f} pp, "
            f"at most the \N{PLUS-MINUS SIGN}{100 * stop_at_half_width:.2f} pp asked for: "
            f"no more reruns.")
        return True

    say(f"Confirming {study_name!r}: the best trial of each placement, rerun with "
        f"{'up to ' if by_spread else ''}{seeds} seed{'s' if seeds > 1 else ''} "
        f"and tested once{', more reruns to the noisier' if by_spread else ''}.")
    for placement, trial in best.items():
        params = format_params({key: value for key, value in trial.params.items()
                                if key != SCIENTIFIC_PARAM})
        say(f"  {SCIENTIFIC_PARAM}={placement}: trial {trial.number}, val_accuracy "
            f"{trial.value:.4f} ({params})")
    if next_rerun(done, seed_list, allocation) is None:
        say(f"All {planned} reruns already finished.")
        return load_study(storage, name)
    if precise_enough():
        return load_study(storage, name)
    if finished:
        say(f"Resuming: {finished} of {of_planned} reruns already finished.")

    from study import spaces
    from study.compiled_models import (
        TrialModels,
        enable_jax_compilation_cache,
        jax_cache_dir,
    )
    from study.runner import (
        dtype_policy,
        library_versions,
        load_data,
        space_context,
        training_inputs,
    )

    splits = load_data(config)
    inputs = training_inputs(config, splits, held_out="test")
    enable_jax_compilation_cache(jax_cache_dir(storage_url))
    models = TrialModels(spaces.get_search_space(config.search_space,
                                                 space_context(config, splits)),
                         dtype_policy=dtype_policy(config), reuse=reuse_compiled,
                         architecture_params=spaces.architecture_params(config.search_space))
    confirm = optuna.create_study(study_name=name, storage=storage, direction="maximize",
                                  load_if_exists=True)
    name_metric(confirm, CONFIRM_METRIC)
    stored = confirm.user_attrs.get(CONFIG_ATTR)
    stored = stored if isinstance(stored, dict) else {}
    confirm.set_user_attr(CONFIG_ATTR, {
        "search_study": study_name, "seed_base": CONFIRM_SEED_BASE,
        "seeds": sorted(set(stored.get("seeds", [])) | set(seed_list)),
        "source_trials": {placement: trial.number for placement, trial in best.items()},
        "train_images": len(splits.train_images), "test_images": len(splits.test_images),
        "epochs": config.epochs, "allocation": allocation,
        "stop_at_half_width": stop_at_half_width, "versions": library_versions()})
    while (rerun := next_rerun(done, seed_list, allocation)) is not None:
        placement, seed = rerun
        source = best[placement]
        finished += 1
        say(f"Rerun {finished} of {of_planned}: "
            f"{SCIENTIFIC_PARAM}={placement} seed={seed} (trial {source.number})")
        started = datetime.datetime.now()  # Optuna stores local naive times
        accuracy, loss, seconds = train_and_test(models, source.params, inputs, config, seed)
        store_rerun(confirm, source, seed, accuracy, loss=loss, seconds=seconds,
                    compiled_model=models.last_build, dtype_policy=models.dtype_policy,
                    started=started)
        done[placement][seed] = accuracy
        say(f"  -> test accuracy {accuracy:.4f} in {seconds:.1f} s")
        if precise_enough():
            break
    return confirm


def summary(confirm: optuna.Study, storage_url: str, study_name: str) -> str:
    """Mean test accuracy ± std per placement, and the command that analyses the study.

    The storage URL is shown with its password masked; the command is quoted for a shell.
    """
    from optuna.trial import TrialState

    from study.storage import mask_password

    complete = confirm.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    shown = mask_password(storage_url)
    lines = [f"Study {confirm.study_name!r}: {len(complete)} reruns in {shown}"]
    for placement in PLACEMENTS:
        values = [trial.value for trial in complete
                  if trial.params.get(SCIENTIFIC_PARAM) == placement]
        if not values:
            lines.append(f"  no rerun with BN {placement} the activation yet")
            continue
        if len(values) > 1:
            spread = f" ± {statistics.stdev(values):.4f} (mean ± std of {len(values)} seeds)"
        else:
            spread = " (1 seed)"
        lines.append(f"  BN {placement:6s} the activation: test accuracy "
                     f"{statistics.fmean(values):.4f}{spread}")
    lines += ["Analyse:", "  " + shlex.join(["python", "-m", "analysis", "--storage", shown,
                                             "--study-name", study_name])]
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    from study.config import DEFAULT_STORAGE

    parser = OneLineParser(
        prog="python -m study.confirm",
        description="Retrain the best configuration of each BN placement with several seeds "
                    "and test it once on the held-out test split; results go to the study "
                    "NAME/confirm. Running the same command again resumes.")
    parser.add_argument("--storage", default=DEFAULT_STORAGE,
                        help=f"Optuna storage URL of the search (default: {DEFAULT_STORAGE})")
    parser.add_argument("--study-name", required=True, help="name of the search study")
    parser.add_argument("--seeds", type=int, default=DEFAULT_CONFIRM_SEEDS,
                        help=f"reruns per placement, the most of either with --allocation "
                             f"by-spread (default: {DEFAULT_CONFIRM_SEEDS}, what the "
                             "analysis' verdict is calibrated for)")
    parser.add_argument("--allocation", choices=ALLOCATIONS, default="equal",
                        help="equal: every seed for each placement in turn; by-spread: "
                             "reruns go first to the placement whose std is larger, which "
                             "narrows the interval of the difference with fewer reruns "
                             "(default: equal)")
    parser.add_argument("--stop-at-half-width", type=float, default=None, metavar="H",
                        help="stop once the 95%% interval of after - before is at most H wide "
                             "on each side (a fraction, e.g. 0.005 for 0.5 pp) and each "
                             f"placement has {MIN_RERUNS_EACH} reruns (default: run every seed)")
    parser.add_argument("--reuse-compiled", choices=("on", "off"), default="on",
                        help="reruns of one configuration reuse its compiled model, "
                             "re-initialised (default: on)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Runs the confirmation; returns the exit code (2 for a user mistake, 130 for Ctrl-C)."""

    def confirm() -> str:
        from study.config import check_study_name

        args = _parser().parse_args(argv)
        check_study_name(args.study_name)
        study = run_confirmation(args.storage, args.study_name, args.seeds,
                                 reuse_compiled=args.reuse_compiled == "on",
                                 allocation=args.allocation,
                                 stop_at_half_width=args.stop_at_half_width)
        return summary(study, args.storage, args.study_name)

    return run_command(confirm, "python -m study.confirm")


if __name__ == "__main__":
    raise SystemExit(main())
