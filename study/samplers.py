"""Optuna samplers by the names the CLI uses."""

from __future__ import annotations

import warnings

import optuna

__all__ = ["SAMPLERS", "make_sampler"]

SAMPLERS = ("tpe", "random", "sobol")


def make_sampler(name: str, seed: int) -> optuna.samplers.BaseSampler:
    """The sampler called `name`, seeded.

    Args:
        name: "tpe" (Optuna's default, adaptive), "random", or "sobol" (quasi-random: spreads
            few trials more evenly than random).
        seed: Seed of the sampler's random numbers.

    Returns:
        The sampler.
    """
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "sobol":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.samplers.QMCSampler(qmc_type="sobol", scramble=True, seed=seed)
    raise ValueError(f"`sampler` must be one of {list(SAMPLERS)}, but got {name!r}.")
