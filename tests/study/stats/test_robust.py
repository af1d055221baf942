"""Median, IQM and P(after > before), with stratified-bootstrap intervals."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from study.stats.robust import interquartile_mean, prob_greater, robust_summary


def test_a_skewed_placement_is_seen_by_its_median_not_its_mean():
    rng = np.random.default_rng(0)
    # "before": a tight core 1.5 pp above "after", one in five seeds 7 pp below it.
    core = rng.normal(0.865, 0.004, 80)
    before = np.concatenate([core, rng.normal(0.78, 0.01, 20)])
    after = rng.normal(0.85, 0.004, 60)

    summary = robust_summary(before, after, seed=1)

    assert after.mean() - before.mean() > 0  # the mean says "after"
    assert summary.median_high < 0 and summary.iqm_high < 0  # the typical seed says "before"
    assert summary.median_low <= summary.median_difference <= summary.median_high
    assert summary.prob_low <= summary.prob_after_greater <= summary.prob_high < 0.5


def test_the_intervals_are_seeded():
    before, after = [0.85, 0.86, 0.84, 0.87], [0.86, 0.87, 0.85]
    assert robust_summary(before, after, seed=3) == robust_summary(before, after, seed=3)


def test_interquartile_mean_drops_a_quarter_at_each_end():
    assert interquartile_mean([0, 1, 2, 3, 4, 5, 6, 100]) == pytest.approx(3.5)


def test_prob_greater_is_mann_whitney_u_over_pairs():
    rng = np.random.default_rng(0)
    after, before = rng.normal(size=7).round(1), rng.normal(size=5).round(1)  # with ties

    expected = stats.mannwhitneyu(after, before).statistic / (7 * 5)
    assert prob_greater(after, before) == pytest.approx(expected)
