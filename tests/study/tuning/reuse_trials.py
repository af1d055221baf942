"""Three fixed trials of a tiny conv + BatchNorm space through the real OptunaTuner, in graph mode.

Trial 0 diverges (a huge learning rate), trials 1 and 2 have the same architecture as trial 0
and train normally. Prints one JSON line per trial. Run in a subprocess because
`--deterministic` turns on TensorFlow's op determinism for the whole process.

Usage: python reuse_trials.py STORAGE_URL --reuse-compiled {on,off} [--deterministic]
"""

from __future__ import annotations

import argparse
import json
import sys

import keras
import numpy as np
import optuna
import tensorflow as tf

from study.engine.setup import enable_deterministic_ops
from study.model.schedules import cosine_decay_optimizer
from study.storage.opener import open_storage
from study.tuning.tuner import OptunaTuner

LEARNING_RATES = (1e38, 0.05, 0.2)  # the first diverges: logits overflow float32
EPOCHS = 2
STEPS_PER_EPOCH = 4


def build(hp):
    """A search space that declares its architecture: width and placement change the graph."""
    width = hp.Choice("width", [4, 8])
    hp.Choice("bn_position", ["before", "after"])
    learning_rate = hp.Float("learning_rate", 1e-3, 1e38, sampling="log")
    model = keras.Sequential([
        keras.Input((16, 16, 3)), keras.layers.Conv2D(width, 3, use_bias=False),
        keras.layers.BatchNormalization(momentum=0.9), keras.layers.ReLU(6.0),
        keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2)])
    optimizer = cosine_decay_optimizer(keras.optimizers.SGD, learning_rate, momentum=0.9,
                                       nesterov=True, decay_steps=EPOCHS * STEPS_PER_EPOCH)
    model.compile(optimizer=optimizer, metrics=["accuracy"],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


class _EpochLosses(keras.callbacks.Callback):
    """Records every epoch's losses; a class attribute, since Keras Tuner copies callbacks."""

    losses: list[list[float]] = []

    def on_train_begin(self, logs=None):
        _EpochLosses.losses.append([])

    def on_epoch_end(self, epoch, logs=None):
        _EpochLosses.losses[-1].append([float(logs["loss"]), float(logs["val_loss"])])


def _arrays(seed: int, n: int = 64):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 16, 16, 3)).astype("float32")
    return x, (x[..., 0].mean(axis=(1, 2)) > 0).astype("int32")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("storage")
    parser.add_argument("--reuse-compiled", choices=("on", "off"), required=True)
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    if args.deterministic:
        enable_deterministic_ops()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name="reuse", storage=open_storage(args.storage),
                                direction="maximize", pruner=optuna.pruners.NopPruner())
    for learning_rate in LEARNING_RATES:
        study.enqueue_trial({"width": 4, "bn_position": "after",
                             "learning_rate": learning_rate})
    x, y = _arrays(0)

    def training_data(seed: int) -> tf.data.Dataset:
        return tf.data.Dataset.from_tensor_slices((x, y)).shuffle(64, seed=seed).batch(16)

    tuner = OptunaTuner(build, study=study, max_trials=len(LEARNING_RATES), seed=3,
                        training_data=training_data, balanced_param=None,
                        architecture_params=("width", "bn_position"),
                        reuse_compiled=args.reuse_compiled == "on")
    tuner.search(training_data(0), validation_data=_arrays(1), epochs=EPOCHS, shuffle=False,
                 callbacks=[_EpochLosses()])
    for trial, losses in zip(study.trials, _EpochLosses.losses, strict=True):
        print(json.dumps({"number": trial.number, "state": trial.state.name, "losses": losses,
                          "intermediate": trial.intermediate_values, **trial.user_attrs}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
