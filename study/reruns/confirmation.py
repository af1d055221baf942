"""Reruns of each placement's best search trial with fresh seeds, scored once on the test split.

A search ranks trials by one seed's validation accuracy, so the winners' values are optimistic
and say nothing about seed-to-seed spread. Retraining the best configuration of each placement
with K new seeds and scoring each once on the held-out test split gives the per-placement
samples the verdict in `analysis` is built for (Deep Learning Tuning Playbook: rerun the best
trials to see trial variance).

The reruns go to the study `NAME/confirm` in the same storage, one COMPLETE trial per
(placement, seed) with the source trial's params (`study.storage.reruns`); running again skips
the pairs already there. `python -m study.confirm` is the command.
"""

from __future__ import annotations

import datetime
import sys
import time
from typing import TYPE_CHECKING, TextIO

from study.errors import ConfigError
from study.reruns.allocation import next_rerun
from study.reruns.stopping import StopRule, rerun_until_stopped
from study.storage.contract import CONFIG_ATTR, CONFIRM_METRIC, PLACEMENTS, SCIENTIFIC_PARAM
from study.storage.reruns import (
    CONFIRM_SEED_BASE,
    best_trials,
    confirm_study_name,
    done_reruns,
    rerun_seeds,
    store_rerun,
)
from study.tuning.progress import format_params

if TYPE_CHECKING:
    import optuna

    from study.config import SearchConfig
    from study.runs.setup import TrainingInputs
    from study.tuning.compiled_models import TrialModels

# Light module level (standard library and light study modules only): `python -m study.confirm`
# imports this file before `run_command` can turn a Ctrl-C into one line, so Optuna, the storage
# and Keras are imported inside the functions (tests/test_interrupts.py checks it).

