"""A tiny search for subprocess tests: the real OptunaTuner on a Dense model, seconds per trial.

Usage: python tiny_search.py STORAGE_URL STUDY_NAME [--n-trials N] [--batch-sleep S]
           [--heartbeat S] [--grace S] [--seed N] [--deterministic]
"""

from __future__ import annotations

import argparse
import sys
import time

import keras
import numpy as np
import optuna
import tensorflow as tf

from study.cli import run_command
from study.engine.setup import enable_deterministic_ops
from study.storage.opener import open_storage
from study.tuning.tuner import OptunaTuner


class _SlowBatches(keras.callbacks.Callback):
    """Makes training last long enough for a test to interrupt it."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds

    def on_train_batch_end(self, batch, logs=None):
        time.sleep(self.seconds)


def _build(hp):
    hp.Choice("bn_position", ["before", "after"])
    learning_rate = hp.Float("learning_rate", 1e-3, 1e-1, sampling="log")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate), metrics=["accuracy"],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def _arrays(seed: int, n: int = 128):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    return x, (x[:, 0] + 0.5 * rng.normal(size=n) > 0).astype("int32")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("storage")
    parser.add_argument("study")
    parser.add_argument("--n-trials", type=int, default=4)
    parser.add_argument("--batch-sleep", type=float, default=0.0)
    parser.add_argument("--heartbeat", type=int, default=30)
    parser.add_argument("--grace", type=int, default=120)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    if args.deterministic:
        enable_deterministic_ops()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = open_storage(args.storage, heartbeat_interval=args.heartbeat,
                           grace_period=args.grace)
    study = optuna.create_study(study_name=args.study, storage=storage, direction="maximize",
                                load_if_exists=True, pruner=optuna.pruners.NopPruner(),
                                sampler=optuna.samplers.TPESampler(seed=args.seed))
    x, y = _arrays(0)

    def training_data(seed: int) -> tf.data.Dataset:
        return tf.data.Dataset.from_tensor_slices((x, y)).shuffle(128, seed=seed).batch(16)

    tuner = OptunaTuner(_build, study=study, max_trials=args.n_trials, seed=args.seed,
                        training_data=training_data, balanced_param="bn_position")

    def search() -> str:
        tuner.search(training_data(args.seed), validation_data=_arrays(1), epochs=2,
                     shuffle=False, callbacks=[_SlowBatches(args.batch_sleep)])
        return "done"

    # As the real commands do: Ctrl-C is "interrupted" and 130, SIGTERM "terminated" and 143.
    return run_command(search, "tiny_search")


if __name__ == "__main__":
    sys.exit(main())
