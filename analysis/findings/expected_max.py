"""Expected best value after n trials, per value of the question (Dodge et al. 2019): the
highest validation accuracy, or for a study that minimises, the lowest value.

With the N observed values sorted v(1) <= ... <= v(N), a budget of n trials drawn without
replacement has the j-th value as its best with probability C(j-1, n-1) / C(N, n), which gives
the unbiased estimator of Tang et al. (2020). The same weights give E[max^2], hence the std of
the best under that resampling, drawn as the band. Binomials are taken in log space: C(40, 20)
is fine in floats, C(400, 200) is not.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import gammaln

from study.storage.question import Question


@dataclass(frozen=True)
class ExpectedMaxCurve:
    """Expected best value and its std for budgets n = 1..N of one placement."""

    placement: str
    budgets: np.ndarray  # 1..N
    mean: np.ndarray
    std: np.ndarray


def _log_comb(n: np.ndarray | int, k: np.ndarray | int) -> np.ndarray:
    return gammaln(np.asarray(n) + 1) - gammaln(np.asarray(k) + 1) - gammaln(n - np.asarray(k) + 1)


def max_weights(n_values: int, budget: int) -> np.ndarray:
    """Probability that the j-th smallest of N values is the best of `budget` drawn ones.

    Args:
        n_values: N, the number of observed values.
        budget: n, trials drawn without replacement, 1 <= n <= N.

    Returns:
        Weights for the sorted values v(1)..v(N); they sum to 1.
    """
    if not 1 <= budget <= n_values:
        raise ValueError(f"`budget` must be in [1, {n_values}], but got {budget}.")
    ranks = np.arange(1, n_values + 1)
    weights = np.zeros(n_values)
    eligible = ranks >= budget  # the best of n values is at least the n-th smallest
    weights[eligible] = np.exp(
        _log_comb(ranks[eligible] - 1, budget - 1) - _log_comb(n_values, budget)
    )
    return weights


def expected_max(values: np.ndarray | list[float], budget: int) -> tuple[float, float]:
    """Expected best of `budget` values drawn without replacement, and the std of that best.

    Args:
        values: Observed values (finite).
        budget: Number of trials n, 1 <= n <= len(values).

    Returns:
        (mean, std) of the best of n.
    """
    ordered = np.sort(np.asarray(values, dtype=float))
    weights = max_weights(ordered.size, budget)
    mean = float(weights @ ordered)
    variance = float(weights @ ordered**2) - mean**2
    return mean, float(np.sqrt(max(variance, 0.0)))


def expected_max_curve(values: np.ndarray | list[float], placement: str = "") -> ExpectedMaxCurve:
    """Expected best value for every budget from 1 to the number of values.

    Args:
        values: Observed values of one placement (finite), at least one.
        placement: Label carried into the result.

    Returns:
        The curve.
    """
    values = np.asarray(values, dtype=float)
    if values.size == 0 or not np.all(np.isfinite(values)):
        raise ValueError(f"`values` must be finite and non-empty, but got {values.tolist()}.")
    budgets = np.arange(1, values.size + 1)
    pairs = np.array([expected_max(values, int(n)) for n in budgets])
    return ExpectedMaxCurve(placement, budgets, pairs[:, 0], pairs[:, 1])


def placement_curves(frame: pd.DataFrame, question: Question, *,
                     lower_is_better: bool = False) -> list[ExpectedMaxCurve]:
    """Expected-best curves of the question's two values from a trials table.

    Uses COMPLETE and PRUNED trials with a finite value: a pruned trial spent part of the
    budget and its value is what it reached. Failed trials have no value and are left out.

    Args:
        frame: A trials table from `analysis.reading.studies.trials_frame`.
        question: The reference and the value compared with it.
        lower_is_better: The study minimises: each curve is the expected minimum (the
            expected maximum of the negated values, negated back).

    Returns:
        One curve per value that has at least one such trial.
    """
    finished = frame[frame["state"].isin(["COMPLETE", "PRUNED"]) & np.isfinite(frame["value"])]
    curves = []
    for placement in question.values:
        values = finished.loc[finished[question.param] == placement, "value"].to_numpy(float)
        if not values.size:
            continue
        if lower_is_better:
            curve = expected_max_curve(-values, placement)
            curves.append(dataclasses.replace(curve, mean=-curve.mean))
        else:
            curves.append(expected_max_curve(values, placement))
    return curves


def leader_by_budget(curves: list[ExpectedMaxCurve], question: Question, *,
                     lower_is_better: bool = False) -> pd.DataFrame:
    """Say which value has the better expected best at each budget both can afford.

    Args:
        curves: Exactly the curves of the question's two values.
        question: The reference and the value compared with it.
        lower_is_better: The study minimises: the lower expected best leads.

    Returns:
        Columns budget, the reference, the other value (columns named by the values as text),
        difference (other - reference), leader (a value, or "tie" if equal).
    """
    by_name = {curve.placement: curve for curve in curves}
    if set(by_name) != set(question.values):
        raise ValueError(f"`curves` must cover {list(question.values)}, but got "
                         f"{sorted(map(str, by_name))}.")
    reference, other = question.values
    budget = min(by_name[p].budgets.size for p in question.values)
    before, after = (by_name[p].mean[:budget] for p in question.values)
    difference = after - before
    gain = -difference if lower_is_better else difference  # > 0: the other value is better
    leader = np.where(gain > 0, str(other), np.where(gain < 0, str(reference), "tie"))
    return pd.DataFrame(
        {
            "budget": np.arange(1, budget + 1),
            str(reference): before,
            str(other): after,
            "difference": difference,
            "leader": leader,
        }
    )


def describe_leaders(leaders: pd.DataFrame) -> str:
    """One sentence on which placement leads at which budgets.

    Args:
        leaders: Output of `leader_by_budget`.

    Returns:
        E.g. "after is ahead at every budget from 1 to 20 trials".
    """
    last = int(leaders["budget"].iloc[-1])
    runs: list[tuple[str, int, int]] = []
    for budget, leader in zip(leaders["budget"], leaders["leader"], strict=True):
        if runs and runs[-1][0] == leader:
            runs[-1] = (leader, runs[-1][1], int(budget))
        else:
            runs.append((leader, int(budget), int(budget)))
    if len(runs) == 1:
        if runs[0][0] == "tie":
            return f"the two values tie at every budget from 1 to {last} trials"
        return f"{runs[0][0]} is ahead at every budget from 1 to {last} trials"
    parts = [
        f"{leader} at {start}" if start == end else f"{leader} at {start}-{end}"
        for leader, start, end in runs
    ]
    return "the lead changes with the budget: " + ", ".join(parts) + " trials"