__all__ = ["run_confirmation", "train_and_test"]


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
        (test accuracy, test loss, seconds spent in `fit`, each epoch's training metrics).

    Raises:
        ConfigError: when the search space asks for hyperparameters the trial does not have.
    """
    import keras
    import keras_tuner

    from study.tuning.custom_gradients import released_custom_gradients
    from study.tuning.seeding import seed_trial

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
        fitted = model.fit(*inputs.seeded_train(seed), epochs=config.epochs, verbose=0,
                  shuffle=inputs.shuffle, **inputs.batching)
        seconds = time.perf_counter() - started
        results = model.evaluate(*inputs.held_out, verbose=0, return_dict=True, **inputs.batching)
    per_epoch = fitted.history
    history = [{name: values[epoch] for name, values in per_epoch.items()}
               for epoch in range(len(per_epoch.get("loss", [])))]
    return float(results["accuracy"]), float(results["loss"]), seconds, history


def run_confirmation(storage_url: str, study_name: str, seeds: int, *,
                     stream: TextIO | None = None, reuse_compiled: bool = True,
                     allocation: str = "equal", stop_at_half_width: float | None = None,
                     rule: StopRule | None = None) -> optuna.Study:
    """Reruns the best trial of each placement with up to `seeds` seeds, storing test accuracy.

    Everything is rebuilt from the search study's stored configuration: data, splits, epochs,
    batch and image size, search space. Pairs (placement, seed) already COMPLETE in the
    confirmation study are skipped, so an interrupted run continues where it stopped.

    Args:
        storage_url: The search's Optuna storage; a SQLite file must exist.
        study_name: The search study; reruns go to `confirm_study_name(study_name)`.
        seeds: Reruns per placement at most, seeded `rerun_seeds(seeds)`.
        stream: Where progress lines go; None is stdout.
        reuse_compiled: Reruns of one configuration reuse its compiled model, re-initialised
            with each seed (`study.tuning.compiled_models`); off builds and compiles every rerun.
        allocation: Which placement reruns next (`study.reruns.allocation`): "equal" gives each
            placement every seed in turn; "by-spread" gives reruns to the noisier placement
            first, in proportion to the stds, until each has had every seed.
        stop_at_half_width: Stop once the 95% interval of after - before (Welch) is at most
            this wide on each side (a fraction of accuracy, e.g. 0.005): the same as
            `rule=StopRule("half-width", half_width=...)`.
        rule: When to stop before every seed has run (`study.reruns.stopping`); None runs
            every seed, or stops at `stop_at_half_width`.

    Returns:
        The confirmation study (maximize test accuracy) with every rerun so far.

    Raises:
        ConfigError, DataError, StorageError: for wrong arguments or a storage that cannot be
            used (see `open_storage`), before anything is written to storage.
    """
    from study.config import config_from_record
    from study.storage.opener import create_or_load_study, has_study, load_study, open_storage
    from study.storage.records import confirmation_record, stored_record

    stream = stream or sys.stdout
    if rule is not None and stop_at_half_width is not None:
        raise ConfigError(f"`stop_at_half_width` must not be given with a stop rule, but got "
                          f"{stop_at_half_width} and {rule.stop!r}.")
    if rule is None:
        rule = (StopRule() if stop_at_half_width is None
                else StopRule("half-width", half_width=stop_at_half_width))
    seed_list = rerun_seeds(seeds)
    storage = open_storage(storage_url, create=False)
    study = load_study(storage, study_name)
    config = config_from_record(stored_record(study), storage=storage_url,
                                study_name=study_name)
    best = best_trials(study)
    name = confirm_study_name(study_name)
    done = done_reruns(load_study(storage, name) if has_study(storage, name) else None, best,
                       storage_url)
    planned = len(seed_list) * len(PLACEMENTS)
    finished = sum(seed in done[placement] for placement in PLACEMENTS for seed in seed_list)
    early = allocation != "equal" or rule.stop != "all"
    of_planned = f"{'at most ' if early else ''}{planned}"

    def say(line: str) -> None:
        print(line, file=stream, flush=True)

    say(f"Confirming {study_name!r}: the best trial of each placement, rerun with "
        f"{'up to ' if early else ''}{seeds} seed{'s' if seeds > 1 else ''} "
        f"and tested once{', more reruns to the noisier' if allocation != 'equal' else ''}"
        f"{', until the verdict is decided' if rule.stop == 'decided' else ''}.")
    for placement, trial in best.items():
        params = format_params({key: value for key, value in trial.params.items()
                                if key != SCIENTIFIC_PARAM})
        say(f"  {SCIENTIFIC_PARAM}={placement}: trial {trial.number}, val_accuracy "
            f"{trial.value:.4f} ({params})")
    if next_rerun(done, seed_list, allocation) is None:
        say(f"All {planned} reruns already finished.")
        return load_study(storage, name)
    reason = rule.reason_to_stop(done)
    if reason is not None:
        say(reason)
        return load_study(storage, name)
    if finished:
        say(f"Resuming: {finished} of {of_planned} reruns already finished.")

    from study.runs.setup import library_versions, prepare_run

    setup = prepare_run(config, held_out="test")
    models = setup.models(reuse=reuse_compiled)
    confirm = create_or_load_study(storage, name, metric=CONFIRM_METRIC)
    confirm.set_user_attr(CONFIG_ATTR, confirmation_record(
        confirm.user_attrs.get(CONFIG_ATTR), search_study=study_name,
        seed_base=CONFIRM_SEED_BASE, seeds=seed_list,
        source_trials={placement: trial.number for placement, trial in best.items()},
        train_images=len(setup.splits.train_images), test_images=len(setup.splits.test_images),
        epochs=config.epochs, allocation=allocation, stop=rule.record(),
        versions=library_versions()))

    def rerun(placement: str, seed: int) -> float:
        nonlocal finished
        source = best[placement]
        finished += 1
        say(f"Rerun {finished} of {of_planned}: "
            f"{SCIENTIFIC_PARAM}={placement} seed={seed} (trial {source.number})")
        started = datetime.datetime.now()  # Optuna stores local naive times
        accuracy, loss, seconds, history = train_and_test(models, source.params, setup.inputs,
                                                          config, seed)
        store_rerun(confirm, source, seed, accuracy, loss=loss, seconds=seconds,
                    compiled_model=models.last_build, dtype_policy=models.dtype_policy,
                    started=started, history=history, code_version=setup.code_version)
        say(f"  -> test accuracy {accuracy:.4f} in {seconds:.1f} s")
        return accuracy

    reason = rerun_until_stopped(done, seed_list, allocation, rule.reason_to_stop, rerun)
    if reason is not None:
        say(reason)
    elif rule.stop == "decided":
        say(f"Each placement has had its {seeds} reruns and the verdict is still undecided; "
            f"`python -m analysis` says how many more the spreads suggest.")
    return confirm
