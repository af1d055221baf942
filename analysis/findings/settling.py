"""How many reruns would settle an undecided comparison: the projection the report gives.

Plug-in and power-style: at the observed difference and spreads, the count at which the
interval the verdict uses would, with 80% probability, clear the margin (when the difference is
beyond it: "matters") or fit inside it (when the difference is within it: "equivalent"). The
anytime interval (`study.stats.sequential`) is wider than Welch's and needs
MIN_RERUNS_TO_DECIDE reruns per placement before any decision, so it asks for more.
"""

from __future__ import annotations

import math
from typing import Protocol

from scipy.special import ndtri, stdtrit  # normal and Student t quantiles

from study.reruns.allocation import variance_gain
from study.stats.decision import MIN_RERUNS_TO_DECIDE
from study.stats.intervals import welch_error
from study.stats.sequential import DEFAULT_T_OPT, normal_mixture_margin, optimal_rho2

__all__ = ["SEEDS_NEEDED_CAP", "more_reruns_by_spread", "seeds_to_settle"]

SEEDS_NEEDED_CAP = 1000  # beyond this the answer is "not with reruns alone"
_POWER_QUANTILE = 0.8  # "power-style" seed count: 80% chance to settle at the observed effect
_ALPHA = 0.05


class Undecided(Protocol):
    """What `more_reruns_by_spread` reads of a comparison (`findings.verdict.Comparison`)."""

    verdict: str
    interval: str
    difference: float
    margin: float
    std_before: float
    std_after: float
    n_before: int
    n_after: int


def _distance(difference: float, margin: float) -> float:
    """How far the interval's near end may reach: from the difference to the margin."""
    return abs(abs(difference) - margin)


def _settles(difference: float, margin: float, counts: tuple[int, int],
             variances: tuple[float, float], interval: str) -> bool:
    """Whether reruns of these counts and spreads would settle the comparison (80%)."""
    (n_before, n_after), (var_before, var_after) = counts, variances
    distance = _distance(difference, margin)
    if interval == "welch":
        standard_error, dof = welch_error(var_before, n_before, var_after, n_after)
        level = 0.95 if abs(difference) >= margin else 0.90  # TOST judges on the 90% interval
        critical = stdtrit(dof, 0.5 + level / 2) + stdtrit(dof, _POWER_QUANTILE)
        return critical * standard_error < distance
    if min(counts) < MIN_RERUNS_TO_DECIDE:
        return False
    rho2 = optimal_rho2(DEFAULT_T_OPT, _ALPHA / 2)
    half = (math.sqrt(var_before) * normal_mixture_margin(n_before, rho2, _ALPHA / 2)
            + math.sqrt(var_after) * normal_mixture_margin(n_after, rho2, _ALPHA / 2))
    wobble = ndtri(_POWER_QUANTILE) * math.sqrt(var_before / n_before + var_after / n_after)
    return half + wobble < distance


def seeds_to_settle(difference: float, std: float, margin: float, *,
                    interval: str = "anytime", cap: int = SEEDS_NEEDED_CAP) -> int:
    """Seeds per placement that would settle an undecided comparison (equal counts).

    Args:
        difference: Observed mean difference, after minus before.
        std: Per-run standard deviation (pooled over both placements).
        margin: Equivalence margin.
        interval: "anytime" or "welch": the interval the reruns will be judged on (a
            provisional "permutation" comparison is settled by reruns, judged "anytime").
        cap: Largest count worth reporting.

    Returns:
        Seeds per placement (at least 2), or cap + 1 when even cap would not settle it.
    """
    judged = "welch" if interval == "welch" else "anytime"

    def settles(n: int) -> bool:
        return _settles(difference, margin, (n, n), (std**2, std**2), judged)

    if not settles(cap):
        return cap + 1
    low, high = 1, cap  # the interval shrinks with n: bisect for the first n that settles
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if settles(middle) else (middle, high)
    return max(high, 2)


def more_reruns_by_spread(comparison: Undecided,
                          cap: int = SEEDS_NEEDED_CAP) -> dict[str, int] | None:
    """More reruns of each placement that would settle an undecided comparison when they
    are allocated by spread (`python -m study.confirm --allocation by-spread`).

    The criterion of `seeds_to_settle` at the observed stds; the reruns are added one at a time
    where one more shrinks the interval most (`study.reruns.allocation.variance_gain`), from
    the counts so far.

    Args:
        comparison: A comparison of reruns (its stds, counts and interval are used).
        cap: Most reruns per placement worth counting to.

    Returns:
        {"before": k, "after": m} more reruns; None unless the verdict is inconclusive or
        nonzero, or when even `cap` reruns of each placement would not settle it.
    """
    if comparison.verdict not in ("inconclusive", "nonzero"):
        return None
    variance = {"before": comparison.std_before**2, "after": comparison.std_after**2}
    counts = {"before": comparison.n_before, "after": comparison.n_after}

    def settles() -> bool:
        return _settles(comparison.difference, comparison.margin,
                        (counts["before"], counts["after"]),
                        (variance["before"], variance["after"]), comparison.interval)

    while not settles():
        open_placements = [p for p in counts if counts[p] < cap]
        if not open_placements:
            return None
        # Below the minimum the fewer reruns come first: no decision until both have it.
        short = [p for p in open_placements if counts[p] < MIN_RERUNS_TO_DECIDE]
        chosen = min(short, key=lambda p: counts[p]) if short and comparison.interval != "welch" \
            else max(open_placements, key=lambda p: variance_gain(variance[p], counts[p]))
        counts[chosen] += 1
    return {"before": counts["before"] - comparison.n_before,
            "after": counts["after"] - comparison.n_after}
