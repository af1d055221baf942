from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy import stats

from analysis.verdict import (
    DEFAULT_MARGIN,
    SEEDS_NEEDED_CAP,
    compare_placements,
    describe_interval,
    more_reruns_by_spread,
    prob_greater,
    seeds_to_settle,
    verdict_from_intervals,
)

BEFORE = [0.901, 0.897, 0.903, 0.899, 0.900]
AFTER = [0.911, 0.906, 0.914, 0.909, 0.910, 0.908]


def test_difference_and_intervals_match_welch_from_scipy():
    comparison = compare_placements(BEFORE, AFTER)
    welch = stats.ttest_ind(AFTER, BEFORE, equal_var=False)
    ci95 = welch.confidence_interval(0.95)
    ci90 = welch.confidence_interval(0.90)

    assert comparison.difference == pytest.approx(np.mean(AFTER) - np.mean(BEFORE))
    assert (comparison.ci_low, comparison.ci_high) == pytest.approx((ci95.low, ci95.high))
    assert (comparison.tost_low, comparison.tost_high) == pytest.approx((ci90.low, ci90.high))
    assert comparison.welch_p_value == pytest.approx(welch.pvalue)
    assert (comparison.n_before, comparison.n_after) == (5, 6)
    assert comparison.std_after == pytest.approx(np.std(AFTER, ddof=1))


def test_clear_gap_beyond_the_margin_matters():
    comparison = compare_placements(BEFORE, AFTER)

    assert comparison.verdict == "matters"
    assert comparison.prob_after_greater == 1.0  # every "after" beats every "before"
    assert comparison.bootstrap_low > 0
    assert comparison.seeds_needed is None


def test_significant_but_smaller_than_margin_is_equivalent_not_matters():
    before = np.array([0.9000, 0.9001, 0.8999, 0.9000])
    comparison = compare_placements(before, before + 0.002)

    assert comparison.welch_p_value < 0.001  # "significant", yet practically negligible
    assert comparison.verdict == "equivalent"
    assert comparison.tost_p_value < 0.05


def test_noisy_small_sample_is_inconclusive_with_a_seed_estimate():
    comparison = compare_placements([0.90, 0.91, 0.89], [0.905, 0.89, 0.915])

    assert comparison.verdict == "inconclusive"
    assert comparison.seeds_needed is not None and comparison.seeds_needed > 3


def test_ties_count_half_in_prob_after_greater():
    assert compare_placements([0.9, 0.9], [0.9, 0.9]).prob_after_greater == 0.5


def test_identical_constant_values_do_not_crash_and_are_equivalent():
    comparison = compare_placements([0.9, 0.9, 0.9], [0.9, 0.9, 0.9])

    assert comparison.verdict == "equivalent"
    assert comparison.ci_low == comparison.ci_high == 0.0


def test_bootstrap_is_seeded():
    first = compare_placements(BEFORE, AFTER, seed=1)
    again = compare_placements(BEFORE, AFTER, seed=1)

    assert (first.bootstrap_low, first.bootstrap_high) == (
        again.bootstrap_low,
        again.bootstrap_high,
    )


@pytest.mark.parametrize(
    ("before", "after", "margin", "message"),
    [
        ([0.9], [0.9, 0.91], DEFAULT_MARGIN, "`before` must hold at least 2 finite"),
        ([0.9, 0.91], [0.9, float("nan")], DEFAULT_MARGIN, "`after` must hold at least 2 finite"),
        ([0.9, 0.91], [0.9, 0.91], 0.0, r"`margin` must be in \(0, 1\), but got 0.0"),
        ([0.9, 0.91], [0.9, 0.91], 1.5, r"`margin` must be in \(0, 1\), but got 1.5"),
    ],
)
def test_bad_arguments_are_rejected_with_the_rule(before, after, margin, message):
    with pytest.raises(ValueError, match=message):
        compare_placements(before, after, margin)


