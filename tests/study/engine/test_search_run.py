"""A search run: what it refuses, without training a model."""

from __future__ import annotations

import io

import optuna
import pytest
from optuna.trial import TrialState

from study.config import ConfigError, preset
from study.engine.search_run import run_search

BROKEN_SPACE = '''
def build(hp, context):
    hp.Choice("bn_position", ["before", "after"])
    raise ValueError("the model does not fit")
'''
# Builds the model Keras Tuner asks for when the tuner is made, then fails every trial.
FAILING_SPACE = '''
import keras

BUILT = []


def build(hp, context):
    hp.Choice("bn_position", ["before", "after"])
    BUILT.append(1)
    if len(BUILT) > 1:
        raise ValueError("the model does not fit")
    model = keras.Sequential([keras.Input(context.input_shape), keras.layers.Flatten(),
                              keras.layers.Dense(context.num_classes)])
    model.compile(optimizer="sgd", metrics=["accuracy"],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model
'''


def _config(tmp_path, monkeypatch, name: str, text: str):
    (tmp_path / name).mkdir()
    (tmp_path / name / "space.py").write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    return preset("smoke", storage=f"sqlite:///{tmp_path / 's.db'}", study_name="s",
                  search_space=f"{name}.space", train_size=64, val_size=32, epochs=1,
                  n_trials=6)


def test_a_space_that_cannot_build_is_one_error(tmp_path, monkeypatch):
    config = _config(tmp_path, monkeypatch, "mylab_broken_build", BROKEN_SPACE)

    with pytest.raises(ConfigError, match=r"`search_space` must build a model, but "
                                          r"mylab_broken_build.space raised ValueError: the "
                                          r"model does not fit"):
        run_search(config, stream=io.StringIO())
    assert not (tmp_path / "s.db").exists()  # nothing left behind: no study, no file


def test_a_space_that_fails_every_trial_is_one_error_and_its_trials_stay_stored(
        tmp_path, monkeypatch):
    config = _config(tmp_path, monkeypatch, "mylab_failing", FAILING_SPACE)
    url = config.storage

    with pytest.raises(ConfigError, match=r"`search_space` must build and train its models, but "
                                          r"mylab_failing.space failed trial after trial "
                                          r"\(Number of consecutive failures exceeded the limit "
                                          r"of 3.\); the last ended with: ValueError: the "
                                          r"model does not fit"):
        run_search(config, stream=io.StringIO())

    trials = optuna.load_study(study_name="s", storage=url).trials
    assert [t.state for t in trials] == [TrialState.FAIL] * 3
