"""Per-trial seeding that leaves TensorFlow's global seed, and its kernel caches, alone."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from study.tuning.seeding import seed_trial


def _weights() -> list[np.ndarray]:
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4),
                              keras.layers.BatchNormalization(), keras.layers.Dense(2)])
    return [variable.numpy() for variable in model.variables] + [
        keras.random.normal((2,)).numpy(), np.random.random(2)]


def test_weights_equal_those_after_kerass_own_set_random_seed():
    keras.utils.set_random_seed(11)
    expected = _weights()
    keras.utils.set_random_seed(99)  # another state first
    _weights()

    seed_trial(11, tensorflow_seed=0)

    for mine, theirs in zip(_weights(), expected, strict=True):
        np.testing.assert_array_equal(mine, theirs)


def test_tensorflows_global_seed_is_set_once_and_then_left_alone(monkeypatch):
    seed_trial(1, tensorflow_seed=5)
    assert tf.compat.v1.random.get_seed(0)[0] == 5
    calls = []
    monkeypatch.setattr(tf.random, "set_seed", calls.append)
    seed_trial(2, tensorflow_seed=5)
    assert calls == []  # unchanged: setting it would clear TensorFlow's kernel caches
    seed_trial(3, tensorflow_seed=6)
    assert calls == [6]


def test_seeds_must_be_ints():
    with pytest.raises(TypeError, match=r"`seed` must be an int, but got 1\.5\."):
        seed_trial(1.5, tensorflow_seed=0)
