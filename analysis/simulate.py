"""Synthetic studies with a known truth, to calibrate the verdict without training anything.

`synthetic_search_trials` imitates a random search over the contract's space (placement,
learning rate, width, weight decay) with a smooth accuracy surface, noise, pruned and diverged
trials; `write_synthetic_study` writes it, and optionally seeded reruns of each placement's
best trial, into any Optuna storage under the names the search and confirm tools use.
`power_table` measures verdict rates on plain arrays, which is how DEFAULT_SEEDS was chosen.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import optuna
import pandas as pd
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial, TrialState

from analysis.verdict import ASSUMED_SEED_STD, DEFAULT_MARGIN, compare_placements
from study.contract import (
    CONFIG_ATTR,
    CONFIRM_SUFFIX,
    DIVERGED_PREFIX,
    PLACEMENTS,
    SCIENTIFIC_PARAM,
)

DISTRIBUTIONS = {
    SCIENTIFIC_PARAM: CategoricalDistribution(list(PLACEMENTS)),
    "learning_rate": FloatDistribution(1e-4, 1.0, log=True),
    "alpha": CategoricalDistribution([0.35, 0.5, 0.75, 1.0]),
    "weight_decay": FloatDistribution(1e-6, 1e-2, log=True),
}
BASE_ACCURACY = 0.90  # Fashion-MNIST-like level at the optimum
BEST_LEARNING_RATE = 0.03
EPOCHS = 5


def true_accuracy(params: dict, effect: float) -> float:
    """Noise-free validation accuracy of a configuration; `effect` is after minus before.

    Args:
        params: Values for the parameters of DISTRIBUTIONS.
        effect: True accuracy difference of "after" over "before".

    Returns:
        The accuracy (fraction).
    """
    sign = 0.5 if params[SCIENTIFIC_PARAM] == "after" else -0.5
    learning_rate_penalty = 0.02 * (math.log10(params["learning_rate"] / BEST_LEARNING_RATE)) ** 2
    width_penalty = 0.03 * (1.0 - params["alpha"])
    decay_penalty = 0.002 * abs(math.log10(params["weight_decay"] / 1e-4))
    accuracy = BASE_ACCURACY - learning_rate_penalty - width_penalty - decay_penalty
    return max(0.1, accuracy) + sign * effect


def _trial(rng: np.random.Generator, params: dict, accuracy: float, seed: int) -> FrozenTrial:
    curve = [accuracy - 0.05 * (EPOCHS - 1 - epoch) / EPOCHS for epoch in range(EPOCHS)]
    user_attrs = {"seed": seed, "param_count": int(1e6 * params["alpha"])}
    state, value, steps = TrialState.COMPLETE, max(curve), EPOCHS
    if params["learning_rate"] > 0.3 and rng.random() < 0.5:
        epoch = int(rng.integers(0, EPOCHS))
        state, value = TrialState.FAIL, None
        user_attrs["failure_reason"] = f"{DIVERGED_PREFIX}: loss is nan at epoch {epoch}"
        steps = epoch
    elif accuracy < 0.8 and rng.random() < 0.5:
        steps = 2
        state, value = TrialState.PRUNED, curve[steps - 1]
    if state != TrialState.FAIL:
        user_attrs.update(
            best_val_accuracy=max(curve[:steps]),
            final_val_accuracy=curve[steps - 1],
            best_epoch=int(np.argmax(curve[:steps])),
            epochs_run=steps,
            train_seconds=6.0 * steps,
            images_per_second=2000.0,
        )
    return optuna.trial.create_trial(
        state=state,
        value=value,
        params=params,
        distributions=DISTRIBUTIONS,
        user_attrs=user_attrs,
        intermediate_values={epoch: curve[epoch] for epoch in range(steps)},
    )


def synthetic_search_trials(
    n_trials: int, effect: float, *, trial_noise: float = 0.005, seed: int = 0
) -> list[FrozenTrial]:
    """Random-search trials on the synthetic surface, placements alternating.

    Args:
        n_trials: Number of trials (half per placement).
        effect: True accuracy difference, after minus before.
        trial_noise: Std of a trial's accuracy around the surface.
        seed: Seed of the whole study.

    Returns:
        Frozen trials, ready for `Study.add_trials`.
    """
    rng = np.random.default_rng(seed)
    trials = []
    for number in range(n_trials):
        params = {
            SCIENTIFIC_PARAM: PLACEMENTS[number % 2],
            "learning_rate": float(10 ** rng.uniform(-4, 0)),
            "alpha": float(rng.choice(DISTRIBUTIONS["alpha"].choices)),
            "weight_decay": float(10 ** rng.uniform(-6, -2)),
        }
        accuracy = true_accuracy(params, effect) + rng.normal(0, trial_noise)
        trials.append(_trial(rng, params, min(accuracy, 1.0), seed=number))
    return trials


def write_synthetic_study(
    storage: str | BaseStorage,
    study_name: str,
    *,
    effect: float,
    n_trials: int = 40,
    n_confirm_seeds: int = 0,
    seed_std: float = ASSUMED_SEED_STD,
    trial_noise: float = 0.005,
    seed: int = 0,
) -> optuna.Study:
    """Write a synthetic search study and, if n_confirm_seeds > 0, its confirmation study.

    The reruns of both placements have true means differing by exactly `effect` (as if both
    best trials sat at the optimum) and seed-to-seed std `seed_std`.

    Args:
        storage: Storage URL or object.
        study_name: Name of the search study; reruns go to NAME/confirm.
        effect: True accuracy difference, after minus before.
        n_trials: Search trials.
        n_confirm_seeds: Reruns per placement (0: no confirmation study).
        seed_std: Std of a rerun's test accuracy.
        trial_noise: Std of a search trial's accuracy around the surface.
        seed: Seed of everything random here.

    Returns:
        The search study.
    """
    study = optuna.create_study(storage=storage, study_name=study_name, direction="maximize")
    study.set_user_attr(CONFIG_ATTR, {"dataset": "synthetic", "epochs": EPOCHS, "seed": seed})
    study.add_trials(synthetic_search_trials(n_trials, effect, trial_noise=trial_noise, seed=seed))
    if n_confirm_seeds:
        confirm = optuna.create_study(
            storage=storage, study_name=study_name + CONFIRM_SUFFIX, direction="maximize"
        )
        rng = np.random.default_rng([seed, 1])
        complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        for placement in PLACEMENTS:
            own = [t for t in complete if t.params[SCIENTIFIC_PARAM] == placement]
            best = max(own, key=lambda t: t.value)
            mean = BASE_ACCURACY + (0.5 if placement == "after" else -0.5) * effect
            for rerun_seed in range(n_confirm_seeds):
                confirm.add_trial(
                    optuna.trial.create_trial(
                        value=float(mean + rng.normal(0, seed_std)),
                        params=best.params,
                        distributions=best.distributions,
                        user_attrs={"seed": rerun_seed, "source_trial": best.number},
                    )
                )
    return study


def verdict_rates(
    n_seeds: int,
    effect: float,
    *,
    seed_std: float = ASSUMED_SEED_STD,
    margin: float = DEFAULT_MARGIN,
    n_simulations: int = 400,
    seed: int = 0,
) -> dict[str, float]:
    """Fraction of simulated rerun comparisons ending in each verdict.

    Args:
        n_seeds: Reruns per placement.
        effect: True difference, after minus before.
        seed_std: Std of a rerun.
        margin: Equivalence margin.
        n_simulations: Simulated comparisons.
        seed: Seed of the simulation.

    Returns:
        Rates of "matters" (any sign), "matters_correct_sign", "equivalent", "inconclusive".
    """
    rng = np.random.default_rng(seed)
    counts = dict.fromkeys(["matters", "matters_correct_sign", "equivalent", "inconclusive"], 0)
    for _ in range(n_simulations):
        before = rng.normal(BASE_ACCURACY, seed_std, n_seeds)
        after = rng.normal(BASE_ACCURACY + effect, seed_std, n_seeds)
        comparison = compare_placements(before, after, margin, n_bootstrap=50)
        counts[comparison.verdict] += 1
        if comparison.verdict == "matters" and comparison.difference * effect > 0:
            counts["matters_correct_sign"] += 1
    return {name: count / n_simulations for name, count in counts.items()}


def power_table(
    seed_counts: Sequence[int] = (4, 6, 8, 10, 12),
    *,
    seed_std: float = ASSUMED_SEED_STD,
    margin: float = DEFAULT_MARGIN,
    n_simulations: int = 400,
) -> pd.DataFrame:
    """Verdict rates per seed count, for a true difference of 0 and of twice the margin.

    Args:
        seed_counts: Reruns per placement to try.
        seed_std: Std of a rerun.
        margin: Equivalence margin.
        n_simulations: Simulated comparisons per cell.

    Returns:
        Columns n_seeds, equivalent_at_zero, matters_at_zero, matters_at_twice_margin.
    """
    rows = []
    for n_seeds in seed_counts:
        settings = {"seed_std": seed_std, "margin": margin, "n_simulations": n_simulations}
        null = verdict_rates(n_seeds, 0.0, seed=n_seeds, **settings)
        alternative = verdict_rates(n_seeds, 2 * margin, seed=n_seeds, **settings)
        rows.append(
            {
                "n_seeds": n_seeds,
                "equivalent_at_zero": null["equivalent"],
                "matters_at_zero": null["matters"],
                "matters_at_twice_margin": alternative["matters_correct_sign"],
            }
        )
    return pd.DataFrame(rows)


if __name__ == "__main__":
    print(power_table(n_simulations=1000).to_string(index=False))
