"""The tuner on tiny Dense models: per-epoch reports, pruning, divergence, user attributes."""

from __future__ import annotations

import io
from pathlib import Path

import keras
import keras_tuner
import numpy as np
import optuna
import pytest
from optuna.trial import TrialState

from study.tuning.progress import Progress
from study.tuning.tuner import OptunaTuner

EPOCHS = 3


def _data(seed: int = 0, n: int = 64) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    return x, (x[:, 0] > 0).astype("int32")  # separable: a good trial learns it in an epoch


def _build(hp: keras_tuner.HyperParameters) -> keras.Model:
    hp.Choice("bn_position", ["before", "after"])
    learning_rate = hp.Float("learning_rate", 1e-2, 1e-1, sampling="log")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"], run_eagerly=True)  # eager: tiny fits start faster
    return model


def _search(study, build=_build, n_trials=2, callbacks=(), **kwargs) -> OptunaTuner:
    kwargs.setdefault("balanced_param", "bn_position")
    tuner = OptunaTuner(build, study=study, max_trials=n_trials, seed=7, images_per_epoch=64,
                        **kwargs)
    x, y = _data()
    tuner.search(x, y, validation_data=_data(1), epochs=EPOCHS, batch_size=16,
                 callbacks=list(callbacks))
    return tuner


BATCHES_TRAINED: list[int] = []  # module level: Keras Tuner deep-copies the callbacks


class _CountBatches(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        BATCHES_TRAINED.append(batch)


def test_every_trial_reports_each_epoch_and_stores_its_measurements():
    study = optuna.create_study(direction="maximize")
    stream = io.StringIO()

    _search(study, n_trials=2, progress=Progress(2, EPOCHS, stream=stream))

    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 2
    assert sorted(t.params["bn_position"] for t in study.trials) == ["after", "before"]
    for trial in study.trials:
        assert sorted(trial.intermediate_values) == [1, 2, 3]
        assert trial.value == pytest.approx(max(trial.intermediate_values.values()))
        attrs = trial.user_attrs
        assert attrs["best_val_accuracy"] == pytest.approx(trial.value)
        assert attrs["final_val_accuracy"] == pytest.approx(trial.intermediate_values[3])
        assert attrs["epochs_run"] == EPOCHS
        assert 1 <= attrs["best_epoch"] <= EPOCHS
        assert attrs["param_count"] == 10
        assert attrs["seed"] == 7 + trial.number
        assert attrs["train_seconds"] > 0 and attrs["images_per_second"] > 0
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("Trial 0 (1 of 2): bn_position=")
    assert sum("epoch 2/3" in line for line in lines) == 2
    assert "best so far" in lines[-1]


def test_progress_names_the_best_trial_by_its_optuna_number_in_a_resumed_study():
    study = optuna.create_study(direction="maximize")
    for _ in range(3):  # an earlier process's trials: Optuna numbers 0-2, all worse
        study.add_trial(optuna.trial.create_trial(
            params={"bn_position": "before", "learning_rate": 0.05}, value=0.0,
            distributions={"bn_position": optuna.distributions.CategoricalDistribution(
                ["before", "after"]), "learning_rate": optuna.distributions.FloatDistribution(
                    1e-2, 1e-1, log=True)}))
    stream = io.StringIO()

    _search(study, n_trials=4, progress=Progress(4, EPOCHS, stream=stream))

    best = max(study.trials, key=lambda trial: trial.value)
    assert best.number == 3  # Keras Tuner called it "00" in this process
    assert stream.getvalue().splitlines()[-1].endswith(
        f"best so far {best.value:.4f} (trial 3)")


def test_a_clearly_bad_trial_is_pruned_after_its_first_epoch():
    study = optuna.create_study(direction="maximize",
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=2))
    for value in (0.9, 0.95):
        study.add_trial(optuna.trial.create_trial(
            value=value, intermediate_values={1: value, 2: value, 3: value}))

    def hopeless(hp):
        model = _build(hp)
        model.optimizer.learning_rate.assign(0.0)  # never learns: stays at its initial guess
        return model

    _search(study, build=hopeless, n_trials=3)

    bad = study.trials[-1]
    assert bad.state == TrialState.PRUNED
    assert bad.user_attrs["epochs_run"] == 1
    assert bad.value == pytest.approx(bad.intermediate_values[1])


def test_a_diverging_trial_stops_at_once_and_is_pruned_with_the_reason():
    study = optuna.create_study(direction="maximize")

    def exploding(hp):
        hp.Choice("bn_position", ["before", "after"])
        overflow = keras.layers.Dense(2, kernel_initializer=keras.initializers.Constant(1e38))
        model = keras.Sequential([keras.Input((4,)), overflow, keras.layers.Dense(2)])
        model.compile(optimizer="sgd", metrics=["accuracy"], run_eagerly=True,
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        return model

    BATCHES_TRAINED.clear()
    _search(study, build=exploding, n_trials=1, callbacks=[_CountBatches()])

    (trial,) = study.trials
    assert trial.state == TrialState.PRUNED
    assert trial.user_attrs["failure_reason"].startswith("diverged: loss is")
    assert trial.user_attrs["epochs_run"] == 1
    assert BATCHES_TRAINED == [0]  # stopped after the first of its 4 batches


def test_a_crashing_trial_is_failed_in_optuna_and_the_search_goes_on():
    study = optuna.create_study(direction="maximize")
    calls = []

    def flaky(hp):
        calls.append(1)
        if len(calls) == 2:  # the first build only declares the space
            raise ValueError("cannot build this one")
        return _build(hp)

    _search(study, build=flaky, n_trials=1)

    assert [t.state for t in study.trials] == [TrialState.FAIL, TrialState.COMPLETE]
    reason = study.trials[0].user_attrs["failure_reason"]
    assert reason == "ValueError: cannot build this one"


def test_best_hyperparameters_come_from_the_study_and_best_models_from_its_checkpoints():
    study = optuna.create_study(direction="maximize")
    tuner = _search(study, n_trials=2)

    (best,) = tuner.get_best_hyperparameters()
    assert best.values == study.best_trial.params
    assert len(_weight_files(tuner)) == 2  # kept by default, as in Keras Tuner
    (model,) = tuner.get_best_models()
    assert model.count_params() == 10


def _weight_files(tuner: OptunaTuner) -> list[str]:
    return sorted(path.name for path in Path(tuner.project_dir).rglob("*.weights.h5"))


def test_without_best_weights_no_checkpoint_is_written_and_best_models_says_why():
    study = optuna.create_study(direction="maximize")
    tuner = _search(study, n_trials=1, keep_best_weights=False)

    assert [t.state for t in study.trials] == [TrialState.COMPLETE]
    assert _weight_files(tuner) == []
    with pytest.raises(ValueError, match="keep_best_weights=False"):
        tuner.get_best_models()


def test_best_models_says_so_when_the_best_trial_was_trained_by_another_process():
    study = optuna.create_study(direction="maximize")
    study.add_trial(optuna.trial.create_trial(  # as another worker would have stored it
        params={"bn_position": "after", "learning_rate": 0.05}, value=2.0,
        distributions={"bn_position": optuna.distributions.CategoricalDistribution(
                           ["before", "after"]),
                       "learning_rate": optuna.distributions.FloatDistribution(
                           1e-2, 1e-1, log=True)}))
    tuner = _search(study, n_trials=2)

    with pytest.raises(ValueError, match="trained elsewhere"):
        tuner.get_best_models()

