from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from analysis.findings.verdict import compare_placements, describe_interval
from study.stats.decision import DEFAULT_MARGIN
from study.stats.robust import prob_greater
from study.stats.sequential import confidence_sequence

BEFORE = [0.901, 0.897, 0.903, 0.899, 0.900]
AFTER = [0.911, 0.906, 0.914, 0.909, 0.910, 0.908]


def welch(before, after, *args, **kwargs):
    """The comparison on Welch's fixed-n interval, for a design whose n was fixed in advance."""
    return compare_placements(before, after, *args, interval="welch", **kwargs)


def test_difference_and_intervals_match_welch_from_scipy():
    comparison = welch(BEFORE, AFTER)
    scipy_welch = stats.ttest_ind(AFTER, BEFORE, equal_var=False)
    ci95 = scipy_welch.confidence_interval(0.95)
    ci90 = scipy_welch.confidence_interval(0.90)

    assert comparison.difference == pytest.approx(np.mean(AFTER) - np.mean(BEFORE))
    assert (comparison.ci_low, comparison.ci_high) == pytest.approx((ci95.low, ci95.high))
    assert (comparison.tost_low, comparison.tost_high) == pytest.approx((ci90.low, ci90.high))
    assert comparison.welch_p_value == pytest.approx(scipy_welch.pvalue)
    assert (comparison.welch_low, comparison.welch_high) == (comparison.ci_low, comparison.ci_high)
    assert (comparison.n_before, comparison.n_after) == (5, 6)
    assert comparison.std_after == pytest.approx(np.std(AFTER, ddof=1))


def test_clear_gap_beyond_the_margin_matters():
    comparison = welch(BEFORE, AFTER)

    assert comparison.verdict == "matters"
    assert comparison.prob_after_greater == 1.0  # every "after" beats every "before"
    assert comparison.bootstrap_low > 0
    assert comparison.seeds_needed is None


def test_significant_but_smaller_than_margin_is_equivalent_not_matters():
    before = np.array([0.9000, 0.9001, 0.8999, 0.9000])
    comparison = welch(before, before + 0.002)

    assert comparison.welch_p_value < 0.001  # "significant", yet practically negligible
    assert comparison.verdict == "equivalent"
    assert comparison.tost_p_value < 0.05


def test_noisy_small_sample_is_inconclusive_with_a_seed_estimate():
    comparison = welch([0.90, 0.91, 0.89], [0.905, 0.89, 0.915])

    assert comparison.verdict == "inconclusive"
    assert comparison.seeds_needed is not None and comparison.seeds_needed > 3


def test_ties_count_half_in_prob_after_greater():
    assert welch([0.9, 0.9], [0.9, 0.9]).prob_after_greater == 0.5


def test_identical_constant_values_do_not_crash_and_are_equivalent():
    comparison = welch([0.9, 0.9, 0.9], [0.9, 0.9, 0.9])

    assert comparison.verdict == "equivalent"
    assert comparison.ci_low == comparison.ci_high == 0.0


def test_bootstrap_is_seeded():
    first = welch(BEFORE, AFTER, seed=1)
    again = welch(BEFORE, AFTER, seed=1)

    assert (first.bootstrap_low, first.bootstrap_high) == (
        again.bootstrap_low,
        again.bootstrap_high,
    )


@pytest.mark.parametrize(
    ("before", "after", "margin", "message"),
    [
        ([0.9], [0.9, 0.91], DEFAULT_MARGIN, "`before` must hold at least 2 finite"),
        ([0.9, 0.91], [0.9, float("nan")], DEFAULT_MARGIN, "`after` must hold at least 2 finite"),
        ([0.9, 0.91], [0.9, 0.91], 0.0,
         r"`margin` must be a fraction of accuracy in \(0, 1\), but got 0.0"),
        ([0.9, 0.91], [0.9, 0.91], 1.5,
         r"`margin` must be a fraction of accuracy in \(0, 1\), but got 1.5"),
    ],
)
def test_bad_arguments_are_rejected_with_the_rule(before, after, margin, message):
    with pytest.raises(ValueError, match=message):
        compare_placements(before, after, margin)


