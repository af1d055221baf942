"""Optuna samplers by the names the CLI uses, seeded per trial so that resuming never repeats."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import optuna
from optuna.distributions import BaseDistribution
from optuna.trial import FrozenTrial, TrialState

__all__ = ["SAMPLERS", "TrialSeededSampler", "make_sampler"]

SAMPLERS = ("tpe", "random", "sobol")


def make_sampler(name: str, seed: int) -> optuna.samplers.BaseSampler:
    """The sampler called `name`, seeded.

    TPE and random draw trial `n` from a sampler seeded `seed + n` (`TrialSeededSampler`):
    the study is reproducible, and a resumed run or a second worker draws new values instead
    of repeating what the first process drew from the same seed. Sobol keeps one scramble for
    the whole study and its position in the sequence in the storage, which is resume-safe.

    Args:
        name: "tpe" (Optuna's default, adaptive), "random", or "sobol" (quasi-random: spreads
            few trials more evenly than random).
        seed: Seed of the sampler's random numbers.

    Returns:
        The sampler.
    """
    if name == "tpe":
        return TrialSeededSampler(_tpe, seed)
    if name == "random":
        return TrialSeededSampler(_random, seed)
    if name == "sobol":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.samplers.QMCSampler(qmc_type="sobol", scramble=True, seed=seed)
    raise ValueError(f"`sampler` must be one of {list(SAMPLERS)}, but got {name!r}.")


def _tpe(seed: int) -> optuna.samplers.BaseSampler:
    return optuna.samplers.TPESampler(seed=seed)


def _random(seed: int) -> optuna.samplers.BaseSampler:
    return optuna.samplers.RandomSampler(seed=seed)


class TrialSeededSampler(optuna.samplers.BaseSampler):
    """Samples trial `n` with `make(seed + n)`, a fresh sampler seeded by the trial's number.

    A sampler seeded once per process draws the same sequence in every process: a study
    resumed after an interruption, or a second worker, repeats the first process's
    configurations (seen: trial 7 of a resumed study was trial 0 again). Trial numbers are
    unique in a study, so seeding by them gives every trial its own draw, reproducibly. Only
    for samplers that keep no state between trials other than their random numbers (TPE and
    random read the study's history afresh for every trial).

    Args:
        make: Builds the sampler from a seed.
        seed: The study's seed.
    """

    def __init__(self, make: Callable[[int], optuna.samplers.BaseSampler], seed: int) -> None:
        self._make = make
        self._seed = seed
        self._current = make(seed)

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        self._current = self._make(self._seed + trial.number)
        self._current.before_trial(study, trial)

    def reseed_rng(self) -> None:
        self._current.reseed_rng()

    def infer_relative_search_space(self, study: optuna.Study, trial: FrozenTrial
                                    ) -> dict[str, BaseDistribution]:
        return self._current.infer_relative_search_space(study, trial)

    def sample_relative(self, study: optuna.Study, trial: FrozenTrial,
                        search_space: dict[str, BaseDistribution]) -> dict[str, object]:
        return self._current.sample_relative(study, trial, search_space)

    def sample_independent(self, study: optuna.Study, trial: FrozenTrial, param_name: str,
                           param_distribution: BaseDistribution) -> object:
        return self._current.sample_independent(study, trial, param_name, param_distribution)

    def after_trial(self, study: optuna.Study, trial: FrozenTrial, state: TrialState,
                    values: Sequence[float] | None) -> None:
        self._current.after_trial(study, trial, state, values)
