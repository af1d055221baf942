"""The one home of interval statistics: the stop rule's half-width and the verdict's interval."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from analysis.findings.verdict import compare_placements
from study.stats.intervals import MIN_RERUNS_EACH, t_interval, welch_error
from study.stats.looks import anytime_verdict, half_width

SEEDS = list(range(1000, 1040))
BEFORE = [0.80, 0.86, 0.84, 0.78, 0.87, 0.85, 0.83, 0.86, 0.81]
AFTER = [0.84, 0.842, 0.838, 0.845, 0.841, 0.839, 0.843, 0.84]


def _done(before: list[float], after: list[float]) -> dict[str, dict[int, float]]:
    return {"before": dict(zip(SEEDS, before, strict=False)),
            "after": dict(zip(SEEDS, after, strict=False))}


def test_half_width_is_welchs_95_percent_interval_once_each_has_its_minimum():
    before, after = BEFORE, AFTER
    interval = stats.ttest_ind(after, before, equal_var=False).confidence_interval(0.95)

    assert half_width(_done(before, after)) == pytest.approx(
        (interval.high - interval.low) / 2, rel=1e-9)
    assert half_width(_done(before, after[:MIN_RERUNS_EACH - 1])) is None
    assert half_width(_done([0.8] * 8, [0.9] * 8)) == 0.0


def test_the_stop_rule_and_the_verdict_see_the_same_interval():
    comparison = compare_placements(BEFORE, AFTER, interval="welch")

    assert half_width(_done(BEFORE, AFTER)) == pytest.approx(
        (comparison.ci_high - comparison.ci_low) / 2, rel=1e-12)


def test_the_decided_stop_and_the_anytime_verdict_agree():
    rng = np.random.default_rng(4)
    for effect in (0.0, 0.004, 0.01):
        before, after = rng.normal(0.85, 0.005, 40), rng.normal(0.85 + effect, 0.005, 32)
        comparison = compare_placements(before, after)

        verdict, interval = anytime_verdict(_done(list(before), list(after)))
        assert (verdict, interval) == (comparison.verdict, (comparison.ci_low, comparison.ci_high))


def test_t_interval_is_the_student_t_interval_around_the_difference():
    standard_error, dof = welch_error(0.0004, 9, 0.0001, 8)
    low, high = t_interval(0.01, standard_error, dof, 0.90)

    assert (low + high) / 2 == pytest.approx(0.01)
    assert high - 0.01 == pytest.approx(stats.t.ppf(0.95, dof) * standard_error, rel=1e-12)
    assert t_interval(0.01, 0.0, dof, 0.95) == (0.01, 0.01)


def test_welch_error_takes_the_satterthwaite_degrees_of_freedom():
    standard_error, dof = welch_error(0.0004, 9, 0.0001, 8)
    parts = (0.0004 / 9, 0.0001 / 8)

    assert standard_error == pytest.approx(sum(parts) ** 0.5)
    assert dof == pytest.approx(sum(parts) ** 2 / (parts[0] ** 2 / 8 + parts[1] ** 2 / 7))
    assert welch_error(0.0, 5, 0.0, 5) == (0.0, 8.0)


def test_a_paired_half_width_stop_reads_the_interval_the_paired_verdict_reads():
    before = BEFORE[:len(AFTER)]
    comparison = compare_placements(before, AFTER, interval="welch", paired=True)

    paired = half_width(_done(before, AFTER), paired=True)
    assert paired == pytest.approx((comparison.ci_high - comparison.ci_low) / 2, rel=1e-12)
    assert paired != pytest.approx(half_width(_done(before, AFTER)), rel=1e-3)
