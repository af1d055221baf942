"""Which rerun `study.confirm` trains next: both placements alike, or where the spread is.

"equal" reruns seed by seed, both placements alike (seed 1000 before, 1000 after, 1001 before,
...), so an interrupted run leaves them with nearly equal counts.

"by-spread" spends reruns where they narrow the verdict's interval most. That interval is
Welch's, whose half-width goes with sqrt(s_before²/n_before + s_after²/n_after); one more rerun
of placement p shrinks the sum by s_p²/n_p - s_p²/(n_p + 1), so the next rerun goes where that
gain is largest, and the counts end up in proportion to each placement's std (Neyman
allocation). When one placement is far noisier than the other, a given half-width then costs
far fewer reruns than with equal counts. The rule looks at the spreads only, never at the
means, so it cannot steer the difference towards either placement. Each placement first gets
MIN_RERUNS_EACH reruns in the "equal" order, so that its spread is estimated at all.

`half_width` is that interval's 95% half-width for the reruns so far: `study.confirm
--stop-at-half-width` stops once it is narrow enough, again a rule on the spreads alone.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence

from study.contract import PLACEMENTS
from study.errors import ConfigError

__all__ = ["ALLOCATIONS", "MIN_RERUNS_EACH", "half_width", "next_rerun", "variance_gain",
           "welch_error"]

ALLOCATIONS = ("equal", "by-spread")
MIN_RERUNS_EACH = 8  # the floor per placement; a std from fewer swings too much to steer


def next_rerun(done: Mapping[str, Mapping[int, float]], seeds: Sequence[int],
               allocation: str = "equal") -> tuple[str, int] | None:
    """The (placement, seed) to rerun next, or None when each placement has had every seed.

    Args:
        done: Per placement, the test accuracy of each seed already rerun.
        seeds: The seeds each placement may use, in the order they are used.
        allocation: One of ALLOCATIONS (see the module docstring).

    Returns:
        The placement and its first seed not rerun yet.

    Raises:
        ConfigError: for an unknown allocation.
    """
    if allocation not in ALLOCATIONS:
        raise ConfigError(f"`allocation` must be one of {list(ALLOCATIONS)}, but got "
                          f"{allocation!r}.")
    first_free = {placement: next((seed for seed in seeds if seed not in done.get(placement, {})),
                                  None) for placement in PLACEMENTS}
    open_placements = [placement for placement in PLACEMENTS if first_free[placement] is not None]
    if not open_placements:
        return None
    counts = {placement: len(done.get(placement, {})) for placement in PLACEMENTS}
    if allocation == "by-spread" and all(counts[p] >= MIN_RERUNS_EACH for p in open_placements):
        placement = max(open_placements,  # the first of PLACEMENTS on a tie
                        key=lambda p: variance_gain(statistics.variance(done[p].values()),
                                                    counts[p]))
    else:  # seed-major: the smallest free seed, "before" first on a tie
        placement = min(open_placements,
                        key=lambda p: (seeds.index(first_free[p]), PLACEMENTS.index(p)))
    return placement, first_free[placement]


def variance_gain(variance: float, n: int) -> float:
    """How much one more rerun shrinks a placement's s²/n (its squared standard error), for
    `n` reruns so far that vary by `variance`: the rule "by-spread" allocates with."""
    return variance / (n * (n + 1))


def welch_error(variance_before: float, n_before: int, variance_after: float,
                n_after: int) -> tuple[float, float]:
    """(standard error, Welch-Satterthwaite degrees of freedom) of a difference of means."""
    part_before, part_after = variance_before / n_before, variance_after / n_after
    standard_error = math.sqrt(part_before + part_after)
    if standard_error == 0.0:
        return 0.0, float(n_before + n_after - 2)
    dof = (part_before + part_after) ** 2 / (
        part_before**2 / (n_before - 1) + part_after**2 / (n_after - 1)
    )
    return standard_error, float(dof)


def half_width(done: Mapping[str, Mapping[int, float]]) -> float | None:
    """The 95% half-width of Welch's interval for after - before from the reruns so far, in the
    accuracies' unit; None until each placement has MIN_RERUNS_EACH reruns."""
    from scipy.special import stdtrit  # Student t quantile; imported here to keep start-up light

    values = [list(done.get(placement, {}).values()) for placement in PLACEMENTS]
    if any(len(v) < MIN_RERUNS_EACH for v in values):
        return None
    standard_error, dof = welch_error(statistics.variance(values[0]), len(values[0]),
                                      statistics.variance(values[1]), len(values[1]))
    return float(stdtrit(dof, 0.975)) * standard_error
