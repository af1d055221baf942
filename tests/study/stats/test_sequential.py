"""The anytime-valid interval: its formula, its tuning, and its coverage under every look."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from study.stats.sequential import (
    confidence_sequence,
    mean_sequence,
    normal_mixture_margin,
    optimal_rho2,
)


def test_the_margin_is_the_normal_mixture_boundary_of_the_paper():
    # Waudby-Smith et al. 2024, Theorem 2.2, by hand at t = 100, rho^2 = 0.05, alpha = 0.05:
    # sqrt(2 * 6 / (10000 * 0.05) * log(sqrt(6) / 0.05)) = sqrt(0.024 * 3.891820...) = 0.30562
    assert normal_mixture_margin(100, 0.05, 0.05) == pytest.approx(
        math.sqrt(0.024 * math.log(math.sqrt(6) / 0.05)), rel=1e-12)
    assert normal_mixture_margin(100, 0.05, 0.05) == pytest.approx(0.30562, abs=1e-5)


@pytest.mark.parametrize("alpha", [0.01, 0.025, 0.05, 0.1])
@pytest.mark.parametrize("t_opt", [30, 100, 400])
def test_optimal_rho2_makes_the_margin_narrowest_at_t_opt(alpha, t_opt):
    best = minimize_scalar(lambda rho2: normal_mixture_margin(t_opt, rho2, alpha),
                           bounds=(1e-8, 10.0), method="bounded", options={"xatol": 1e-10})

    assert optimal_rho2(t_opt, alpha) == pytest.approx(best.x, rel=1e-4)


def test_the_sequence_is_wider_than_a_fixed_n_interval_and_narrows_like_one():
    rho2 = optimal_rho2(100, 0.05)
    margins = [normal_mixture_margin(t, rho2, 0.05) * math.sqrt(t) for t in (30, 100, 400)]

    assert all(1.96 < margin < 3.5 for margin in margins)  # z(0.975) = 1.96 at fixed n
    assert min(margins) == margins[1]  # narrowest (in sqrt(t) units) at t_opt


def test_unpaired_is_the_union_of_two_sequences_at_half_the_level():
    after, before = [0.86, 0.87, 0.85, 0.865], [0.85, 0.84, 0.855, 0.845, 0.85]
    after_low, after_high = mean_sequence(after, alpha=0.025)
    before_low, before_high = mean_sequence(before, alpha=0.025)

    assert confidence_sequence(after, before) == pytest.approx(
        (after_low - before_high, after_high - before_low))


def test_paired_is_the_sequence_of_the_differences():
    after, before = np.array([0.86, 0.87, 0.85, 0.865]), np.array([0.85, 0.86, 0.845, 0.85])

    assert confidence_sequence(after, before, paired=True) == mean_sequence(after - before)


def test_an_interval_is_clipped_to_the_possible_differences():
    assert confidence_sequence([0.0, 1.0], [1.0, 0.0]) == (-1.0, 1.0)


@pytest.mark.parametrize(("arguments", "message"), [
    ({"after": [0.9], "before": [0.9, 0.8]}, r"`values` must hold at least 2 finite numbers"),
    ({"after": [0.9, 0.8], "before": [0.9, 0.8], "alpha": 0.0}, r"`alpha` must be in \(0, 1\)"),
    ({"after": [0.9, 0.8, 0.7], "before": [0.9, 0.8], "paired": True},
     r"paired `after` and `before` must have equal lengths, but got 3 and 2"),
])
def test_bad_input_is_refused_with_the_rule(arguments, message):
    with pytest.raises(ValueError, match=message):
        confidence_sequence(**arguments)


def test_looked_at_after_every_value_it_misses_the_mean_rarely():
    """300 normal streams of 300 values, one 95% sequence looked at after each value from the
    30th on (the minimum before a decision): measured 4.3% (5.0% from the 10th on: the
    plugged-in spread is noisy at small counts, one reason for the minimum).

    A fixed-n 95% interval looked at as often misses in far more (tests/analysis/
    test_calibration.py measures both on the confirm loop).
    """
    rng = np.random.default_rng(7)
    missed = 0
    for _ in range(300):
        stream = rng.normal(0.0, 1.0, 300)
        missed += any(not (low <= 0.0 <= high) for low, high in (
            mean_sequence(stream[:t]) for t in range(30, 301)))
    print(f"\nsome look misses the mean in {missed / 300:.3f} of streams")
    assert missed / 300 <= 0.05