def test_prob_greater_is_mann_whitney_u_over_pairs():
    rng = np.random.default_rng(0)
    after, before = rng.normal(size=7).round(1), rng.normal(size=5).round(1)  # with ties

    expected = stats.mannwhitneyu(after, before).statistic / (7 * 5)
    assert prob_greater(after, before) == pytest.approx(expected)


def test_an_interval_at_the_clip_is_not_yet_bounded():
    assert describe_interval(-0.008, 0.0142) == "[-0.80, +1.42] pp"
    assert describe_interval(-1.0, 1.0) == "not yet bounded"
    assert describe_interval(-0.2, 1.0) == "not yet bounded"


def test_welch_calls_a_difference_inside_the_margin_nonzero_not_matters():
    before = np.array([0.900, 0.901, 0.899, 0.900, 0.902, 0.898])
    comparison = welch(before, before + 0.004)  # 0.4 pp, clear of zero, inside 0.5 pp

    assert comparison.ci_low > 0 and comparison.ci_low < DEFAULT_MARGIN
    assert comparison.verdict == "nonzero" and comparison.seeds_needed is not None


def test_the_anytime_verdict_is_decided_on_the_confidence_sequence():
    rng = np.random.default_rng(0)
    before, after = rng.normal(0.86, 0.005, 40), rng.normal(0.875, 0.005, 35)

    comparison = compare_placements(before, after)

    assert comparison.interval == "anytime"
    assert (comparison.ci_low, comparison.ci_high) == confidence_sequence(after, before)
    assert comparison.ci_low >= DEFAULT_MARGIN and comparison.verdict == "matters"
    # Welch's interval is reported beside it, and narrower: it ignores the looks.
    assert comparison.ci_low < comparison.welch_low < comparison.welch_high < comparison.ci_high


def test_the_anytime_verdict_decides_nothing_below_the_minimum():
    comparison = compare_placements(BEFORE, [a + 0.03 for a in AFTER])  # 5 and 6 reruns

    assert comparison.verdict == "inconclusive" and comparison.below_minimum
    assert comparison.seeds_needed >= comparison.minimum == 30
    assert welch(BEFORE, [a + 0.03 for a in AFTER]).verdict == "matters"


def test_an_unknown_interval_is_refused():
    with pytest.raises(ValueError, match=r"`interval` must be one of \['anytime', 'welch'\], "
                                         r"but got 'bonferroni'"):
        compare_placements(BEFORE, AFTER, interval="bonferroni")


def test_paired_comparison_needs_equal_lengths():
    with pytest.raises(ValueError, match="paired `before` and `after` must have equal lengths"):
        compare_placements([0.8, 0.81, 0.82], [0.8, 0.81], paired=True)


def test_pairing_saves_nothing_on_independent_pairs_and_much_on_shared_seed_effects():
    rng = np.random.default_rng(4)
    before, after = rng.normal(0.8, 0.01, 400), rng.normal(0.8, 0.01, 400)
    independent = compare_placements(before, after, paired=True, n_bootstrap=0)
    assert abs(independent.pair_correlation) < 0.1 and abs(independent.variance_saved) < 0.1

    shared = rng.normal(0, 0.01, 400)
    correlated = compare_placements(before + shared, after + shared, paired=True,
                                    n_bootstrap=0)
    assert correlated.pair_correlation > 0.4 and correlated.variance_saved > 0.4
    unpaired = compare_placements(before + shared, after + shared, n_bootstrap=0)
    assert unpaired.pair_correlation is None and not unpaired.paired
    assert (correlated.ci_high - correlated.ci_low) < (unpaired.ci_high - unpaired.ci_low)
