from __future__ import annotations

import keras_tuner
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from study.tuning.distributions import (
    UnsupportedHyperParameterError,
    sample_values,
    to_optuna_distribution,
)


def _declare(declare) -> keras_tuner.engine.hyperparameters.HyperParameter:
    hp = keras_tuner.HyperParameters()
    declare(hp)
    return hp.space[-1]


@pytest.mark.parametrize(("declare", "expected"), [
    (lambda hp: hp.Choice("bn_position", ["before", "after"]),
     CategoricalDistribution(["before", "after"])),
    (lambda hp: hp.Choice("alpha", [0.35, 0.5, 1.0]), CategoricalDistribution([0.35, 0.5, 1.0])),
    (lambda hp: hp.Choice("units", [8, 16]), CategoricalDistribution([8, 16])),
    (lambda hp: hp.Boolean("nesterov"), CategoricalDistribution([False, True])),
    (lambda hp: hp.Fixed("optimizer", "sgd"), CategoricalDistribution(["sgd"])),
    (lambda hp: hp.Int("layers", 1, 5), IntDistribution(1, 5)),
    (lambda hp: hp.Int("units", 8, 64, step=8), IntDistribution(8, 64, step=8)),
    (lambda hp: hp.Int("units", 1, 1024, sampling="log"), IntDistribution(1, 1024, log=True)),
    (lambda hp: hp.Int("units", 8, 100, step=2, sampling="log"),
     CategoricalDistribution([8, 16, 32, 64])),
    (lambda hp: hp.Float("dropout", 0.0, 0.5), FloatDistribution(0.0, 0.5)),
    (lambda hp: hp.Float("dropout", 0.0, 0.55, step=0.1), FloatDistribution(0.0, 0.5, step=0.1)),
    (lambda hp: hp.Float("learning_rate", 1e-4, 1.0, sampling="log"),
     FloatDistribution(1e-4, 1.0, log=True)),
    (lambda hp: hp.Float("learning_rate", 1e-4, 1.0, step=10, sampling="log"),
     CategoricalDistribution([1e-4, 1e-3, 1e-2, 1e-1, 1.0])),
])
def test_to_optuna_distribution_matches_keras_tuner(declare, expected):
    distribution = to_optuna_distribution(_declare(declare))

    assert type(distribution) is type(expected)
    if isinstance(expected, CategoricalDistribution):
        assert distribution.choices == pytest.approx(expected.choices) \
            if isinstance(expected.choices[0], float) else distribution.choices == expected.choices
    else:
        assert distribution == expected


def test_reverse_log_without_step_is_refused_with_the_rule():
    hp = _declare(lambda hp: hp.Float("x", 0.1, 1.0, sampling="reverse_log"))
    with pytest.raises(UnsupportedHyperParameterError, match="'x' must use sampling"):
        to_optuna_distribution(hp)


def _conditional_space() -> keras_tuner.HyperParameters:
    hp = keras_tuner.HyperParameters()
    optimizer = hp.Choice("optimizer", ["sgd", "adam"])
    with hp.conditional_scope("optimizer", ["sgd"]):
        hp.Float("momentum", 0.5, 0.99)
    with hp.conditional_scope("optimizer", ["adam"]):
        hp.Float("beta_1", 0.8, 0.99)
    del optimizer
    return hp


def test_sample_values_only_samples_active_conditional_hyperparameters():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    seen = set()
    for _ in range(12):
        trial = study.ask()
        values = sample_values(trial, _conditional_space())
        study.tell(trial, 0.0)
        expected_child = "momentum" if values["optimizer"] == "sgd" else "beta_1"
        assert set(values) == {"optimizer", expected_child}
        assert trial.params == values
        seen.add(values["optimizer"])
    assert seen == {"sgd", "adam"}


def test_sampled_values_are_what_keras_tuner_would_build_with():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    hp = keras_tuner.HyperParameters()
    hp.Int("units", 8, 100, step=2, sampling="log")
    hp.Float("learning_rate", 1e-3, 1.0, sampling="log")
    for _ in range(10):
        values = sample_values(study.ask(), hp)
        assert values["units"] in (8, 16, 32, 64)
        assert 1e-3 <= values["learning_rate"] <= 1.0
