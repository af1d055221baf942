"""The fixed-n intervals of after - before: Welch's for two samples, the paired t for pairs.

`difference_error` gives the difference of means with its standard error and degrees of
freedom, Welch's (Welch-Satterthwaite) for two independent samples or the paired t's for the
differences of pairs; `fixed_n_intervals` the interval at 1 - alpha and the one at 1 - 2 alpha
that the two one-sided tests (TOST) judge equivalence on; `t_test_p_values` the two-sided
p-value of "no difference" and TOST's. These are the only formulas of the kind: the verdict's
Welch interval (`analysis --interval welch`), the half-width the stop rule
`study.confirm --stop half-width` reads (`study.stats.looks.half_width`) and the simulated
fixed-n looks of `analysis.calibration.peeking` all call them, so a paired stop and a paired
verdict see the same interval. Light on purpose: scipy is imported inside the functions that
need it, numpy inside the one that takes arrays.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["MIN_RERUNS_EACH", "difference_error", "fixed_n_intervals", "t_half_width",
           "t_interval", "t_test_p_values", "welch_error"]

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


def difference_error(before: Sequence[float], after: Sequence[float], *, paired: bool = False
                     ) -> tuple[float, float, float]:
    """(mean(after) - mean(before), its standard error, degrees of freedom).

    Args:
        before: At least 2 values of the reference.
        after: At least 2 values of the value compared.
        paired: `before[i]` and `after[i]` share seed i (equal lengths): the paired t on the
            differences; otherwise Welch's for two independent samples.
    """
    import numpy as np  # here: the commands import this module before numpy is needed

    before, after = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
    if paired:
        differences = after - before
        return (float(differences.mean()),
                float(differences.std(ddof=1) / math.sqrt(before.size)), float(before.size - 1))
    standard_error, dof = welch_error(before.var(ddof=1), before.size,
                                      after.var(ddof=1), after.size)
    return float(after.mean() - before.mean()), standard_error, dof


def t_half_width(standard_error: float, dof: float, level: float) -> float:
    """Half the width of the two-sided Student t interval at `level` for this standard error."""
    from scipy.special import stdtrit  # Student t quantile; here to keep start-up light

    return float(stdtrit(dof, 0.5 + level / 2)) * standard_error


def t_interval(difference: float, standard_error: float, dof: float, level: float
               ) -> tuple[float, float]:
    """The two-sided Student t interval at `level` around `difference`."""
    width = t_half_width(standard_error, dof, level)
    return difference - width, difference + width


def fixed_n_intervals(before: Sequence[float], after: Sequence[float], *, paired: bool = False,
                      alpha: float = 0.05) -> tuple[tuple[float, float], tuple[float, float]]:
    """The t interval of after - before at 1 - alpha, and TOST's at 1 - 2 alpha.

    Valid for a number of reruns fixed in advance and read once (`difference_error` for the
    arguments).
    """
    difference, standard_error, dof = difference_error(before, after, paired=paired)
    return (t_interval(difference, standard_error, dof, 1 - alpha),
            t_interval(difference, standard_error, dof, 1 - 2 * alpha))


def t_test_p_values(difference: float, standard_error: float, dof: float, margin: float
                    ) -> tuple[float, float]:
    """(two-sided p-value of "no difference", TOST's p-value of "at least `margin` apart")."""
    from scipy.special import stdtr  # Student t cdf, without the overhead of scipy.stats

    if standard_error == 0.0:
        return (1.0 if difference == 0.0 else 0.0), (0.0 if abs(difference) < margin else 1.0)
    return (float(2 * stdtr(dof, -abs(difference) / standard_error)),
            float(max(stdtr(dof, -(difference + margin) / standard_error),
                      stdtr(dof, (difference - margin) / standard_error))))
