"""Does BN placement matter? A verdict with its interval, from two arrays of accuracies.

Pure statistics, no Optuna: `compare_placements` takes the accuracies of each placement (test
accuracy of seeded reruns, or the validation accuracy of the best search trials) and decides
with the rule of `study.stats.decision` ("matters" when the interval clears the margin,
"equivalent" inside it, "nonzero" when it excludes zero but reaches inside, else
"inconclusive") on one of two intervals:

- "anytime" (the default): the confidence sequence of `study.stats.sequential`, valid however
  often the reruns were looked at and whenever they were stopped, which is how reruns are run
  (`study.confirm --stop decided`, provisional verdicts read while reruns accumulate). No
  decision before MIN_RERUNS_TO_DECIDE reruns per placement.
- "welch": Welch's fixed-n 95% interval, and for "equivalent" its 90% interval (TOST). Valid
  only when the number of reruns was fixed in advance and the verdict read once.

Welch's interval, the bootstrap interval and the robust summaries of `study.stats.robust` are
reported beside either.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from analysis.findings.settling import seeds_to_settle
from analysis.reading.objective import ACCURACY, UNBOUNDED
from study.stats.decision import DEFAULT_MARGIN, MIN_RERUNS_TO_DECIDE, Verdict, check_margin
from study.stats.intervals import difference_error, fixed_n_intervals, t_test_p_values
from study.stats.looks import INTERVALS, interval_verdict
from study.stats.robust import RobustSummary, prob_greater, robust_summary
from study.storage.contract import DEFAULT_CONFIRM_SEEDS

__all__ = ["ALPHA", "ASSUMED_SEED_STD", "DEFAULT_INTERVAL", "DEFAULT_SEEDS", "UNBOUNDED",
           "Comparison", "build_comparison", "compare_placements", "describe_interval"]

DEFAULT_INTERVAL = "anytime"
ALPHA = 0.05  # the intervals' error level: 95% intervals and sequences
# Seed-to-seed std of test accuracy assumed when sizing reruns before any were run: the first
# Fashion-MNIST reruns of one configuration spread by 0.002-0.003; we size for the upper end.
ASSUMED_SEED_STD = 0.003
# Reruns per placement that `study.confirm` runs by default: the fewest the anytime verdict
# decides on (MIN_RERUNS_TO_DECIDE).
DEFAULT_SEEDS = DEFAULT_CONFIRM_SEEDS


def describe_interval(low: float, high: float) -> str:
    """An interval of accuracy differences in percentage points: "[-0.80, +1.42] pp".

    Differences lie in [-1, 1], so intervals are clipped there; an end at the clip means the
    data cannot bound the interval at this n, which "+-100 pp" would hide: that reads
    "not yet bounded" (`analysis.reading.objective.Objective.interval`, for any units).
    """
    return ACCURACY.interval(low, high)


@dataclass(frozen=True)
class Comparison:
    """The difference after minus before, its intervals and the verdict drawn from them.

    Accuracies are fractions (0..1). `ci_low`/`ci_high` is the interval the verdict was decided
    on (`interval` says which). `seeds_needed` is None unless the verdict is inconclusive or
    nonzero (`analysis.findings.settling`).
    """

    verdict: Verdict
    interval: str  # "anytime", "welch", or "permutation" (the provisional search comparison)
    difference: float
    ci_low: float  # the verdict's interval
    ci_high: float
    welch_low: float  # Welch's fixed-n 95% interval, reported beside an anytime verdict
    welch_high: float
    tost_low: float  # 90% Welch interval, the one TOST checks against the margin
    tost_high: float
    tost_p_value: float
    welch_p_value: float
    bootstrap_low: float  # 95% percentile bootstrap interval of the mean difference
    bootstrap_high: float
    prob_after_greater: float  # Mann-Whitney U / (n_after * n_before); ties count one half
    robust: RobustSummary | None  # median, IQM and P(after > before) with bootstrap intervals
    margin: float
    minimum: int  # reruns per placement an anytime verdict needs before deciding
    mean_before: float
    mean_after: float
    std_before: float
    std_after: float
    n_before: int
    n_after: int
    seeds_needed: int | None
    paired: bool = False  # reruns of one seed paired across placements: intervals on differences
    pair_correlation: float | None = None  # of the pairs' accuracies, when paired
    variance_saved: float | None = None  # 1 - var(after - before) / (var(after) + var(before))
    level: float = 1 - ALPHA  # the verdict's interval's level (lower when alpha is split)
    # What "before" and "after" stand for: the question's reference and the value compared.
    labels: tuple[str, str] = ("before", "after")

    @property
    def below_minimum(self) -> bool:
        """Whether an anytime verdict stayed undecided for want of reruns."""
        return self.interval == "anytime" and min(self.n_before, self.n_after) < self.minimum


def pairing_gain(before: np.ndarray, after: np.ndarray) -> tuple[float, float]:
    """(correlation of the pairs, share of the difference's variance that pairing removed).

    The share is 1 - var(after - before) / (var(after) + var(before)): 0 for uncorrelated
    pairs, negative when pairing made the difference noisier. NaN where a sample is constant.
    """
    total = after.var(ddof=1) + before.var(ddof=1)
    if total == 0 or before.std() == 0 or after.std() == 0:
        return math.nan, math.nan
    return (float(np.corrcoef(before, after)[0, 1]),
            float(1.0 - (after - before).var(ddof=1) / total))


def _bootstrap_interval(
    before: np.ndarray, after: np.ndarray, n_resamples: int, seed: int, paired: bool = False
) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    if paired:  # resample pairs, keeping each seed's two reruns together
        differences = after - before
        means = rng.choice(differences, (n_resamples, differences.size)).mean(axis=1)
    else:
        means_before = rng.choice(before, (n_resamples, before.size)).mean(axis=1)
        means_after = rng.choice(after, (n_resamples, after.size)).mean(axis=1)
        means = means_after - means_before
    low, high = np.quantile(means, [0.025, 0.975])
    return float(low), float(high)


def build_comparison(
    before: np.ndarray,
    after: np.ndarray,
    *,
    verdict: Verdict,
    interval: str,
    difference: float,
    ci: tuple[float, float],
    welch95: tuple[float, float],
    ci90: tuple[float, float],
    tost_p_value: float,
    welch_p_value: float,
    bootstrap: tuple[float, float],
    margin: float,
    seed_std: float,
    robust: RobustSummary | None = None,
    minimum: int = MIN_RERUNS_TO_DECIDE,
    paired: bool = False,
    level: float = 1 - ALPHA,
) -> Comparison:
    """The `Comparison` of two samples from their intervals and verdict.

    Both comparisons (reruns: anytime or Welch; the provisional one of the search:
    permutations) compute their own intervals and verdict, and share everything else here.

    Args:
        before: The values described by mean, std, n and Mann-Whitney, BN before.
        after: The same, BN after.
        verdict: The verdict drawn from `ci` (`study.stats.decision.decide`).
        interval: Which interval `ci` is.
        difference: The difference the intervals are about, after minus before.
        ci: The interval of the verdict.
        welch95: The 95% Welch (or permutation) interval.
        ci90: The 90% interval, the one TOST checks against the margin.
        tost_p_value: P-value of TOST.
        welch_p_value: Two-sided p-value of "no difference".
        bootstrap: 95% bootstrap interval of the difference.
        margin: Equivalence margin.
        seed_std: Per-run std that `seeds_needed` assumes.
        robust: The robust summaries, where computed.
        minimum: Reruns per placement an anytime verdict needs before deciding.
        paired: `before[i]` and `after[i]` share seed i; the pairing's gain is then reported.

    Returns:
        The comparison; `seeds_needed` is set when the verdict is inconclusive or nonzero.
    """
    undecided = verdict in ("inconclusive", "nonzero")
    correlation, saved = pairing_gain(before, after) if paired else (None, None)
    return Comparison(
        verdict=verdict, interval=interval, difference=float(difference),
        ci_low=float(ci[0]), ci_high=float(ci[1]),
        welch_low=float(welch95[0]), welch_high=float(welch95[1]),
        tost_low=float(ci90[0]), tost_high=float(ci90[1]),
        tost_p_value=float(tost_p_value), welch_p_value=float(welch_p_value),
        bootstrap_low=float(bootstrap[0]), bootstrap_high=float(bootstrap[1]),
        prob_after_greater=prob_greater(after, before), robust=robust,
        margin=margin, minimum=minimum,
        mean_before=float(before.mean()), mean_after=float(after.mean()),
        std_before=float(before.std(ddof=1)), std_after=float(after.std(ddof=1)),
        n_before=int(before.size), n_after=int(after.size),
        seeds_needed=(seeds_to_settle(difference, seed_std, margin, interval=interval)
                      if undecided else None),
        paired=paired, pair_correlation=correlation, variance_saved=saved, level=level,
    )


def compare_placements(
    before: np.ndarray | list[float],
    after: np.ndarray | list[float],
    margin: float = DEFAULT_MARGIN,
    *,
    interval: str = DEFAULT_INTERVAL,
    minimum: int = MIN_RERUNS_TO_DECIDE,
    n_bootstrap: int = 2000,
    seed: int = 0,
    paired: bool = False,
    alpha: float = ALPHA,
) -> Comparison:
    """Compare the accuracies of the two placements and decide whether placement matters.

    "before" and "after" stand for the question's reference and the value compared with it
    (`study.storage.question`): the difference is after - before.

    Args:
        before: Accuracies (fractions) with BN before the activation, in the order they were
            run; at least 2 finite values.
        after: Accuracies with BN after the activation; at least 2 finite values.
        margin: Equivalence margin in accuracy (fraction), in (0, 1).
        interval: "anytime" or "welch" (see the module docstring).
        minimum: With "anytime": reruns per placement before any decision.
        n_bootstrap: Resamples for the bootstrap intervals (0 skips the robust summaries).
        seed: Seed of the bootstrap, so the same data always give the same report.
        paired: `before[i]` and `after[i]` are the reruns of seed i (equal lengths): the
            intervals are on the pairs' differences (the anytime sequence of the differences;
            for "welch", the paired t interval), the bootstrap resamples pairs.
        alpha: The error level of the verdict's intervals (0.05: 95% intervals); smaller when
            it is split across several comparisons with one reference.

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
    check_margin(margin)
    if interval not in INTERVALS:
        raise ValueError(f"`interval` must be one of {list(INTERVALS)}, but got {interval!r}.")
    if paired and before.size != after.size:
        raise ValueError(f"paired `before` and `after` must have equal lengths, but got "
                         f"{before.size} and {after.size}.")
    if not 0.0 < alpha < 0.5:
        raise ValueError(f"`alpha` must be in (0, 0.5), but got {alpha}.")
    difference, standard_error, dof = difference_error(before, after, paired=paired)
    welch95, tost90 = fixed_n_intervals(before, after, paired=paired, alpha=alpha)
    welch_p, tost_p = t_test_p_values(difference, standard_error, dof, margin)
    # Welch's interval is for a count fixed in advance and read once: no minimum of its own.
    verdict, ci = interval_verdict(before, after, interval=interval, margin=margin, alpha=alpha,
                                   minimum=minimum if interval == "anytime" else 2,
                                   paired=paired)
    return build_comparison(
        before, after, verdict=verdict or "inconclusive", interval=interval,
        difference=difference, ci=ci,
        welch95=welch95, ci90=tost90, tost_p_value=tost_p, welch_p_value=welch_p,
        bootstrap=_bootstrap_interval(before, after, max(n_bootstrap, 1), seed, paired),
        margin=margin, seed_std=math.sqrt((before.var(ddof=1) + after.var(ddof=1)) / 2),
        robust=robust_summary(before, after, n_resamples=n_bootstrap, seed=seed)
        if n_bootstrap else None,
        minimum=minimum, paired=paired, level=1 - alpha,
    )
