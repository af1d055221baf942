"""Synthetic studies with a known truth, to calibrate the verdict without training anything.

`synthetic_search_trials` imitates a random search over the real space
(`search_spaces/bn_placement.py`: placement, learning rate, width) with a smooth accuracy surface,
noise, pruned, diverged and failed trials; `write_synthetic_study` writes it, and optionally seeded
reruns of each placement's best trial, into any Optuna storage under the names the search and
confirm tools use. Trials are written by the search's own writers (`study.storage.trials`) and
reruns by `study.storage.reruns.store_rerun`, so the analysis is tested on what a real study
stores.
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
from optuna.trial import FrozenTrial

from analysis.findings.verdict import ASSUMED_SEED_STD, compare_placements
from study.stats.decision import DEFAULT_MARGIN
from study.storage.contract import (
    CONFIG_ATTR,
    CONFIRM_METRIC,
    PLACEMENTS,
    SCIENTIFIC_PARAM,
    SEARCH_METRIC,
)
from study.storage.opener import name_metric
from study.storage.question import DEFAULT_QUESTION
from study.storage.reruns import best_trials, confirm_study_name, rerun_seeds, store_rerun
from study.storage.trials import diverged_reason, tell_ended, trial_measurements

# The distributions Optuna stores for `search_spaces/bn_placement.py` (tests/study/
# test_trials.py checks that they are the ones its `build(hp)` declares).
DISTRIBUTIONS = {
    SCIENTIFIC_PARAM: CategoricalDistribution(list(PLACEMENTS)),
    "learning_rate": FloatDistribution(1e-4, 0.5, log=True),
    "alpha": CategoricalDistribution([0.35, 0.5, 0.75, 1.0]),
}
BASE_ACCURACY = 0.90  # Fashion-MNIST-like level at the optimum
BEST_LEARNING_RATE = 0.03
DIVERGING_LEARNING_RATE = 0.1  # above it half the trials diverge (as Nesterov SGD did, measured)
CHANCE_ACCURACY = 0.1  # what a diverged model scores on ten classes
CRASH_RATE = 0.05  # trials that raise while training (out of memory, a killed worker): FAIL
CRASH = "ResourceExhaustedError: OOM when allocating tensor"
EPOCHS = 5
EPOCH_SECONDS = 6.0
IMAGES_PER_EPOCH = 12_000


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
    accuracy = BASE_ACCURACY - learning_rate_penalty - width_penalty
    return max(0.1, accuracy) + sign * effect


def _write_trial(study: optuna.Study, rng: np.random.Generator, params: dict,
                 accuracy: float, seed: int) -> None:
    """Runs one simulated trial through the search's writers, as the tuner and oracle do."""
    curve = [accuracy - 0.05 * (EPOCHS - epoch) / EPOCHS for epoch in range(1, EPOCHS + 1)]
    study.enqueue_trial(params)  # what the sampler of a real search would have proposed
    trial = study.ask(DISTRIBUTIONS)
    stopped_early = False
    if rng.random() < CRASH_RATE:  # training raised: its epochs so far stay, nothing else
        for step in range(1, int(rng.integers(0, EPOCHS)) + 1):
            trial.report(curve[step - 1], step)
        tell_ended(study, trial, stopped_early=False, best_value=None,
                   error=f"Traceback (most recent call last):\n  ...\n{CRASH}")
        return
    if params["learning_rate"] > DIVERGING_LEARNING_RATE and rng.random() < 0.5:
        epochs = int(rng.integers(1, EPOCHS + 1))
        curve[epochs - 1] = CHANCE_ACCURACY
        trial.set_user_attr("failure_reason", diverged_reason(math.nan, epochs))
        stopped_early = True
    elif accuracy < 0.8 and rng.random() < 0.5:
        epochs, stopped_early = 2, True  # as a pruner would at its first prunable epoch
    else:
        epochs = EPOCHS
    history = [{SEARCH_METRIC: value} for value in curve[:epochs]]
    for step, logs in enumerate(history, start=1):
        trial.report(logs[SEARCH_METRIC], step)
    attrs = trial_measurements(
        history, SEARCH_METRIC, epoch_seconds=[EPOCH_SECONDS] * epochs,
        param_count=int(1e6 * params["alpha"]), seed=seed, compiled_model="new",
        dtype_policy="float32", images_per_epoch=IMAGES_PER_EPOCH)
    for key, value in attrs.items():
        trial.set_user_attr(key, value)
    tell_ended(study, trial, stopped_early=stopped_early,
               best_value=max(logs[SEARCH_METRIC] for logs in history))


