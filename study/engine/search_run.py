"""A search run: create or resume its study, then run trials until its budget is used.

`open_study` creates the study with the config's sampler and pruner, or resumes it when its
stored experiment settings match; `run_search` then trains the trials through the tuner of
`study.engine.setup`. Errors in the settings, data, search space or storage come before anything
is written.
"""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import optuna

from study.config import ConfigError, SearchConfig
from study.engine.setup import RunSetup, library_versions, prepare_run
from study.storage.contract import SEARCH_METRIC
from study.storage.opener import create_or_load_study, has_study, open_storage, sqlite_file
from study.storage.question import record_question
from study.storage.records import search_record, stored_record
from study.tuning.progress import Progress
from study.tuning.pruning import make_pruner
from study.tuning.samplers import make_sampler

__all__ = ["check_resumable", "freeze_loaded_objects", "open_study", "run_search",
           "study_record"]


def study_record(setup: RunSetup) -> dict[str, object]:
    """What a new search study stores as its `config` user attribute (`search_record`)."""
    config, splits = setup.config, setup.splits
    return search_record(
        dataclasses.asdict(config), study_name=config.resolved_study_name,
        num_classes=splits.num_classes, train_images=len(splits.train_images),
        val_images=len(splits.val_images), stored_image_shape=splits.train_images.shape[1:],
        dtype_policy=setup.dtype_policy, versions=library_versions())


def run_search(config: SearchConfig, *, stream: TextIO | None = None,
               setup: RunSetup | None = None, freeze_objects: bool = False,
               before_trials: Callable[[optuna.Study], None] | None = None) -> optuna.Study:
    """Creates or resumes the study and runs trials until its budget or timeout is used.

    Args:
        config: The validated run settings.
        stream: Where progress lines go (default stdout); None is stdout, not silence.
        setup: The run's set-up already made with `prepare_run(config)`, to skip making it.
        freeze_objects: Call `freeze_loaded_objects()` before the first trial (about 1 s less
            per trial); for a process that ends with the search, like the CLI's.
        before_trials: Called with the study once it is created or resumed and its question
            recorded, before the first trial (a budget family queues its warm start there).

    Returns:
        The study, with every trial of every process so far.

    Raises:
        ConfigError, DataError, StorageError: for wrong settings or a storage that cannot be
            used (see `open_storage`), before anything is written to storage.
    """
    setup = setup or prepare_run(config)
    new_file = sqlite_file(config.storage)
    new_file = new_file if new_file is not None and not new_file.exists() else None
    storage = open_storage(config.storage)
    new_study = not has_study(storage, config.resolved_study_name)
    study = open_study(config, storage, study_record(setup),
                       scientific_param=setup.scientific_param)
    try:  # Keras Tuner builds one model here, to learn the space's hyperparameters
        tuner = setup.tuner(study, progress=Progress(config.n_trials, config.epochs,
                                                     stream=stream))
    except Exception as error:  # a user's space may raise anything while it builds
        if new_study:  # leave the storage as it was: no empty study, no new empty file
            _forget(study, storage, new_file)
        first_line = str(error).splitlines()[0] if str(error) else ""
        raise ConfigError(f"`search_space` must build a model, but {config.search_space} "
                          f"raised {type(error).__name__}: {first_line}") from None
    try:
        record_question(study, setup.search_space.question(tuner.oracle.hyperparameters))
    except ConfigError:
        if new_study:
            _forget(study, storage, new_file)
        raise
    if before_trials is not None:
        before_trials(study)
    if freeze_objects:
        freeze_loaded_objects()
    try:
        tuner.search(*setup.inputs.train, epochs=config.epochs, **setup.inputs.fit_kwargs)
    except RuntimeError as error:
        # Keras Tuner gives up after its `max_consecutive_failed_trials` (3) failed trials in a
        # row: the space cannot train here. The trials stay stored, FAILED with their reasons.
        if not str(error).startswith("Number of consecutive failures"):
            raise
        lines = [line for line in str(error).strip().splitlines() if line.strip()]
        raise ConfigError(f"`search_space` must build and train its models, but "
                          f"{config.search_space} failed trial after trial ({lines[0]}); the "
                          f"last ended with: {lines[-1].strip()}") from None
    return study


def _forget(study: optuna.Study, storage: optuna.storages.BaseStorage,
            new_file: Path | None) -> None:
    """Deletes a study this run just created, and the SQLite file if the run created it."""
    optuna.delete_study(study_name=study.study_name, storage=storage)
    if new_file is not None and not storage.get_all_studies():
        storage.engine.dispose()
        new_file.unlink(missing_ok=True)


def freeze_loaded_objects() -> None:
    """Hides every object alive now from the garbage collector's full collections (gc.freeze).

    TensorFlow, Keras and the data leave about 480,000 long-lived objects, and every full
    collection between trials (Keras Tuner runs two before each build) walks them all: 0.3 s
    each on a 2-core CPU. Frozen, they are skipped; a collection then walks what the trials
    made. Call it once, after set-up, in a process that runs trials to its end: objects alive
    now are never collected afterwards.
    """
    gc.collect()
    gc.freeze()


def open_study(config: SearchConfig, storage: optuna.storages.BaseStorage,
               record: dict[str, object], *, scientific_param: str) -> optuna.Study:
    """Creates the study, or resumes it when it exists with the same experiment settings.

    Args:
        config: The run's settings; sampler and pruner are built from it.
        storage: Where the study lives.
        record: What to store as the study's `config` user attribute on creation.
        scientific_param: The hyperparameter the study is about (the space declares it):
            with `config.balance` each of its values gets an equal share of trials, and a
            trial is pruned only by comparison with trials of its own value.

    Returns:
        The study, maximizing the trial's best validation accuracy.

    Raises:
        ConfigError: when a study of that name exists with other experiment settings.
    """
    name = config.resolved_study_name
    sampler = make_sampler(config.sampler, config.seed)
    pruner = make_pruner(config.pruner, config.epochs,
                         per_value_of=scientific_param if config.balance else None)
    return create_or_load_study(
        storage, name, metric=SEARCH_METRIC, record=record, sampler=sampler, pruner=pruner,
        check=lambda study: check_resumable(study, config))


def check_resumable(study: optuna.Study, config: SearchConfig) -> None:
    """Refuses to add trials to a study that was run with other experiment settings.

    Raises:
        ConfigError: naming the first differing setting, the stored and the given value.
    """
    stored = stored_record(study)
    for key, value in config.science().items():
        if stored.get(key) != value:
            raise ConfigError(
                f"`{key}` must match the study being resumed, but {study.study_name!r} was "
                f"run with {key}={stored.get(key)!r} and this run asks for {value!r}; "
                "use another --study-name for a new study.")
