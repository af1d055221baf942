"""Keras Tuner hyperparameters as Optuna distributions, so any `build(hp)` space runs on Optuna."""

from __future__ import annotations

import keras_tuner
import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

__all__ = ["UnsupportedHyperParameterError", "sample_values", "to_optuna_distribution"]


class UnsupportedHyperParameterError(ValueError):
    """A Keras Tuner hyperparameter that has no Optuna equivalent."""


def to_optuna_distribution(hp: keras_tuner.engine.hyperparameters.HyperParameter
                           ) -> BaseDistribution:
    """Converts one Keras Tuner hyperparameter to the Optuna distribution sampling the same set.

    Args:
        hp: A `Choice`, `Boolean`, `Fixed`, `Int` or `Float` hyperparameter.

    Returns:
        The equivalent distribution. A log scale with a step is multiplicative in Keras Tuner
        (`min * step**k`), which Optuna cannot express, so it becomes a categorical grid of
        exactly the values Keras Tuner would sample. `Fixed` becomes a one-value categorical so
        the value is still stored with the trial.

    Raises:
        UnsupportedHyperParameterError: for `reverse_log` sampling without a step, or an
            unknown hyperparameter type.
    """
    hp_types = keras_tuner.engine.hyperparameters
    if isinstance(hp, hp_types.Fixed):
        return CategoricalDistribution([hp.value])
    if isinstance(hp, hp_types.Boolean):
        return CategoricalDistribution([False, True])
    if isinstance(hp, hp_types.Choice):
        return CategoricalDistribution(list(hp.values))
    if isinstance(hp, (hp_types.Int, hp_types.Float)):
        return _numerical_distribution(hp)
    raise UnsupportedHyperParameterError(
        f"hyperparameter {hp.name!r} must be a Choice, Boolean, Fixed, Int or Float, "
        f"but got {type(hp).__name__}."
    )


def _numerical_distribution(hp: keras_tuner.engine.hyperparameters.HyperParameter
                            ) -> BaseDistribution:
    is_int = isinstance(hp, keras_tuner.engine.hyperparameters.Int)
    if hp.sampling != "linear" and hp.step is not None:
        values = list(hp.values)
        return CategoricalDistribution([int(v) if is_int else float(v) for v in values])
    if hp.sampling == "reverse_log":
        raise UnsupportedHyperParameterError(
            f"hyperparameter {hp.name!r} must use sampling 'linear' or 'log' (or give a step), "
            f"but got sampling='reverse_log'."
        )
    log = hp.sampling == "log"
    if is_int:
        return IntDistribution(int(hp.min_value), int(hp.max_value), log=log,
                               step=1 if log else int(hp.step))
    step = None if log or hp.step is None else float(hp.step)
    if step is not None:
        # Optuna needs the range to be a whole number of steps; Keras Tuner stops at the last
        # step below max_value, so trim the top the same way.
        n_steps = int((hp.max_value - hp.min_value) // step)
        return FloatDistribution(float(hp.min_value), float(hp.min_value + n_steps * step),
                                 step=step)
    return FloatDistribution(float(hp.min_value), float(hp.max_value), log=log)


def sample_values(trial: optuna.Trial,
                  space: keras_tuner.HyperParameters) -> dict[str, object]:
    """Samples a value for every active hyperparameter of a Keras Tuner space.

    Hyperparameters are visited in the order they were declared, which puts the parents of a
    `conditional_scope` before their children, so each child is sampled only when its
    conditions hold for the values already chosen.

    Args:
        trial: The Optuna trial (from `study.ask()`) that records the sampled values.
        space: The search space, as collected by Keras Tuner from `build(hp)`.

    Returns:
        The values by hyperparameter name, ready for `HyperParameters.values`.
    """
    chosen = space.copy()
    chosen.values = {}
    for hp in chosen.space:
        if not chosen.is_active(hp) or hp.name in chosen.values:
            continue
        distribution = to_optuna_distribution(hp)
        chosen.values[hp.name] = _suggest(trial, hp.name, distribution)
    return dict(chosen.values)


def _suggest(trial: optuna.Trial, name: str, distribution: BaseDistribution) -> object:
    if isinstance(distribution, CategoricalDistribution):
        return trial.suggest_categorical(name, distribution.choices)
    if isinstance(distribution, IntDistribution):
        return trial.suggest_int(name, distribution.low, distribution.high,
                                 step=distribution.step, log=distribution.log)
    return trial.suggest_float(name, distribution.low, distribution.high,
                               step=distribution.step, log=distribution.log)
