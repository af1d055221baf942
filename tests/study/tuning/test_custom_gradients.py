"""Each trial's traced train step is freed once the trial is over (TensorFlow backend)."""

from __future__ import annotations

import gc

import keras
import keras_tuner
import numpy as np
import optuna
import pytest

from study.tuning.custom_gradients import custom_gradient_names, released_custom_gradients
from study.tuning.tuner import OptunaTuner

tf = pytest.importorskip("tensorflow")
pytestmark = pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                                reason="the leak is in TensorFlow's gradient registry")


def _build(hp: keras_tuner.HyperParameters | None = None) -> keras.Model:
    if hp is not None:
        hp.Float("learning_rate", 1e-2, 1e-1, sampling="log")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.SGD(0.01),  # graph mode: the real code path
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def _data() -> tuple[np.ndarray, np.ndarray]:
    x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
    return x, (x[:, 0] > 0).astype("int32")


def _live_train_steps() -> int:
    gc.collect()
    return sum(type(o).__name__ == "FuncGraph" and o.name == "one_step_on_data"
               for o in gc.get_objects())


def _fit_and_drop() -> None:
    model = _build()
    model.fit(*_data(), epochs=1, batch_size=32, verbose=0)
    del model
    keras.backend.clear_session()


def test_a_fitted_models_train_step_is_freed_after_the_block():
    _fit_and_drop()  # load and warm TensorFlow outside the measurement
    steps, names = _live_train_steps(), custom_gradient_names()

    for _ in range(3):
        with released_custom_gradients():
            _fit_and_drop()

    assert custom_gradient_names() == names
    assert _live_train_steps() == steps


def test_custom_gradients_registered_before_the_block_are_kept():
    @tf.custom_gradient
    def scaled(x):
        return 2.0 * x, lambda upstream: 0.5 * upstream

    @tf.function
    def gradient(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = scaled(x)
        return tape.gradient(y, x)

    before = custom_gradient_names()
    assert float(gradient(tf.constant(1.0))) == 0.5
    registered_outside = custom_gradient_names() - before
    assert registered_outside  # graph mode registers a custom gradient

    with released_custom_gradients():
        _fit_and_drop()

    assert registered_outside <= custom_gradient_names()


def test_the_tuner_keeps_one_train_step_in_memory_however_many_trials_it_runs():
    x, y = _data()

    def live_steps_after(n_trials: int) -> int:
        study = optuna.create_study(direction="maximize")
        tuner = OptunaTuner(_build, study=study, max_trials=n_trials, balanced_param=None)
        tuner.search(x, y, validation_data=(x, y), epochs=1, batch_size=32)
        del tuner
        keras.backend.clear_session()
        return _live_train_steps()

    after_one = live_steps_after(1)

    assert live_steps_after(4) == after_one
