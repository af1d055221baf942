"""How many reruns would settle an undecided comparison, on either interval."""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy import stats

from analysis.findings.settling import SEEDS_NEEDED_CAP, more_reruns_by_spread, seeds_to_settle
from analysis.findings.verdict import compare_placements
from study.stats.decision import DEFAULT_MARGIN, MIN_RERUNS_TO_DECIDE
from study.stats.sequential import normal_mixture_margin, optimal_rho2

BEFORE = [0.901, 0.897, 0.903, 0.899, 0.900]
AFTER = [0.911, 0.906, 0.914, 0.909, 0.910, 0.908]


def test_seeds_to_settle_grows_with_noise_and_caps_on_the_margin():
    for interval in ("welch", "anytime"):
        assert (seeds_to_settle(0.0, 0.002, 0.005, interval=interval)
                < seeds_to_settle(0.0, 0.004, 0.005, interval=interval))
        assert (seeds_to_settle(0.02, 0.003, 0.005, interval=interval)
                < seeds_to_settle(0.008, 0.003, 0.005, interval=interval))
        assert seeds_to_settle(0.005, 0.003, 0.005, interval=interval) == SEEDS_NEEDED_CAP + 1
    assert seeds_to_settle(0.0, 0.0, 0.005, interval="welch") == 2
    assert seeds_to_settle(0.0, 0.0, 0.005) == MIN_RERUNS_TO_DECIDE  # anytime: the minimum


def test_welch_settles_at_the_first_count_whose_interval_clears_the_margin():
    # Brute force over n of the same criterion: 95% interval + 80% power beyond the margin.
    def settles(n: int) -> bool:
        dof = 2 * n - 2
        critical = stats.t.ppf(0.975, dof) + stats.t.ppf(0.8, dof)
        return critical * 0.003 * np.sqrt(2 / n) < 0.009 - 0.005

    expected = next(n for n in range(2, 1000) if settles(n))
    assert seeds_to_settle(0.009, 0.003, 0.005, interval="welch") == expected


def test_anytime_settles_at_the_first_count_whose_sequence_fits_inside_the_margin():
    rho2 = optimal_rho2(100, 0.025)

    def settles(n: int) -> bool:
        half = 2 * 0.003 * normal_mixture_margin(n, rho2, 0.025)
        return n >= 30 and half + stats.norm.ppf(0.8) * 0.003 * np.sqrt(2 / n) < 0.005 - 0.002

    expected = next(n for n in range(2, 1000) if settles(n))
    assert seeds_to_settle(0.002, 0.003, 0.005) == expected


def _undecided(std_before: float, std_after: float, n: int = 30, difference: float = 0.0,
               interval: str = "welch"):
    return dataclasses.replace(
        compare_placements(BEFORE, AFTER), verdict="inconclusive", difference=difference,
        std_before=std_before, std_after=std_after, n_before=n, n_after=n, interval=interval)


def test_more_reruns_by_spread_at_equal_spreads_is_seeds_to_settle_for_each():
    needed = seeds_to_settle(0.0, 0.01, DEFAULT_MARGIN, interval="welch")
    more = more_reruns_by_spread(_undecided(0.01, 0.01))

    assert abs(more["before"] - more["after"]) <= 1  # alternating, "before" first on a tie
    assert abs(more["before"] + more["after"] - 2 * (needed - 30)) <= 2


def test_more_reruns_by_spread_go_to_the_noisier_and_take_fewer_in_all():
    std_before, std_after = 0.027, 0.005
    for interval in ("welch", "anytime"):
        needed = seeds_to_settle(0.0, np.sqrt((std_before**2 + std_after**2) / 2),
                                 DEFAULT_MARGIN, interval=interval)
        more = more_reruns_by_spread(_undecided(std_before, std_after, interval=interval))

        assert more["before"] > 5 * more["after"]
        assert more["before"] + more["after"] < 0.75 * 2 * (needed - 30)


def test_below_the_minimum_the_anytime_projection_first_fills_both_placements():
    more = more_reruns_by_spread(_undecided(0.001, 0.001, n=5, interval="anytime"))
    assert more == {"before": MIN_RERUNS_TO_DECIDE - 5, "after": MIN_RERUNS_TO_DECIDE - 5}


def test_more_reruns_by_spread_only_for_an_undecided_verdict_within_the_cap():
    decided = compare_placements(BEFORE, [a + 0.03 for a in AFTER], interval="welch")
    assert decided.verdict == "matters" and more_reruns_by_spread(decided) is None
    on_the_margin = _undecided(0.027, 0.005, difference=-DEFAULT_MARGIN)
    assert more_reruns_by_spread(on_the_margin) is None