def synthetic_search_trials(
    n_trials: int, effect: float, *, trial_noise: float = 0.005, seed: int = 0
) -> list[FrozenTrial]:
    """Random-search trials on the synthetic surface, placements alternating.

    Args:
        n_trials: Number of trials (half per placement).
        effect: True accuracy difference, after minus before.
        trial_noise: Std of a trial's accuracy around the surface.
        seed: Seed of the whole study; trial n is seeded `seed + n`, as in a search.

    Returns:
        Frozen trials, ready for `Study.add_trials`: written to an in-memory study by the
        search's writers (one commit per write would make a SQLite study slow to build).
    """
    rng = np.random.default_rng(seed)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed))
    name_metric(study, SEARCH_METRIC)
    high = math.log10(DISTRIBUTIONS["learning_rate"].high)
    for number in range(n_trials):
        params = {
            SCIENTIFIC_PARAM: PLACEMENTS[number % 2],
            "learning_rate": float(10 ** rng.uniform(-4, high)),
            "alpha": float(rng.choice(DISTRIBUTIONS["alpha"].choices)),
        }
        accuracy = true_accuracy(params, effect) + rng.normal(0, trial_noise)
        _write_trial(study, rng, params, min(accuracy, 1.0), seed=seed + number)
    return study.get_trials(deepcopy=False)


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
    best trials sat at the optimum) and seed-to-seed std `seed_std`; they are stored by
    `study.storage.reruns.store_rerun`, seeded `rerun_seeds(n_confirm_seeds)`, seed by seed as
    `study.confirm` runs them.

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
    name_metric(study, SEARCH_METRIC)
    study.add_trials(synthetic_search_trials(n_trials, effect, trial_noise=trial_noise, seed=seed))
    if n_confirm_seeds:
        confirm = optuna.create_study(
            storage=storage, study_name=confirm_study_name(study_name), direction="maximize"
        )
        name_metric(confirm, CONFIRM_METRIC)
        rng = np.random.default_rng([seed, 1])
        best = best_trials(study, DEFAULT_QUESTION)  # the trials `study.confirm` would rerun
        accuracies = {
            placement: BASE_ACCURACY
            + (0.5 if placement == "after" else -0.5) * effect
            + rng.normal(0, seed_std, n_confirm_seeds)
            for placement in PLACEMENTS
        }
        for index, rerun_seed in enumerate(rerun_seeds(n_confirm_seeds)):
            for placement, source in best.items():
                store_rerun(confirm, source, rerun_seed, float(accuracies[placement][index]),
                            question=DEFAULT_QUESTION, loss=0.3,
                            seconds=EPOCHS * EPOCH_SECONDS, compiled_model="reused",
                            dtype_policy="float32")
    return study


def verdict_rates(
    n_seeds: int,
    effect: float,
    *,
    seed_std: float = ASSUMED_SEED_STD,
    margin: float = DEFAULT_MARGIN,
    n_simulations: int = 400,
    seed: int = 0,
    interval: str = "welch",
) -> dict[str, float]:
    """Fraction of simulated rerun comparisons ending in each verdict, read once at `n_seeds`.

    A fixed number of reruns read once is the design Welch's interval is for, hence the
    default; `analysis.calibration.peeking` simulates reruns looked at as they come.

    Args:
        n_seeds: Reruns per placement.
        effect: True difference, after minus before.
        seed_std: Std of a rerun.
        margin: Equivalence margin.
        n_simulations: Simulated comparisons.
        seed: Seed of the simulation.
        interval: "welch" or "anytime" (`analysis.findings.verdict`).

    Returns:
        Rates of "matters" (any sign), "matters_correct_sign", "equivalent", "nonzero",
        "inconclusive".
    """
    rng = np.random.default_rng(seed)
    counts = dict.fromkeys(["matters", "matters_correct_sign", "equivalent", "nonzero",
                            "inconclusive"], 0)
    for _ in range(n_simulations):
        before = rng.normal(BASE_ACCURACY, seed_std, n_seeds)
        after = rng.normal(BASE_ACCURACY + effect, seed_std, n_seeds)
        comparison = compare_placements(before, after, margin, interval=interval, n_bootstrap=0)
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
