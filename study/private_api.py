"""Every call into a library's private API, in one place, each checked against one version.

Optuna, Keras Tuner, Keras and TensorFlow lack a few public calls this project needs. Each function
here wraps one private one, names the version it was checked against and the public call that is
missing; setup.cfg bounds those libraries below their next untested release, and
tests/study/test_private_api.py pins what each function relies on. When a bound is raised, rerun
those tests first.

Checked against optuna 5.0.0, keras-tuner 1.4.8, keras 3.15.1 and tensorflow 2.21.

Private methods that our subclasses override cannot be wrapped here; they are listed in
`OVERRIDDEN_METHODS` and the tests fail loudly when the library renames them or changes their
signature:

- `keras_tuner.Tuner._build_and_fit_model(self, trial, *args, **kwargs)`, overridden by
  `study.tuning.tuner.OptunaTuner` to drop Keras Tuner's best-epoch checkpoint callback and to mark
  the builds made for a trial (as opposed to `get_best_models`);
- `keras_tuner.Tuner._try_build(self, hp)`, overridden by `study.tuning.tuner.OptunaTuner` to skip
  Keras Tuner's `clear_session()` when a trial reuses a compiled model.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import optuna

if TYPE_CHECKING:
    import keras_tuner

__all__ = ["OVERRIDDEN_METHODS", "checkpoint_path", "heartbeat_interval",
           "is_best_epoch_checkpoint", "record_heartbeat", "seed_keras", "study_storage",
           "tensorflow_gradient_registry", "trial_storage_id"]

# Library class -> {private method our subclass overrides: its signature when last checked}.
OVERRIDDEN_METHODS: dict[str, dict[str, str]] = {
    "keras_tuner.Tuner": {"_build_and_fit_model": "(self, trial, *args, **kwargs)",
                          "_try_build": "(self, hp)"},
}


# -- Optuna ---------------------------------------------------------------------------------

def study_storage(study: optuna.Study) -> optuna.storages.BaseStorage:
    """The storage a study reads and writes through (an RDB storage comes wrapped in a cache).

    optuna 5.0.0: `Study._storage`. There is no public accessor; the storage given to
    `create_study` is not it (the study wraps an RDB storage in `_CachedStorage`).
    """
    return study._storage


def trial_storage_id(trial: optuna.Trial) -> int:
    """The storage's id of a running trial (not its number), as heartbeats need it.

    optuna 5.0.0: `Trial._trial_id`. Public is only `trial.number`, which the storage's
    heartbeat calls do not take.
    """
    return trial._trial_id


def heartbeat_interval(storage: optuna.storages.BaseStorage) -> int | None:
    """Seconds between heartbeats the storage expects, or None when it keeps none.

    optuna 5.0.0: `optuna.storages._heartbeat.BaseHeartbeat.get_heartbeat_interval`. Optuna
    beats only inside `Study.optimize`; ask-and-tell has no public heartbeat API. A study's
    `_CachedStorage` is a `BaseHeartbeat` too and answers for the RDB storage it wraps.
    """
    from optuna.storages._heartbeat import BaseHeartbeat

    if not isinstance(storage, BaseHeartbeat):
        return None
    return storage.get_heartbeat_interval()


def record_heartbeat(storage: optuna.storages.BaseStorage, trial_id: int) -> None:
    """Records that the trial with storage id `trial_id` is alive now.

    optuna 5.0.0: `optuna.storages._heartbeat.BaseHeartbeat.record_heartbeat` (see
    `heartbeat_interval` for why). Only call it where `heartbeat_interval` is not None.
    """
    storage.record_heartbeat(trial_id)


# -- Keras Tuner ----------------------------------------------------------------------------

def is_best_epoch_checkpoint(callback: object) -> bool:
    """Whether `callback` is the best-epoch checkpoint Keras Tuner's `run_trial` adds.

    keras-tuner 1.4.8: `keras_tuner.src.engine.tuner_utils.SaveBestEpoch`. Keras Tuner has
    no option to train without saving every improving epoch's weights.
    """
    from keras_tuner.src.engine.tuner_utils import SaveBestEpoch

    return isinstance(callback, SaveBestEpoch)


def checkpoint_path(tuner: keras_tuner.Tuner, trial_id: str) -> str:
    """Where Keras Tuner saved (or would save) a trial's best-epoch weights.

    keras-tuner 1.4.8: `Tuner._get_checkpoint_fname`. `Tuner.load_model` reads this file but
    gives no public way to ask whether it exists.
    """
    return tuner._get_checkpoint_fname(trial_id)


# -- Keras ----------------------------------------------------------------------------------

def seed_keras(seed: int) -> None:
    """What `keras.utils.set_random_seed` does to Keras' own state, and nothing else.

    keras 3.15.1: it records the seed in `keras.src.backend.common.global_state` under
    `keras.src.utils.rng_utils.GLOBAL_RANDOM_SEED` and drops the global `SeedGenerator`
    (`keras.src.random.seed_generator.GLOBAL_SEED_GENERATOR`), which is then made again from
    Python's `random`. The public `keras.utils.set_random_seed` also sets TensorFlow's global
    seed, which clears TensorFlow's kernel caches (see `study.tuning.seeding`).
    """
    from keras.src.backend.common import global_state
    from keras.src.random import seed_generator
    from keras.src.utils import rng_utils

    global_state.set_global_attribute(rng_utils.GLOBAL_RANDOM_SEED, seed)
    global_state.set_global_attribute(seed_generator.GLOBAL_SEED_GENERATOR, None)


def tensorflow_gradient_registry() -> dict[str, object] | None:
    """TensorFlow's process-wide gradient registry, name -> gradient function; None where
    TensorFlow is not loaded (other backends) or keeps it elsewhere.

    Private in tensorflow 2.21: `ops._gradient_registry._registry`, a dict that
    `tf.custom_gradient` adds to and nothing removes (`study.tuning.custom_gradients`). No
    public call lists or removes registrations.
    """
    ops = sys.modules.get("tensorflow.python.framework.ops")
    registry = getattr(getattr(ops, "_gradient_registry", None), "_registry", None)
    return registry if isinstance(registry, dict) else None
