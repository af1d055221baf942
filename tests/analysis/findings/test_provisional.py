from __future__ import annotations

import numpy as np
import pytest

from analysis.findings.provisional import compare_top_trials, decide_in_any_units, top_k_mean

RNG = np.random.default_rng(5)
BEFORE = RNG.normal(0.88, 0.02, 14)
AFTER = RNG.normal(0.88, 0.02, 11)


def test_top_k_mean_takes_the_k_largest():
    assert top_k_mean(np.array([0.1, 0.9, 0.5, 0.7]), 2) == pytest.approx(0.8)
    assert list(top_k_mean(np.array([[1.0, 2.0, 3.0], [6.0, 5.0, 4.0]]), 2)) == [2.5, 5.5]


def test_difference_is_between_the_top_k_means_and_inside_both_intervals():
    comparison = compare_top_trials(BEFORE, AFTER, k=3, n_permutations=300)

    assert comparison.difference == pytest.approx(top_k_mean(AFTER, 3) - top_k_mean(BEFORE, 3))
    assert comparison.mean_after == pytest.approx(top_k_mean(AFTER, 3))
    assert comparison.ci_low < comparison.tost_low < comparison.difference
    assert comparison.difference < comparison.tost_high < comparison.ci_high
    assert comparison.n_before == comparison.n_after == 3


def test_interval_shifts_with_the_data():
    # Adding c to every "after" value shifts the permutation interval by exactly c.
    base = compare_top_trials(BEFORE, AFTER, k=3, n_permutations=300)
    shifted = compare_top_trials(BEFORE, AFTER + 0.05, k=3, n_permutations=300)

    assert shifted.ci_low == pytest.approx(base.ci_low + 0.05, abs=1e-5)
    assert shifted.ci_high == pytest.approx(base.ci_high + 0.05, abs=1e-5)
    assert shifted.verdict == "matters"


def test_order_of_the_input_does_not_matter():
    first = compare_top_trials(BEFORE, AFTER, k=3, n_permutations=200)
    shuffled = compare_top_trials(BEFORE[::-1], AFTER[::-1], k=3, n_permutations=200)

    assert first == shuffled


@pytest.mark.parametrize("k", [1, 12])
def test_k_outside_two_to_smaller_pool_is_rejected(k):
    with pytest.raises(
        ValueError, match=rf"`k` must be in \[2, 11\] \(the smaller pool\), but got {k}"
    ):
        compare_top_trials(BEFORE, AFTER, k=k)


def test_with_too_few_trials_the_interval_is_the_whole_feasible_range():
    before = np.array([0.72, 0.73])
    after = np.array([0.09, 0.71])

    comparison = compare_top_trials(before, after, k=2, margin=0.005)

    assert (comparison.ci_low, comparison.ci_high) == (-1.0, 1.0)
    assert comparison.verdict == "inconclusive"


def test_a_study_that_minimises_compares_its_lowest_trials_mirrored():
    # Lower is better: the same values negated give the same test, mirrored back.
    low = compare_top_trials(-BEFORE, -AFTER, k=3, n_permutations=300, lower_is_better=True)
    high = compare_top_trials(BEFORE, AFTER, k=3, n_permutations=300)

    assert low.verdict == high.verdict
    assert low.difference == pytest.approx(-high.difference, abs=1e-12)
    assert (low.ci_low, low.ci_high) == pytest.approx((-high.ci_high, -high.ci_low), abs=1e-12)
    assert low.mean_before == pytest.approx(-high.mean_before)  # the 3 lowest, not highest
    assert low.mean_before == pytest.approx(np.sort(-BEFORE)[:3].mean())


def test_values_in_other_units_take_any_margin_and_leave_unbounded_ends_infinite():
    # Losses in the thousands, "after" lower by 300: a margin of 100 is a fine size there.
    before, after = 1000 * (2 - BEFORE), 1000 * (2 - AFTER) - 300

    comparison = compare_top_trials(before, after, k=3, margin=100.0, n_permutations=300,
                                    lower_is_better=True, fraction=False)

    assert comparison.verdict == "matters" and comparison.ci_high < -100
    assert comparison.seeds_needed is None  # no seed-to-seed spread assumed in these units
    few = compare_top_trials([5.0, 6.0], [1.0, 9.0], k=2, margin=0.5, fraction=False)
    assert (few.ci_low, few.ci_high) == (-np.inf, np.inf) and few.verdict == "inconclusive"
    with pytest.raises(ValueError, match=r"`margin` must be positive and finite, but got 0.0"):
        compare_top_trials(before, after, k=3, margin=0.0, fraction=False)


@pytest.mark.parametrize(("interval", "margin", "verdict"), [
    ((150.0, 300.0), 100.0, "matters"), ((-50.0, 40.0), 100.0, "equivalent"),
    ((20.0, 300.0), 100.0, "nonzero"), ((-150.0, 300.0), 100.0, "inconclusive"),
    ((2.0, 3.0), 1.0, "matters"),  # a margin of exactly 1 is not a whole accuracy here
])
def test_the_verdict_rule_is_the_same_at_any_scale(interval, margin, verdict):
    assert decide_in_any_units(*interval, margin, interval) == verdict
