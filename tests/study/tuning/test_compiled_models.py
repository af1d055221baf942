"""Reusing compiled models: exact re-initialisation, the cache, dtype policies, JAX's cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import keras_tuner
import numpy as np
import optuna
import pytest

from study.config import preset
from study.engine.setup import dtype_policy
from study.model.preprocessing import Preprocessing
from study.model.schedules import BASE_LEARNING_RATE
from study.model.spaces import SpaceContext, architecture_params, get_search_space
from study.tuning.compiled_models import (
    COMPILED_NEW,
    COMPILED_REUSED,
    JAX_CACHE_ENV,
    TrialModels,
    enable_jax_compilation_cache,
    jax_cache_dir,
    reinitialize,
)
from study.tuning.seeding import seed_trial
from study.tuning.tuner import OptunaTuner

CONTEXT = SpaceContext(input_shape=(32, 32, 3), num_classes=10, steps_per_epoch=4, epochs=2)
TINY = {"bn_position": "after", "alpha": 0.35}


def _hp(**values: object) -> keras_tuner.HyperParameters:
    hp = keras_tuner.HyperParameters()
    hp.values = dict(values)
    return hp


def _images(n: int = 8, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 32, 32, 3)).astype("float32"), rng.integers(0, 10, n)


def _dense_space(hp: keras_tuner.HyperParameters) -> keras.Model:
    width = hp.Choice("width", [2, 3, 4])
    learning_rate = hp.Float("learning_rate", 1e-3, 1.0, sampling="log")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(width),
                              keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def test_a_reused_model_gets_exactly_a_fresh_models_weights_and_a_zero_optimizer():
    models = TrialModels(get_search_space("bn_placement", CONTEXT),
                         architecture_params=architecture_params("bn_placement"))
    seed_trial(1, tensorflow_seed=0)
    first = models.build_for_trial(_hp(**TINY, learning_rate=0.05))
    first.run_eagerly = True  # one eager step moves every weight, momentum and statistic
    first.fit(*_images(), batch_size=8, epochs=1, verbose=0)
    assert int(first.optimizer.iterations.numpy()) == 1

    seed_trial(2, tensorflow_seed=0)
    reused = models.build_for_trial(_hp(**TINY, learning_rate=0.2))
    seed_trial(2, tensorflow_seed=0)
    fresh = get_search_space("bn_placement", CONTEXT)(_hp(**TINY, learning_rate=0.2))

    assert reused is first and models.last_build == COMPILED_REUSED
    assert len(reused.variables) == len(fresh.variables)
    for mine, theirs in zip(reused.variables, fresh.variables, strict=True):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy(), err_msg=mine.path)
    assert any("moving_variance" in v.path for v in reused.non_trainable_variables)
    for variable in reused.optimizer.variables:
        expected = 0.2 if variable.name == BASE_LEARNING_RATE else 0.0
        np.testing.assert_allclose(variable.numpy(), expected, rtol=1e-7,
                                   err_msg=variable.path)
    np.testing.assert_allclose(reused.optimizer.learning_rate.numpy(), 0.2, rtol=1e-7)
    assert all(float(np.sum(v.numpy())) == 0.0 for m in reused.metrics for v in m.variables)


def test_the_cache_reuses_per_architecture_and_drops_the_least_recently_used():
    models = TrialModels(_dense_space, architecture_params=("width",), max_models=2)
    built = {}
    for width in (2, 3, 2, 4, 3):  # 4 evicts 3, the least recently used
        built.setdefault(width, []).append(
            (models.build_for_trial(_hp(width=width, learning_rate=0.1)), models.last_build))

    assert [status for _, status in built[2]] == [COMPILED_NEW, COMPILED_REUSED]
    assert built[2][0][0] is built[2][1][0]
    assert [status for _, status in built[3]] == [COMPILED_NEW, COMPILED_NEW]
    assert built[3][0][0] is not built[3][1][0]
    assert models.cached_models() == 2


def test_models_are_built_fresh_without_declared_architecture_or_with_reuse_off():
    for models in (TrialModels(_dense_space),
                   TrialModels(_dense_space, architecture_params=("width",), reuse=False)):
        first = models.build_for_trial(_hp(width=2, learning_rate=0.1))
        second = models.build_for_trial(_hp(width=2, learning_rate=0.1))
        assert first is not second and models.last_build == COMPILED_NEW
        assert not models.reuse and models.cached_models() == 0


def test_an_uncompiled_model_is_never_cached():
    def uncompiled(hp):
        hp.Choice("width", [2])
        return keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])

    models = TrialModels(uncompiled, architecture_params=("width",))
    models.build_for_trial(_hp(width=2))
    assert models.cached_models() == 0 and models.last_build == COMPILED_NEW


def test_models_of_another_dtype_policy_are_another_architecture():
    hp = _hp(width=2, learning_rate=0.1)
    first = TrialModels(_dense_space, architecture_params=("width",))
    second = TrialModels(_dense_space, architecture_params=("width",),
                         dtype_policy="mixed_float16")
    assert first.architecture_key(hp) != second.architecture_key(hp)


def test_reinitialize_refuses_another_architecture():
    small = _dense_space(_hp(width=2, learning_rate=0.1))
    large = _dense_space(_hp(width=4, learning_rate=0.1))
    with pytest.raises(ValueError, match="must have the same weights"):
        reinitialize(small, large)


def test_max_models_must_be_positive():
    with pytest.raises(ValueError, match=r"`max_models` must be positive, but got 0\."):
        TrialModels(_dense_space, max_models=0)


def test_the_dtype_policy_survives_keras_tuners_clear_session():
    keras.config.set_dtype_policy("float32")
    models = TrialModels(get_search_space("bn_placement", CONTEXT),
                         dtype_policy="mixed_float16")
    keras.backend.clear_session()  # what Keras Tuner does before every build
    try:
        model = models.build(_hp(**TINY, learning_rate=0.05))
        assert model.dtype_policy.name == "mixed_float16"
        assert model.layers[1].compute_dtype == "float16"
        assert model.output.dtype == "float32"  # logits stay float32
    finally:
        keras.config.set_dtype_policy("float32")


def test_a_search_trial_records_its_dtype_policy_compiled_model_and_epoch_times(tmp_path):
    """Keras Tuner clears the session, and with it the global policy, before each build."""
    # Minimising: the objective is a loss (the tuner once maximised any objective it was given).
    study = optuna.create_study(direction="minimize", pruner=optuna.pruners.NopPruner(),
                                storage=f"sqlite:///{tmp_path / 'policy.db'}")
    for learning_rate in (0.1, 0.2, 0.3, 0.4):  # two trials of one architecture per search
        study.enqueue_trial({"width": 2, "learning_rate": learning_rate})
    x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")
    keras.config.set_dtype_policy("mixed_float16")  # as the CLI used to, once
    try:
        for reuse, expected, n_trials in ((False, ["new", "new"], 2),
                                          (True, ["new", "reused"], 4)):
            tuner = OptunaTuner(_dense_space, study=study, max_trials=n_trials,
                                objective="val_loss", balanced_param=None,
                                architecture_params=("width",), reuse_compiled=reuse)
            keras.config.set_dtype_policy("float32")  # the tuner took the policy already
            tuner.search(x, y, validation_data=(x, y), epochs=2, verbose=0)
            trials = study.trials[n_trials - 2:n_trials]
            assert all(t.params["width"] == 2 for t in trials)  # the enqueued trials
            assert [t.user_attrs["compiled_model"] for t in trials] == expected
            assert all(t.user_attrs["dtype_policy"] == "mixed_float16" for t in trials)
            assert [len(t.user_attrs["epoch_seconds"]) for t in trials] == [2, 2]
            assert all(t.user_attrs["train_seconds"] == pytest.approx(
                sum(t.user_attrs["epoch_seconds"]), abs=0.01) for t in trials)
    finally:
        keras.config.set_dtype_policy("float32")


def test_a_reused_model_that_augments_on_the_device_takes_the_fresh_seed_state():
    context = SpaceContext(input_shape=(28, 28, 1), num_classes=10, steps_per_epoch=1,
                           epochs=1, preprocessing=Preprocessing(32, augment=True))
    models = TrialModels(get_search_space("bn_placement", context),
                         architecture_params=architecture_params("bn_placement"))
    images = np.random.default_rng(0).integers(0, 256, (8, 28, 28, 1), dtype=np.uint8)
    seed_trial(1, tensorflow_seed=0)
    first = models.build_for_trial(_hp(**TINY, learning_rate=0.05))
    first.run_eagerly = True  # one eager step draws as a traced one does, without 20 s of tracing
    before_fit = {v.path: v.numpy() for v in first.variables if "seed" in v.path}
    first.fit(images, np.arange(8) % 10, batch_size=8, epochs=1, verbose=0)  # draws randoms
    assert any((v.numpy() != before_fit[v.path]).any() for v in first.variables
               if v.path in before_fit)  # so a reused model that kept them would differ

    seed_trial(2, tensorflow_seed=0)
    reused = models.build_for_trial(_hp(**TINY, learning_rate=0.05))
    seed_trial(2, tensorflow_seed=0)
    fresh = get_search_space("bn_placement", context)(_hp(**TINY, learning_rate=0.05))

    assert reused is first and models.last_build == COMPILED_REUSED
    seeds = [(mine, theirs) for mine, theirs in zip(reused.variables, fresh.variables,
                                                    strict=True) if "seed" in mine.path]
    assert seeds  # the augmentation's generator state is one of the model's variables
    for mine, theirs in seeds:
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy(), err_msg=mine.path)


def test_precision_names_the_policy_of_every_model_and_auto_is_float32_on_a_cpu():
    assert dtype_policy(preset("smoke", precision="mixed_float16")) == "mixed_float16"
    assert dtype_policy(preset("smoke", precision="mixed_bfloat16")) == "mixed_bfloat16"
    assert dtype_policy(preset("smoke")) == "float32"
    assert dtype_policy(preset("gpu")) == "float32"  # "auto", and this machine has no GPU


def test_reuse_is_a_speed_setting_a_resumed_study_need_not_match():
    assert "reuse_compiled" not in preset("smoke").science()
    assert preset("smoke").reuse_compiled is True


def test_the_jax_cache_sits_beside_the_study_or_where_the_environment_says(monkeypatch,
                                                                          tmp_path):
    monkeypatch.delenv(JAX_CACHE_ENV, raising=False)
    assert jax_cache_dir("sqlite:///runs/a.db") == Path("runs/jax_cache")
    assert jax_cache_dir("postgresql://u@h/db") == Path("studies/jax_cache")
    monkeypatch.setenv(JAX_CACHE_ENV, str(tmp_path))
    assert jax_cache_dir("sqlite:///runs/a.db") == tmp_path
    if keras.backend.backend() != "jax":
        assert enable_jax_compilation_cache(tmp_path / "cache") is False
        assert not (tmp_path / "cache").exists()


@pytest.mark.slow
def test_a_trial_on_a_reused_model_trains_exactly_as_on_a_fresh_one(tmp_path):
    """Deterministic ops, the same three trials with reuse on and off, side by side.

    Trial 0 diverges (NaN); trials 1 and 2 share its architecture, so with reuse on they train
    the model that diverged, re-initialised, and must match the fresh models to 1e-6.
    """
    script = Path(__file__).with_name("reuse_trials.py")
    runs = {reuse: subprocess.Popen(
        [sys.executable, str(script), f"sqlite:///{tmp_path / reuse}.db", "--reuse-compiled",
         reuse, "--deterministic"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=Path(__file__).parents[3], env=os.environ | {"PYTHONPATH": "."})
        for reuse in ("on", "off")}
    trials = {}
    for reuse, run in runs.items():
        output, errors = run.communicate(timeout=300)
        assert run.returncode == 0, errors
        trials[reuse] = [json.loads(line) for line in output.splitlines()]

    on, off = trials["on"], trials["off"]
    assert [t["compiled_model"] for t in on] == ["new", "reused", "reused"]
    assert [t["compiled_model"] for t in off] == ["new", "new", "new"]
    for run in (on, off):
        assert run[0]["state"] == "PRUNED" and run[0]["failure_reason"].startswith("diverged")
        assert [t["state"] for t in run[1:]] == ["COMPLETE", "COMPLETE"]
    for reused, fresh in zip(on[1:], off[1:], strict=True):
        np.testing.assert_allclose(reused["losses"], fresh["losses"], rtol=0, atol=1e-6)
        assert reused["intermediate"] == pytest.approx(fresh["intermediate"], abs=1e-6)
        assert np.isfinite(reused["losses"]).all()
