"""Optuna samplers and pruners by the names the CLI uses."""

from __future__ import annotations

import warnings

import optuna

__all__ = ["make_pruner", "make_sampler"]


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
    raise ValueError(f"`sampler` must be one of ['tpe', 'random', 'sobol'], but got {name!r}.")


def make_pruner(name: str, epochs: int) -> optuna.pruners.BasePruner:
    """The pruner called `name`, for trials of `epochs` epochs (one step per epoch).

    Args:
        name: "median", "successive_halving", "hyperband" or "none".
        epochs: Epochs per trial, the largest resource a trial can use.

    Returns:
        The pruner.
    """
    if name == "median":
        # Two finished trials per placement before anything is pruned, so that the first
        # trials of either placement are not judged against a single lucky run.
        return optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=0)
    if name == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=1)
    if name == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max(1, epochs))
    if name == "none":
        return optuna.pruners.NopPruner()
    raise ValueError("`pruner` must be one of ['median', 'successive_halving', 'hyperband', "
                     f"'none'], but got {name!r}.")
