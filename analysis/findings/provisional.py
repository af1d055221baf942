"""Provisional verdict from the search alone: the top-k trials of each placement.

The best k trials of a search are not k independent draws: their spread hides how lucky the
search was in where it sampled, so a Welch interval on them calls "matters" far too often (in
simulated null studies of 40-100 trials: 12-17% instead of 5%). The intervals here come from a
permutation test over all COMPLETE trials of both placements instead, inverted over shifts of
"after": the interval holds the shifts delta for which "after - delta" and "before" are
exchangeable under the top-k statistic. Exchangeability is what a search that samples
`bn_position` independently of the other parameters gives under the null, and the test is exact
then, whatever k and however unequal the two pools are (a sampler that adapts, like TPE, makes
it approximate). The decision rules are those of `analysis.findings.verdict`.

For a study that minimises, the top k are the lowest: the test runs on the negated values and
its results are turned back, so the difference stays after - before in the values' own sign.
Values that are not fractions of accuracy (a loss, seconds) take a margin of any size and
leave an end the trials cannot bound infinite, not clipped at ±1.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from analysis.findings.verdict import ASSUMED_SEED_STD, Comparison, build_comparison
from study.stats.decision import DEFAULT_MARGIN, Verdict, check_margin, decide

N_PERMUTATIONS = 1000
_BISECTION_STEPS = 22  # the range (about 4 spreads) halves each step: 1e-6 of it at the end


def top_k_mean(values: np.ndarray, k: int) -> np.ndarray:
    """Mean of the k largest values along the last axis."""
    return -np.partition(-values, k - 1, axis=-1)[..., :k].mean(axis=-1)


class _PermutationTest:
    """One-sided permutation p-values of the top-k difference after a shift of "after"."""

    def __init__(self, before: np.ndarray, after: np.ndarray, k: int, n: int, seed: int):
        rng = np.random.default_rng(seed)
        self.before, self.after, self.k = before, after, k
        size = before.size + after.size
        # The same permutations for every shift keep the p-value monotone in the shift.
        self.permutations = np.argsort(rng.random((n, size)), axis=1)

    def p_values(self, shift: float) -> tuple[float, float]:
        after = self.after - shift
        observed = top_k_mean(after, self.k) - top_k_mean(self.before, self.k)
        pooled = np.concatenate([after, self.before])[self.permutations]
        null = top_k_mean(pooled[:, : after.size], self.k) - top_k_mean(
            pooled[:, after.size :], self.k
        )
        n = null.size + 1  # the observed labelling counts as one permutation
        greater = (np.sum(null >= observed - 1e-12) + 1) / n
        less = (np.sum(null <= observed + 1e-12) + 1) / n
        return float(greater), float(less)

    def bound(self, level: float, upper: bool) -> float:
        """Smallest (or largest) shift the one-sided test at (1 - level) / 2 does not reject;
        -inf (or inf) when it rejects none within twice the values' range."""
        alpha = (1 - level) / 2
        spread = float(np.ptp(np.concatenate([self.before, self.after]))) + 1e-9
        low, high = -2 * spread - 1.0, 2 * spread + 1.0

        def rejected_at(shift: float) -> bool:
            greater, less = self.p_values(shift)
            return less <= alpha if upper else greater <= alpha

        # Not rejected even at the search edge (too few trials): the data bound nothing.
        if not rejected_at(high if upper else low):
            return math.inf if upper else -math.inf
        for _ in range(_BISECTION_STEPS):
            middle = (low + high) / 2
            # For the upper bound, large shifts make "after - shift" look too small: rejected.
            if rejected_at(middle) == upper:
                high = middle
            else:
                low = middle
        return (low + high) / 2


def decide_in_any_units(low: float, high: float, margin: float,
                        equivalence: tuple[float, float]) -> Verdict:
    """`study.stats.decision.decide` for a margin in any units, not only a fraction.

    The rule compares the interval's ends with zero and with ±margin, so it is the same at any
    scale; `decide` checks its margin as a fraction of accuracy, so a margin of 1 or more is
    decided on everything divided by a power of two, which is exact in floating point.
    """
    scale = 1.0 if margin < 1.0 else 2.0 ** (math.floor(math.log2(margin)) + 1)
    return decide(low / scale, high / scale, margin / scale,
                  equivalence=(equivalence[0] / scale, equivalence[1] / scale))


