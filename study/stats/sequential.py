"""Confidence sequences for after - before: intervals that stay valid however often one looks.

A 95% interval for a fixed number of reruns, recomputed after every rerun and acted on when it
first excludes zero, claims a difference far more often than 5% of the time when there is none
(27-30% for looks every 5 reruns up to 150, ../shared/REFERENCE.md). A confidence sequence
covers the true value at every number of reruns at once, so it may be looked at after each one
and the reruns stopped when it decides.

The construction is the asymptotic confidence sequence of Waudby-Smith, Arnold, Wu and Ramdas
("Time-uniform central limit theory and asymptotic confidence sequences", Annals of Statistics
2024, Theorem 2.2): Robbins' normal mixture boundary on the standardised running sum, with the
sample standard deviation plugged in. For t values with mean m_t and standard deviation s_t,

    m_t +- s_t * sqrt(2 (t rho^2 + 1) / (t^2 rho^2) * log(sqrt(t rho^2 + 1) / alpha))

covers the mean at every t with probability tending to 1 - alpha. Its width goes with the
measured spread (about 0.5 pp here), not with the [0, 1] range of an accuracy, which is what
lets it decide a 0.5 pp margin within a few hundred reruns; Hoeffding or empirical Bernstein
sequences are valid without asymptotics but need thousands. `rho` sets where the sequence is
narrowest: `optimal_rho2(t_opt, alpha)` minimises its width at `t_opt` values. The reference
package `confseq` was not used: it builds from C++ sources (Boost, scikit-build, pybind11 2.6)
with no wheels, and holds no asymptotic sequence.

Unpaired reruns: one sequence per placement at alpha / 2 each; both hold at every time with
probability at least 1 - alpha, so the difference of their ends is a sequence for the
difference of means. It stays valid whichever placement reruns next, as long as that choice
depends only on the reruns already done (`study.reruns.allocation` "by-spread" does): each
placement's sequence is then one over its own reruns in the order they came. Paired reruns
(`after[i]` and `before[i]` share seed i): one sequence on the differences.

Pure arithmetic (numpy, scipy's Lambert W): `analysis` reads its verdict from the same function
the stop rule of `study.confirm` uses.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np

__all__ = ["DEFAULT_T_OPT", "confidence_sequence", "mean_sequence", "normal_mixture_margin",
           "optimal_rho2"]

# Reruns per placement where the sequence is narrowest. Decisions here come between about 30
# reruns (the minimum before any, `study.stats.decision`) and 200 (the most `--stop decided`
# asks for by default); 100 keeps the width within a few per cent of its best over that range.
DEFAULT_T_OPT = 100


@functools.lru_cache(maxsize=64)  # every look asks again for the same few levels
def optimal_rho2(t_opt: float, alpha: float) -> float:
    """The rho^2 that makes the standard margin narrowest at `t_opt` values.

    Setting the derivative of the margin in u = t rho^2 to zero gives
    (u + 1) - log(u + 1) = 1 - 2 log(alpha), so u = -W_{-1}(-alpha^2 / e) - 1 with W_{-1} the
    lower branch of Lambert's W.

    Args:
        t_opt: Values at which the margin is to be narrowest, positive.
        alpha: Error level in (0, 1).
    """
    from scipy.special import lambertw

    _check_level(alpha)
    if not t_opt > 0:
        raise ValueError(f"`t_opt` must be positive, but got {t_opt}.")
    u = -lambertw(-alpha**2 / math.e, k=-1).real - 1.0
    return float(u / t_opt)


def normal_mixture_margin(t: int, rho2: float, alpha: float) -> float:
    """The half-width, in standard deviations, of the sequence after `t` values.

    Args:
        t: Values so far, at least 1.
        rho2: The mixture's tuning parameter, positive (`optimal_rho2`).
        alpha: Error level in (0, 1).
    """
    _check_level(alpha)
    if t < 1 or not rho2 > 0:
        raise ValueError(f"`t` must be at least 1 and `rho2` positive, but got t={t}, "
                         f"rho2={rho2}.")
    spread = t * rho2 + 1.0
    return math.sqrt(2.0 * spread / (t * t * rho2) * math.log(math.sqrt(spread) / alpha))


def mean_sequence(values: Sequence[float], *, alpha: float = 0.05,
                  t_opt: float = DEFAULT_T_OPT) -> tuple[float, float]:
    """The confidence sequence for the mean of `values`, at the time of the last one.

    Args:
        values: At least 2 finite values, in the order they arrived.
        alpha: The probability that the sequence misses the mean at any time.
        t_opt: Where the sequence is narrowest (`optimal_rho2`).

    Returns:
        (low, high).
    """
    array = np.asarray(values, dtype=float)
    if array.ndim != 1 or array.size < 2 or not np.all(np.isfinite(array)):
        raise ValueError(f"`values` must hold at least 2 finite numbers, but got "
                         f"{array.tolist()}.")
    half = float(array.std(ddof=1)) * normal_mixture_margin(
        array.size, optimal_rho2(t_opt, alpha), alpha)
    mean = float(array.mean())
    return mean - half, mean + half


def confidence_sequence(after: Sequence[float], before: Sequence[float], *,
                        alpha: float = 0.05, paired: bool = False,
                        t_opt: float = DEFAULT_T_OPT) -> tuple[float, float]:
    """The anytime-valid interval for mean(after) - mean(before), clipped to [-1, 1].

    Called on every prefix of the reruns as they arrive, the intervals all hold together with
    probability about 1 - alpha (see the module docstring for the construction).

    Args:
        after: Test accuracies in [0, 1] with BN after the activation, in arrival order.
        before: The same with BN before.
        alpha: Error level in (0, 1).
        paired: `after[i]` and `before[i]` share seed i (equal lengths): a sequence on the
            differences, which pairing makes less spread when the two are correlated.
        t_opt: Reruns per placement (pairs, when paired) where the sequence is narrowest.

    Returns:
        (low, high) of the difference.

    Raises:
        ValueError: for fewer than 2 values per placement, non-finite values, an alpha
            outside (0, 1), or paired samples of unequal length.
    """
    _check_level(alpha)
    if paired:
        if len(after) != len(before):
            raise ValueError(f"paired `after` and `before` must have equal lengths, but got "
                             f"{len(after)} and {len(before)}.")
        differences = np.asarray(after, dtype=float) - np.asarray(before, dtype=float)
        low, high = mean_sequence(differences, alpha=alpha, t_opt=t_opt)
    else:
        after_low, after_high = mean_sequence(after, alpha=alpha / 2, t_opt=t_opt)
        before_low, before_high = mean_sequence(before, alpha=alpha / 2, t_opt=t_opt)
        low, high = after_low - before_high, after_high - before_low
    return max(low, -1.0), min(high, 1.0)


def _check_level(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"`alpha` must be in (0, 1), but got {alpha}.")