def test_seeds_to_settle_grows_with_noise_and_caps_on_the_margin():
    assert seeds_to_settle(0.0, 0.0, 0.005) == 2
    assert seeds_to_settle(0.0, 0.002, 0.005) < seeds_to_settle(0.0, 0.004, 0.005)
    assert seeds_to_settle(0.02, 0.003, 0.005) < seeds_to_settle(0.006, 0.003, 0.005)
    assert seeds_to_settle(0.0049, 0.003, 0.005) == SEEDS_NEEDED_CAP + 1


def test_seeds_to_settle_is_the_first_count_that_settles():
    # Brute force over n of the same criterion: 90% interval + 80% power inside the margin.
    def settles(n: int) -> bool:
        dof = 2 * n - 2
        critical = stats.t.ppf(0.95, dof) + stats.t.ppf(0.8, dof)
        return critical * 0.003 * np.sqrt(2 / n) < 0.005 - 0.002

    expected = next(n for n in range(2, 1000) if settles(n))
    assert seeds_to_settle(0.002, 0.003, 0.005) == expected


def test_prob_greater_is_mann_whitney_u_over_pairs():
    rng = np.random.default_rng(0)
    after, before = rng.normal(size=7).round(1), rng.normal(size=5).round(1)  # with ties

    expected = stats.mannwhitneyu(after, before).statistic / (7 * 5)
    assert prob_greater(after, before) == pytest.approx(expected)


@pytest.mark.parametrize(("difference", "ci95", "ci90", "expected"), [
    (0.001, (-0.004, 0.006), (-0.003, 0.004), "equivalent"),
    (0.010, (0.006, 0.014), (0.007, 0.013), "matters"),
    (-0.010, (-0.014, -0.006), (-0.013, -0.007), "matters"),
    (0.003, (0.001, 0.005), (0.0015, 0.0045), "equivalent"),  # real but inside the margin
    (0.004, (0.001, 0.007), (0.0015, 0.0065), "inconclusive"),  # excludes 0, below margin
    (0.010, (-0.02, 0.04), (-0.01, 0.03), "inconclusive"),
])
def test_verdict_from_intervals_is_the_three_way_rule(difference, ci95, ci90, expected):
    assert verdict_from_intervals(difference, ci95, ci90, margin=0.005) == expected


def test_an_interval_at_the_clip_is_not_yet_bounded():
    assert describe_interval(-0.008, 0.0142) == "[-0.80, +1.42] pp"
    assert describe_interval(-1.0, 1.0) == "not yet bounded"
    assert describe_interval(-0.2, 1.0) == "not yet bounded"


def _inconclusive(std_before: float, std_after: float, n: int = 10, difference: float = 0.0):
    return dataclasses.replace(
        compare_placements(BEFORE, AFTER), verdict="inconclusive", difference=difference,
        std_before=std_before, std_after=std_after, n_before=n, n_after=n)


def test_more_reruns_by_spread_at_equal_spreads_is_seeds_to_settle_for_each():
    needed = seeds_to_settle(0.0, 0.01, DEFAULT_MARGIN)
    more = more_reruns_by_spread(_inconclusive(0.01, 0.01))

    assert abs(more["before"] - more["after"]) <= 1  # alternating, "before" first on a tie
    assert abs(more["before"] + more["after"] - 2 * (needed - 10)) <= 2


def test_more_reruns_by_spread_go_to_the_noisier_and_take_fewer_in_all():
    std_before, std_after = 0.027, 0.005
    needed = seeds_to_settle(0.0, np.sqrt((std_before**2 + std_after**2) / 2), DEFAULT_MARGIN)
    more = more_reruns_by_spread(_inconclusive(std_before, std_after))

    assert more["before"] > 5 * more["after"]
    assert more["before"] + more["after"] < 0.75 * 2 * (needed - 10)


def test_more_reruns_by_spread_only_for_an_inconclusive_verdict_within_the_cap():
    assert more_reruns_by_spread(compare_placements(BEFORE, [a + 0.03 for a in AFTER])) is None
    on_the_margin = _inconclusive(0.027, 0.005, difference=-0.9 * DEFAULT_MARGIN)
    assert more_reruns_by_spread(on_the_margin) is None