def compare_top_trials(
    before: np.ndarray | list[float],
    after: np.ndarray | list[float],
    k: int,
    margin: float = DEFAULT_MARGIN,
    *,
    n_permutations: int = N_PERMUTATIONS,
    seed: int = 0,
    level: float = 0.95,
    lower_is_better: bool = False,
    fraction: bool = True,
) -> Comparison:
    """Compare the top-k trials of each placement, with permutation intervals.

    Args:
        before: Values of all COMPLETE trials with BN before the activation.
        after: Values of all COMPLETE trials with BN after the activation.
        k: Trials per placement that count as "tuned", 2 <= k <= each pool.
        margin: Equivalence margin, in the values' units: a fraction in (0, 1) for accuracy.
        n_permutations: Permutations of the test (and bootstrap resamples).
        seed: Seed of permutations and bootstrap.
        level: The interval's confidence level (lower when the error level is split across
            several comparisons); TOST uses the interval at 2 * level - 1.
        lower_is_better: The values are minimised: the top k are the lowest. The difference
            and its intervals stay after - before, in the values' own sign.
        fraction: The values are fractions (accuracy): differences lie in [-1, 1], so the
            intervals are clipped there. Otherwise an end the data cannot bound is infinite,
            and nothing assumes a seed-to-seed spread: `seeds_needed` stays None.

    Returns:
        The comparison; means, stds and Mann-Whitney describe the top-k values,
        `seeds_needed` assumes reruns with ASSUMED_SEED_STD.
    """
    # Ranked on sign * value, "top" is best either way; results are turned back at the end.
    sign = -1.0 if lower_is_better else 1.0
    before = np.sort(sign * np.asarray(before, dtype=float))[::-1]
    after = np.sort(sign * np.asarray(after, dtype=float))[::-1]
    if not 2 <= k <= min(before.size, after.size):
        raise ValueError(
            f"`k` must be in [2, {min(before.size, after.size)}] (the smaller pool), but got {k}."
        )
    if not (np.all(np.isfinite(before)) and np.all(np.isfinite(after))):
        raise ValueError("`before` and `after` must be finite.")
    if fraction:
        check_margin(margin)
    elif not (math.isfinite(margin) and margin > 0):
        raise ValueError(f"`margin` must be positive and finite, but got {margin}.")
    bound = 1.0 if fraction else math.inf  # a difference of accuracies lies in [-1, 1]
    test = _PermutationTest(before, after, k, n_permutations, seed)

    def interval(at: float) -> tuple[float, float]:
        # An end the data cannot bound is infinite; for accuracies, the whole range.
        low, high = (float(np.clip(test.bound(at, upper=u), -bound, bound)) for u in (False, True))
        return (low, high) if sign > 0 else (-high, -low)

    difference = sign * float(top_k_mean(after, k) - top_k_mean(before, k))
    ci_low, ci_high = interval(level)
    tost_low, tost_high = interval(2 * level - 1)
    greater, less = test.p_values(0.0)
    tost_p = max(test.p_values(-margin)[0], test.p_values(margin)[1])

    rng = np.random.default_rng([seed, 1])
    resampled = [rng.choice(pool, (n_permutations, pool.size)) for pool in (before, after)]
    bootstrap = top_k_mean(resampled[1], k) - top_k_mean(resampled[0], k)
    bootstrap_low, bootstrap_high = np.quantile(bootstrap, [0.025, 0.975])
    if sign < 0:
        bootstrap_low, bootstrap_high = -bootstrap_high, -bootstrap_low
    comparison = build_comparison(
        sign * before[:k],
        sign * after[:k],
        verdict=decide_in_any_units(ci_low, ci_high, margin, (tost_low, tost_high)),
        interval="permutation",
        difference=difference,
        ci=(ci_low, ci_high),
        welch95=(ci_low, ci_high),
        ci90=(tost_low, tost_high),
        tost_p_value=tost_p,
        welch_p_value=min(1.0, 2 * min(greater, less)),  # permutation, two-sided
        bootstrap=(float(bootstrap_low), float(bootstrap_high)),
        margin=margin,
        seed_std=ASSUMED_SEED_STD,  # reruns, not search trials, would settle it
        level=level,
    )
    return comparison if fraction else dataclasses.replace(comparison, seeds_needed=None)
