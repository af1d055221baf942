"""Does BN placement matter? A verdict with its interval, from two arrays of accuracies.

Pure statistics, no Optuna: `compare_placements` takes the accuracies of each placement (test
accuracy of seeded reruns, or the validation accuracy of the best search trials) and decides:

- "equivalent": the 90% Welch interval of the difference lies inside (-margin, +margin), i.e.
  both one-sided tests of TOST reject at 5%. A non-significant difference is not enough.
- "matters": the 95% Welch interval excludes zero and the difference is at least the margin,
  so a statistically clear but practically negligible gap does not count as mattering.
- "inconclusive": anything else, with a rough count of seeds per placement that would settle it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.special import stdtr, stdtrit  # Student t cdf and quantile, without the overhead

from study.reruns.allocation import variance_gain
from study.reruns.intervals import t_interval, welch_error
from study.storage.contract import DEFAULT_CONFIRM_SEEDS

Verdict = Literal["matters", "equivalent", "inconclusive"]

DEFAULT_MARGIN = 0.005  # half a percentage point: below this nobody would change their model
# Seed-to-seed std of test accuracy assumed when sizing the reruns: Fashion-MNIST reruns of one
# configuration typically spread by 0.002-0.003; we size for the upper end.
ASSUMED_SEED_STD = 0.003
# Reruns per placement. At ASSUMED_SEED_STD and DEFAULT_MARGIN, `python -m analysis.simulate`
# (1000 simulations per cell) measured: "equivalent" when the truth is 0 in 36% / 67% / 86% / 94%
# of comparisons with 4 / 6 / 8 / 10 seeds; "matters" when the truth is twice the margin in 97% /
# 100% / 100% / 100%. 8 is the smallest count with 80% for both; 10 keeps 80% if the seed std
# is nearer 0.0035 than 0.003. tests/analysis/test_calibration.py checks the 80%.
DEFAULT_SEEDS = DEFAULT_CONFIRM_SEEDS  # 10, what study.confirm reruns by default
SEEDS_NEEDED_CAP = 1000  # beyond this the answer is "not with reruns alone"
_POWER_QUANTILE = 0.8  # "power-style" seed count: 80% chance to settle at the observed effect


UNBOUNDED = "not yet bounded"


def describe_interval(low: float, high: float) -> str:
    """An interval of accuracy differences in percentage points: "[-0.80, +1.42] pp".

    Differences lie in [-1, 1], so intervals are clipped there; an end at the clip means the
    data cannot bound the interval at this n, which "+-100 pp" would hide: that reads
    "not yet bounded".
    """
    if low <= -1.0 or high >= 1.0:
        return UNBOUNDED
    return f"[{100 * low:+.2f}, {100 * high:+.2f}] pp"


@dataclass(frozen=True)
class Comparison:
    """The difference after minus before, its intervals and the verdict drawn from them.

    Accuracies are fractions (0..1). `seeds_needed` is None unless the verdict is inconclusive;
    it is SEEDS_NEEDED_CAP + 1 when even SEEDS_NEEDED_CAP seeds per placement would not do.
    """

    verdict: Verdict
    difference: float
    ci_low: float  # 95% Welch interval
    ci_high: float
    tost_low: float  # 90% Welch interval, the one TOST checks against the margin
    tost_high: float
    tost_p_value: float
    welch_p_value: float
    bootstrap_low: float  # 95% percentile bootstrap interval
    bootstrap_high: float
    prob_after_greater: float  # Mann-Whitney U / (n_after * n_before); ties count one half
    margin: float
    mean_before: float
    mean_after: float
    std_before: float
    std_after: float
    n_before: int
    n_after: int
    seeds_needed: int | None


def _welch(before: np.ndarray, after: np.ndarray) -> tuple[float, float, float]:
    """Return (difference, standard error, Welch-Satterthwaite degrees of freedom)."""
    difference = float(after.mean() - before.mean())
    standard_error, dof = welch_error(before.var(ddof=1), before.size,
                                      after.var(ddof=1), after.size)
    return difference, standard_error, dof


def _bootstrap_interval(
    before: np.ndarray, after: np.ndarray, n_resamples: int, seed: int
) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    means_before = rng.choice(before, (n_resamples, before.size)).mean(axis=1)
    means_after = rng.choice(after, (n_resamples, after.size)).mean(axis=1)
    low, high = np.quantile(means_after - means_before, [0.025, 0.975])
    return float(low), float(high)


def verdict_from_intervals(difference: float, ci95: tuple[float, float],
                           ci90: tuple[float, float], margin: float) -> Verdict:
    """The three-way verdict, the same for reruns and for the provisional search comparison.

    Args:
        difference: Mean accuracy after minus before.
        ci95: The 95% interval of the difference.
        ci90: The 90% interval (two one-sided tests at 5% each).
        margin: Differences inside (-margin, +margin) do not matter.

    Returns:
        "equivalent" when the 90% interval lies inside the margin; "matters" when the 95%
        interval excludes zero and the difference reaches the margin; else "inconclusive".
    """
    if -margin < ci90[0] and ci90[1] < margin:
        return "equivalent"
    if (ci95[0] > 0.0 or ci95[1] < 0.0) and abs(difference) >= margin:
        return "matters"
    return "inconclusive"


def build_comparison(
    before: np.ndarray,
    after: np.ndarray,
    *,
    difference: float,
    ci95: tuple[float, float],
    ci90: tuple[float, float],
    tost_p_value: float,
    welch_p_value: float,
    bootstrap: tuple[float, float],
    margin: float,
    seed_std: float,
) -> Comparison:
    """The `Comparison` of two samples from their intervals, with the verdict these imply.

    Both comparisons (reruns: Welch; the provisional one of the search: permutations) compute
    their own intervals and p-values, and share everything else here.

    Args:
        before: The values described by mean, std, n and Mann-Whitney, BN before.
        after: The same, BN after.
        difference: The difference the intervals are about, after minus before.
        ci95: Its 95% interval.
        ci90: Its 90% interval, the one TOST checks against the margin.
        tost_p_value: P-value of TOST.
        welch_p_value: Two-sided p-value of "no difference".
        bootstrap: 95% bootstrap interval of the difference.
        margin: Equivalence margin.
        seed_std: Per-run std that `seeds_needed` assumes.

    Returns:
        The comparison; `seeds_needed` is set only when the verdict is inconclusive.
    """
    verdict = verdict_from_intervals(difference, ci95, ci90, margin)
    return Comparison(
        verdict=verdict,
        difference=float(difference),
        ci_low=float(ci95[0]),
        ci_high=float(ci95[1]),
        tost_low=float(ci90[0]),
        tost_high=float(ci90[1]),
        tost_p_value=float(tost_p_value),
        welch_p_value=float(welch_p_value),
        bootstrap_low=float(bootstrap[0]),
        bootstrap_high=float(bootstrap[1]),
        prob_after_greater=prob_greater(after, before),
        margin=margin,
        mean_before=float(before.mean()),
        mean_after=float(after.mean()),
        std_before=float(before.std(ddof=1)),
        std_after=float(after.std(ddof=1)),
        n_before=int(before.size),
        n_after=int(after.size),
        seeds_needed=(
            seeds_to_settle(difference, seed_std, margin) if verdict == "inconclusive" else None
        ),
    )


def prob_greater(after: np.ndarray, before: np.ndarray) -> float:
    """Empirical P(after > before) over all pairs, ties counting one half.

    This is the Mann-Whitney U statistic of `after` divided by n_after * n_before.

    Args:
        after: Values of one group.
        before: Values of the other.

    Returns:
        The probability, in [0, 1].
    """
    after, before = np.asarray(after)[:, None], np.asarray(before)[None, :]
    return float(np.mean(after > before) + 0.5 * np.mean(after == before))


def seeds_to_settle(
    difference: float, std: float, margin: float, cap: int = SEEDS_NEEDED_CAP
) -> int:
    """Estimate how many seeds per placement would settle an inconclusive comparison.

    Plug-in, power-style: if |difference| >= margin, the n at which the 95% interval would
    exclude zero with 80% probability; otherwise the n at which the 90% interval would fit
    inside the margin with 80% probability, both at the observed difference and std.

    Args:
        difference: Observed mean difference, after minus before.
        std: Per-run standard deviation (pooled over both placements).
        margin: Equivalence margin.
        cap: Largest count worth reporting.

    Returns:
        Seeds per placement (at least 2), or cap + 1 when even cap would not settle it.
    """
    def settles(n: int) -> bool:
        return _would_settle(difference, margin, std * math.sqrt(2.0 / n), 2 * n - 2)

    if not settles(cap):
        return cap + 1
    low, high = 1, cap  # the half-width shrinks with n: bisect for the first n that settles
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if settles(middle) else (middle, high)
    return high


def _would_settle(difference: float, margin: float, standard_error: float,
                  dof: float) -> bool:
    """Whether an interval of this standard error would settle the comparison with 80%
    probability at the observed difference: exclude zero (95%) when |difference| >= margin,
    else fit inside the margin (90%)."""
    if abs(difference) >= margin:
        distance, level = abs(difference), 0.95
    else:
        distance, level = margin - abs(difference), 0.90
    critical = stdtrit(dof, 0.5 + level / 2) + stdtrit(dof, _POWER_QUANTILE)
    return critical * standard_error < distance


def more_reruns_by_spread(comparison: Comparison,
                          cap: int = SEEDS_NEEDED_CAP) -> dict[str, int] | None:
    """More reruns of each placement that would settle an inconclusive comparison when they
    are allocated by spread (`python -m study.confirm --allocation by-spread`).

    The criterion of `seeds_to_settle` (80% probability at the observed difference), with
    Welch's interval at the observed stds; the reruns are added one at a time where one more
    shrinks the interval most (`study.reruns.allocation.variance_gain`), from the counts so far.

    Args:
        comparison: A comparison of reruns (its stds and counts are used).
        cap: Most reruns per placement worth counting to.

    Returns:
        {"before": k, "after": m} more reruns; None unless the verdict is inconclusive, or
        when even `cap` reruns of each placement would not settle it.
    """
    if comparison.verdict != "inconclusive":
        return None
    variance = {"before": comparison.std_before**2, "after": comparison.std_after**2}
    counts = {"before": comparison.n_before, "after": comparison.n_after}

    def settles() -> bool:
        standard_error, dof = welch_error(variance["before"], counts["before"],
                                          variance["after"], counts["after"])
        return _would_settle(comparison.difference, comparison.margin, standard_error, dof)

    while not settles():
        open_placements = [p for p in counts if counts[p] < cap]
        if not open_placements:
            return None
        counts[max(open_placements, key=lambda p: variance_gain(variance[p], counts[p]))] += 1
    return {"before": counts["before"] - comparison.n_before,
            "after": counts["after"] - comparison.n_after}


def compare_placements(
    before: np.ndarray | list[float],
    after: np.ndarray | list[float],
    margin: float = DEFAULT_MARGIN,
    *,
    n_bootstrap: int = 2000,
    seed: int = 0,
) -> Comparison:
    """Compare the accuracies of the two placements and decide whether placement matters.

    Args:
        before: Accuracies (fractions) with BN before the activation; at least 2 finite values.
        after: Accuracies with BN after the activation; at least 2 finite values.
        margin: Equivalence margin in accuracy (fraction), in (0, 1).
        n_bootstrap: Resamples for the bootstrap interval.
        seed: Seed of the bootstrap, so the same data always give the same report.

    Returns:
        The comparison and its verdict.
    """
    before = np.asarray(before, dtype=float)
    after = np.asarray(after, dtype=float)
    for name, values in (("before", before), ("after", after)):
        if values.ndim != 1 or values.size < 2 or not np.all(np.isfinite(values)):
            raise ValueError(
                f"`{name}` must hold at least 2 finite accuracies, but got {values.tolist()}."
            )
    if not 0.0 < margin < 1.0:
        raise ValueError(f"`margin` must be in (0, 1), but got {margin}.")

    difference, standard_error, dof = _welch(before, after)
    ci_low, ci_high = t_interval(difference, standard_error, dof, 0.95)
    tost_low, tost_high = t_interval(difference, standard_error, dof, 0.90)
    if standard_error == 0.0:
        welch_p = 1.0 if difference == 0.0 else 0.0
        tost_p = 0.0 if abs(difference) < margin else 1.0
    else:
        welch_p = float(2 * stdtr(dof, -abs(difference) / standard_error))
        tost_p = float(
            max(
                stdtr(dof, -(difference + margin) / standard_error),
                stdtr(dof, (difference - margin) / standard_error),
            )
        )
    return build_comparison(
        before,
        after,
        difference=difference,
        ci95=(ci_low, ci_high),
        ci90=(tost_low, tost_high),
        tost_p_value=tost_p,
        welch_p_value=welch_p,
        bootstrap=_bootstrap_interval(before, after, n_bootstrap, seed),
        margin=margin,
        seed_std=math.sqrt((before.var(ddof=1) + after.var(ddof=1)) / 2),
    )
