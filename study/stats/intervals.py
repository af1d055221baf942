"""The intervals of after - before that both the stop rule and the verdict compute.

Welch's interval for a difference of two means with unequal spreads: `welch_error` gives its
standard error and the Welch-Satterthwaite degrees of freedom, `t_interval` the interval at a
level, and `half_width` the 95% half-width of the reruns so far, which
`study.confirm --stop-at-half-width` stops on. `analysis.findings.verdict` builds its intervals
from the same functions, so the stop rule and the verdict cannot disagree about an interval.
Light on purpose: scipy is imported inside the functions that need its t quantile.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping

__all__ = ["MIN_RERUNS_EACH", "half_width", "t_half_width", "t_interval", "welch_error"]

MIN_RERUNS_EACH = 8  # the floor per placement; a std from fewer swings too much to use


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


def t_half_width(standard_error: float, dof: float, level: float) -> float:
    """Half the width of the two-sided Student t interval at `level` for this standard error."""
    from scipy.special import stdtrit  # Student t quantile; here to keep start-up light

    return float(stdtrit(dof, 0.5 + level / 2)) * standard_error


def t_interval(difference: float, standard_error: float, dof: float, level: float
               ) -> tuple[float, float]:
    """The two-sided Student t interval at `level` around `difference`."""
    width = t_half_width(standard_error, dof, level)
    return difference - width, difference + width


def half_width(done: Mapping[object, Mapping[int, float]]) -> float | None:
    """The 95% half-width of Welch's interval for value - reference from the reruns so far, in
    the accuracies' unit (the widest, with several values); None until each value has
    MIN_RERUNS_EACH reruns.

    Args:
        done: Per value of the question (the reference first), the test accuracy of each seed
            rerun.
    """
    values = [list(found.values()) for found in done.values()]
    if len(values) < 2 or any(len(v) < MIN_RERUNS_EACH for v in values):
        return None
    reference, *others = values
    return max(t_half_width(*welch_error(statistics.variance(reference), len(reference),
                                         statistics.variance(other), len(other)), 0.95)
               for other in others)
