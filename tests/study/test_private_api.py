"""What `study.private_api` relies on in Optuna, Keras Tuner and Keras: these fail first when a
new release renames it (see the version bounds in setup.cfg)."""

from __future__ import annotations

import ast
import importlib
import inspect
import random
import time
from pathlib import Path

import keras
import keras_tuner
import numpy as np
import optuna
import pytest
from optuna.trial import TrialState

from study import private_api

ROOT = Path(__file__).parents[2]
ADAPTER = ROOT / "study" / "private_api.py"
LIBRARIES = ("optuna", "keras", "keras_tuner")


def _resolve(dotted: str) -> type:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize("class_name, method, signature", [
    (class_name, method, signature)
    for class_name, methods in private_api.OVERRIDDEN_METHODS.items()
    for method, signature in methods.items()])
def test_the_private_methods_we_override_still_exist_with_the_same_signature(
        class_name, method, signature):
    found = getattr(_resolve(class_name), method, None)
    assert found is not None, (
        f"{class_name}.{method} is gone: this release renamed what study/tuning/tuner.py "
        "overrides "
        f"(see study/private_api.py).")
    assert str(inspect.signature(found)) == signature


def _project_classes() -> list[type]:
    """The classes with base classes defined in `study` (only their modules are imported)."""
    classes = []
    for path in sorted((ROOT / "study").rglob("*.py")):
        if not any(isinstance(node, ast.ClassDef) and node.bases
                   for node in ast.walk(ast.parse(path.read_text()))):
            continue
        module = importlib.import_module(
            ".".join(path.relative_to(ROOT).with_suffix("").parts))
        classes += [value for value in vars(module).values()
                    if isinstance(value, type) and value.__module__ == module.__name__]
    return classes


def test_every_private_library_method_we_override_is_listed_in_the_adapter():
    listed = [(_resolve(name), set(methods))
              for name, methods in private_api.OVERRIDDEN_METHODS.items()]
    unlisted = []
    for cls in _project_classes():
        library_bases = [base for base in cls.__mro__[1:]
                         if base.__module__.split(".")[0] in LIBRARIES]
        for name, value in vars(cls).items():
            private_method = (name.startswith("_") and not name.startswith("__")
                              and (callable(value) or isinstance(value, property)))
            if not private_method:
                continue
            overridden = any(name in vars(base) for base in library_bases)
            if overridden and not any(issubclass(cls, base) and name in methods
                                      for base, methods in listed):
                unlisted.append(f"{cls.__module__}.{cls.__qualname__}.{name}")
    assert unlisted == []


def _private_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found += [name for name in names if name.split(".")[0] in LIBRARIES and any(
            part == "src" or part.startswith("_") for part in name.split(".")[1:])]
    return found


def test_only_the_adapter_imports_private_library_modules():
    offenders = {str(path.relative_to(ROOT)): _private_imports(path)
                 for package in ("study", "search_spaces", "analysis")
                 for path in sorted((ROOT / package).rglob("*.py")) if path != ADAPTER}
    assert {path: names for path, names in offenders.items() if names} == {}
    assert _private_imports(ADAPTER)  # the check sees them where they are


@pytest.mark.filterwarnings("ignore::optuna.exceptions.ExperimentalWarning")
@pytest.mark.filterwarnings("ignore:Heartbeat of storage is supposed")
def test_storage_trial_id_and_heartbeats_of_an_rdb_study(tmp_path):
    storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 's.db'}",
                                         heartbeat_interval=1, grace_period=1)
    search = optuna.create_study(storage=storage, direction="maximize")
    trial = search.ask()

    wrapped = private_api.study_storage(search)
    trial_id = private_api.trial_storage_id(trial)
    assert wrapped.get_trial(trial_id).number == trial.number
    assert private_api.heartbeat_interval(wrapped) == 1
    private_api.record_heartbeat(wrapped, trial_id)
    optuna.storages.fail_stale_trials(search)
    assert search.trials[0].state == TrialState.RUNNING
    # Past the grace period without a beat; SQLite's clock counts whole seconds, so 1 s more.
    time.sleep(2.2)
    optuna.storages.fail_stale_trials(search)
    assert search.trials[0].state == TrialState.FAIL


def test_an_in_memory_study_keeps_no_heartbeats():
    search = optuna.create_study()
    assert private_api.heartbeat_interval(private_api.study_storage(search)) is None


def test_the_best_epoch_checkpoint_is_recognised_and_nothing_else():
    from keras_tuner.src.engine.tuner_utils import SaveBestEpoch

    checkpoint = SaveBestEpoch(keras_tuner.Objective("val_accuracy", "max"), "best.weights.h5")
    assert private_api.is_best_epoch_checkpoint(checkpoint)
    assert not private_api.is_best_epoch_checkpoint(keras.callbacks.History())


def test_an_oracle_without_a_tuner_saves_in_the_folder_given(tmp_path):
    # The oracle tests (and tests/study/worker.py) drive oracles without a tuner through this
    # private setter; the product never does.
    oracle = keras_tuner.oracles.RandomSearchOracle(objective="val_accuracy", max_trials=1)
    oracle._set_project_dir(str(tmp_path), "p")
    oracle.save()
    assert (tmp_path / "p" / "oracle.json").exists()


def _normal_after_seeding(seed: int, *, keras_too: bool = True) -> np.ndarray:
    if keras_too:
        private_api.seed_keras(seed)
    random.seed(seed)  # Keras makes its new global generator from Python's `random`
    return keras.ops.convert_to_numpy(keras.random.normal((4,)))


def test_seeding_keras_restarts_its_random_numbers():
    # Equality with `keras.utils.set_random_seed` is pinned by tests/study/tuning/test_seeding.py.
    first = _normal_after_seeding(3)
    np.testing.assert_array_equal(_normal_after_seeding(3), first)
    assert not np.array_equal(_normal_after_seeding(3, keras_too=False), first)
