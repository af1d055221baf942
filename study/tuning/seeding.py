"""Seeding each trial without making TensorFlow forget what it compiled.

`keras.utils.set_random_seed` seeds Python, NumPy, Keras and TensorFlow. Setting TensorFlow's
global seed also clears TensorFlow's kernel caches (`tf.random.set_seed` does, unconditionally),
so the next call of a model's compiled train step instantiates and optimises its graph again:
measured about 10 s for MobileNetV2 0.35 at 32x32 on a 2-core CPU, half the cost of tracing
it, on every trial that reuses a compiled model. Here the per-trial seed goes to Python, NumPy
and Keras (weights, `keras.random`), and TensorFlow's global seed is set to one value per
process and left alone. Nothing of a trial depends on TensorFlow's global seed beyond that:
the input pipeline gives every random op an explicit seed (`study.data.splits.make_dataset`).
"""

from __future__ import annotations

import random
import sys

import numpy as np

from study import private_api

__all__ = ["seed_trial"]


def seed_trial(seed: int, *, tensorflow_seed: int) -> None:
    """Seeds one trial: Python, NumPy and Keras with `seed`, TensorFlow with `tensorflow_seed`.

    Weights built afterwards equal those built after `keras.utils.set_random_seed(seed)`.
    TensorFlow's global seed is only set when it differs from `tensorflow_seed` (and only if
    TensorFlow is loaded), so compiled functions keep their kernels across trials.

    Args:
        seed: The trial's seed.
        tensorflow_seed: TensorFlow's global seed for the whole process, e.g. the study's.

    Raises:
        TypeError: when a seed is not an int.
    """
    for name, value in (("seed", seed), ("tensorflow_seed", tensorflow_seed)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"`{name}` must be an int, but got {value!r}.")
    # Keras has no public call that leaves TensorFlow alone (pinned against
    # `keras.utils.set_random_seed` by tests/study/tuning/test_seeding.py).
    private_api.seed_keras(seed)
    random.seed(seed)
    np.random.seed(seed)
    tensorflow = sys.modules.get("tensorflow")
    if tensorflow is not None:
        # (global seed, op seed); an explicit op seed keeps TensorFlow's op counter untouched.
        current, _ = tensorflow.compat.v1.random.get_seed(0)
        if current != tensorflow_seed:
            tensorflow.random.set_seed(tensorflow_seed)
    import keras

    if keras.backend.backend() == "torch":
        import torch

        torch.manual_seed(seed)
