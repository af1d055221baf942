"""Which hyperparameters matter: fANOVA over the whole search, PED-ANOVA among the good trials.

fANOVA answers "what explains accuracy across the search space"; PED-ANOVA on the top quantile
answers "what distinguishes the best configurations", i.e. what still matters once tuned, which
is the question for `bn_position`. Each is repeated over several seeds and reported as mean and
std: for fANOVA the seed of its random forest; PED-ANOVA is deterministic, so its seed picks a
random 80% of the trials instead and the std shows how much the answer rests on a few trials.

Only COMPLETE trials with a finite value count (Optuna's rule). The evaluators run on an
in-memory copy of those trials, so the search study is only read.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import optuna
import pandas as pd
from optuna.importance import FanovaImportanceEvaluator, PedAnovaImportanceEvaluator
from optuna.trial import FrozenTrial, TrialState

MIN_TRIALS = 5  # fewer COMPLETE trials than this and a forest or a density says nothing
# Below this many COMPLETE trials a ranking moves with every added trial (on Fashion-MNIST,
# 6 COMPLETE trials put bn_position first by fANOVA while PED-ANOVA put learning_rate first).
ROUGH_BELOW = 20
ROUGH_NOTE_START = "Rough ranking:"
PED_ANOVA_MIN_TOP = 5  # Optuna's advice: at least ~5 trials above the target quantile
PED_ANOVA_MAX_QUANTILE = 0.5  # above this "the good trials" are half of all trials
SUBSAMPLE_FRACTION = 0.8


@dataclass(frozen=True)
class ImportanceResult:
    """Importance per method and parameter, with the notes on what was skipped or adjusted.

    `table` has columns method ("fANOVA" or "PED-ANOVA"), param, mean, std, n_seeds, n_trials,
    sorted by method then decreasing mean.
    """

    table: pd.DataFrame
    notes: tuple[str, ...]
    target_quantile: float | None  # the PED-ANOVA quantile actually used, None if skipped


def _copy_study(trials: Sequence[FrozenTrial], direction: optuna.study.StudyDirection
                ) -> optuna.Study:
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # no "study created" chatter
    try:
        # The study's own direction: PED-ANOVA's "good trials" are the top or bottom quantile.
        study = optuna.create_study(
            storage=optuna.storages.InMemoryStorage(), direction=direction
        )
    finally:
        optuna.logging.set_verbosity(verbosity)
    study.add_trials(trials)
    return study


def _usable_trials(study: optuna.Study) -> list[FrozenTrial]:
    return [
        trial
        for trial in study.get_trials(deepcopy=True, states=(TrialState.COMPLETE,))
        if trial.value is not None and math.isfinite(trial.value)
    ]


def _evaluate(study: optuna.Study, evaluator: optuna.importance.BaseImportanceEvaluator):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "regime has less than 2 trials" and friends
        return optuna.importance.get_param_importances(study, evaluator=evaluator)


def _rows(method: str, runs: list[dict[str, float]], n_trials: int) -> list[dict]:
    params = sorted({name for run in runs for name in run})
    rows = []
    for param in params:
        values = np.array([run.get(param, 0.0) for run in runs])
        rows.append(
            {
                "method": method,
                "param": param,
                "mean": float(values.mean()),
                "std": float(values.std(ddof=1)) if values.size > 1 else 0.0,
                "n_seeds": values.size,
                "n_trials": n_trials,
            }
        )
    return rows


def ped_anova_quantile(n_trials: int, preferred: float) -> float | None:
    """Choose the PED-ANOVA target quantile so at least PED_ANOVA_MIN_TOP trials are above it.

    Args:
        n_trials: COMPLETE trials available.
        preferred: Quantile wanted when trials are plentiful.

    Returns:
        `preferred`, or the smallest larger quantile with enough trials (at most
        PED_ANOVA_MAX_QUANTILE), or None when even that is not enough.
    """
    quantile = max(preferred, PED_ANOVA_MIN_TOP / max(n_trials, 1))
    return quantile if quantile <= PED_ANOVA_MAX_QUANTILE else None


def param_importances(
    study: optuna.Study,
    *,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    target_quantile: float = 0.25,
    n_trees: int = 64,
) -> ImportanceResult:
    """fANOVA and PED-ANOVA importances of every parameter, each over several seeds.

    Args:
        study: The search study (read only).
        seeds: Evaluator seeds (fANOVA forest) and subsample seeds (PED-ANOVA).
        target_quantile: Preferred PED-ANOVA quantile: the top quarter of trials by default,
            the same "good trials" as the provisional verdict.
        n_trees: Trees of the fANOVA forest.

    Returns:
        The importance table and notes.
    """
    trials = _usable_trials(study)
    notes: list[str] = []
    rows: list[dict] = []
    quantile = None
    if len(trials) < MIN_TRIALS:
        notes.append(
            f"Importance skipped: it needs at least {MIN_TRIALS} COMPLETE trials, "
            f"but the study has {len(trials)}."
        )
        return ImportanceResult(pd.DataFrame(rows, columns=_COLUMNS), tuple(notes), None)
    full = _copy_study(trials, study.direction)
    fanova_runs = [
        _evaluate(full, FanovaImportanceEvaluator(n_trees=n_trees, seed=seed)) for seed in seeds
    ]
    rows += _rows("fANOVA", fanova_runs, len(trials))
    if len(trials) < ROUGH_BELOW:
        notes.append(
            f"{ROUGH_NOTE_START} it rests on {len(trials)} COMPLETE trials (pruned trials have no "
            f"final value); below {ROUGH_BELOW} a few more trials can reorder it. The verdict "
            f"does not use importance."
        )

    # Subsample first: the quantile must leave enough good trials in each subsample.
    size = max(MIN_TRIALS, round(SUBSAMPLE_FRACTION * len(trials)))
    quantile = ped_anova_quantile(size, target_quantile)
    if quantile is None:
        notes.append(
            f"PED-ANOVA skipped: it needs at least {PED_ANOVA_MIN_TOP} trials in the top "
            f"{PED_ANOVA_MAX_QUANTILE:.0%}, i.e. "
            f"{math.ceil(PED_ANOVA_MIN_TOP / PED_ANOVA_MAX_QUANTILE)} COMPLETE "
            f"trials in each {SUBSAMPLE_FRACTION:.0%} subsample, but the study has {len(trials)}."
        )
    else:
        if quantile != target_quantile:
            notes.append(
                f"PED-ANOVA uses the top {quantile:.0%} instead of the top {target_quantile:.0%} "
                f"so that at least {PED_ANOVA_MIN_TOP} trials count as good."
            )
        evaluator = PedAnovaImportanceEvaluator(target_quantile=quantile)
        ped_runs = []
        for seed in seeds:
            rng = np.random.default_rng(seed)
            picked = sorted(rng.choice(len(trials), size=size, replace=False))
            ped_runs.append(_evaluate(_copy_study([trials[i] for i in picked], study.direction),
                                      evaluator))
        rows += _rows("PED-ANOVA", ped_runs, len(trials))
    table = pd.DataFrame(rows, columns=_COLUMNS)
    table["order"] = table["method"].map({"fANOVA": 0, "PED-ANOVA": 1})
    table = table.sort_values(["order", "mean"], ascending=[True, False], kind="stable")
    table = table.drop(columns="order")
    return ImportanceResult(table.reset_index(drop=True), tuple(notes), quantile)


_COLUMNS = ["method", "param", "mean", "std", "n_seeds", "n_trials"]
